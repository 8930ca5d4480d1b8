"""bench.wrk: wrk's text output, captured from real runs against the bench host."""

from __future__ import annotations

import pytest

from bench import wrk

# The stack's nginx serving hero.png (HTTPS, 64 connections): ms latencies, GB read.
STATIC_IMAGE = """\
Running 5s test @ https://localhost/static/catalog/img/hero.8f6c55c1eadb.png
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    13.52ms    7.78ms  90.02ms   79.90%
    Req/Sec     2.44k   483.17     3.61k    70.00%
  Latency Distribution
     50%   11.72ms
     75%   16.43ms
     90%   23.15ms
     99%   39.78ms
  24312 requests in 5.02s, 4.47GB read
Requests/sec:   4845.13
Transfer/sec:      0.89GB
"""

# The same, 10 s, in a later run.
STATIC_IMAGE_10S = """\
Running 10s test @ https://localhost/static/catalog/img/hero.8f6c55c1eadb.png
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.52ms    8.40ms  84.52ms   81.05%
    Req/Sec     2.70k   422.86     3.50k    62.00%
  Latency Distribution
     50%   12.20ms
     75%   16.16ms
     90%   22.31ms
     99%   41.53ms
  53667 requests in 10.01s, 9.88GB read
Requests/sec:   5360.89
Transfer/sec:      0.99GB
"""
# A missing static file: microsecond latencies and every response a 404.
NOT_FOUND = """\
Running 2s test @ https://localhost/static/missing.png
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   293.97us    0.95ms  15.46ms   95.73%
    Req/Sec    30.61k     3.99k   37.51k    57.14%
  Latency Distribution
     50%  105.00us
     75%  149.00us
     90%  258.00us
     99%    5.24ms
  63772 requests in 2.10s, 36.79MB read
  Non-2xx or 3xx responses: 63772
Requests/sec:  30370.32
Transfer/sec:     17.52MB
"""

# The uncached list with a 1 s timeout: most requests time out.
TIMEOUTS = """\
Running 6s test @ https://localhost/products/?nocache=1
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   576.86ms  265.97ms 980.78ms   52.38%
    Req/Sec    35.32     19.67    70.00     61.04%
  Latency Distribution
     50%  583.97ms
     75%  784.87ms
     90%  948.02ms
     99%  980.78ms
  299 requests in 6.02s, 16.52MB read
  Socket errors: connect 0, read 0, write 0, timeout 257
Requests/sec:     49.65
Transfer/sec:      2.74MB
"""

# runserver at 64 connections: latencies in seconds (and a trailing blank after them).
SECONDS = """\
Running 3s test @ http://localhost:9000/products/?nocache=1
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.26s   131.55ms   1.53s    63.64%
    Req/Sec    12.25     12.12    30.00     75.00%
  Latency Distribution
     50%    1.20s 
     75%    1.38s 
     90%    1.40s 
     99%    1.53s 
  11 requests in 3.01s, 620.18KB read
Requests/sec:      3.66
Transfer/sec:    206.31KB
"""


def test_static_run():
    result = wrk.parse(STATIC_IMAGE)
    assert result.requests == 24312
    assert result.seconds == pytest.approx(5.02)
    assert result.requests_per_s == pytest.approx(4845.13)
    assert result.latency_ms == {"50": 11.72, "75": 16.43, "90": 23.15, "99": 39.78}
    assert result.latency_max_ms == pytest.approx(90.02)
    assert result.bytes_read == pytest.approx(4.47 * 1024**3)
    assert result.errors == 0


def test_microseconds_and_non_2xx():
    result = wrk.parse(NOT_FOUND)
    assert result.latency_ms["50"] == pytest.approx(0.105)
    assert result.latency_ms["99"] == pytest.approx(5.24)
    assert result.latency_max_ms == pytest.approx(15.46)
    assert result.non_2xx_3xx == 63772
    assert result.errors == 63772
    assert result.requests_per_s == pytest.approx(30370.32)


def test_socket_errors():
    result = wrk.parse(TIMEOUTS)
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 257}
    assert result.non_2xx_3xx == 0
    assert result.errors == 257
    assert result.requests == 299
    assert result.requests_per_s == pytest.approx(49.65)


def test_seconds():
    result = wrk.parse(SECONDS)
    assert result.latency_ms == {"50": 1200.0, "75": 1380.0, "90": 1400.0, "99": 1530.0}
    assert result.latency_max_ms == pytest.approx(1530.0)
    assert result.requests == 11
    assert result.bytes_read == pytest.approx(620.18 * 1024)


def test_to_dict_carries_the_error_total():
    assert wrk.parse(TIMEOUTS).to_dict()["errors"] == 257


@pytest.mark.parametrize("text, ms", [("105.00us", 0.105), ("11.72ms", 11.72), ("1.53s", 1530.0),
                                      ("2.00m", 120_000.0)])
def test_time_units(text, ms):
    assert wrk.time_ms(text) == pytest.approx(ms)


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        wrk.time_ms("12ns")


def test_output_without_latency_distribution_is_refused():
    without = "\n".join(line for line in STATIC_IMAGE.splitlines() if "%" not in line or "Latency" in line)
    with pytest.raises(ValueError, match="--latency"):
        wrk.parse(without)


def test_truncated_output_is_refused():
    with pytest.raises(ValueError, match="requests in"):
        wrk.parse(STATIC_IMAGE.split("  24312 requests")[0])


def test_aggregate_of_two_runs():
    first, second = wrk.parse(STATIC_IMAGE).to_dict(), wrk.parse(STATIC_IMAGE_10S).to_dict()
    both = wrk.aggregate([first, second])
    assert both["requests_per_s"] == pytest.approx((4845.13 + 5360.89) / 2)
    assert both["requests_per_s_range"] == [4845.13, 5360.89]
    assert both["latency_ms"]["50"] == pytest.approx((11.72 + 12.20) / 2)
    assert both["latency_max_ms"] == pytest.approx(90.02)
    assert both["requests"] == 24312 + 53667
    assert both["runs"] == 2 and both["errors"] == 0
    timeouts = wrk.aggregate([first, wrk.parse(TIMEOUTS).to_dict()])
    assert timeouts["socket_errors"]["timeout"] == 257 and timeouts["errors"] == 257
    with pytest.raises(ValueError):
        wrk.aggregate([])


def test_command_is_bounded():
    cmd = wrk.command("https://localhost/healthz", 64, 10, {"X-Forwarded-Proto": "https"})
    assert cmd[:6] == ["wrk", "-t2", "-c64", "-d10s", "--latency", "--timeout"]
    assert ["-H", "X-Forwarded-Proto: https"] == cmd[7:9]
    assert cmd[-1] == "https://localhost/healthz"
    assert wrk.command("http://x/", 1, 5)[1] == "-t1"

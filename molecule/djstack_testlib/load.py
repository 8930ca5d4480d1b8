"""A bounded load generator run inside the test host against its own nginx, so a
test can count every failed or non-2xx response while a deploy or rollback runs.

It runs as a transient systemd unit; stop() ends it and returns its tally. Each
connection comes from a loopback address of its own, as separate users do: nginx
rate-limits per address, loopback included, so a connection that must never be
refused stays below the site's rate (pause >= 1 / rate).

With `variants` (lists of extra headers, e.g. with and without Accept-Encoding: gzip)
each path is fetched once with each; the tally then also names every failed
(status, path, variant) and keeps the distinct bodies (SHA-256) each got.
"""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field

from testinfra.host import Host

UNIT = "djstack-load"
RESULT = "/run/djstack-load.json"
STOP = "/run/djstack-load.stop"

# Runs with the host's python3: only the standard library. Each worker keeps one
# keep-alive connection from its own source address, as a browser would, and
# reconnects when nginx closes it.
_SCRIPT = r"""
import hashlib, http.client, json, socket, ssl, sys, threading, time, os

spec = json.loads(sys.argv[1])
deadline = time.monotonic() + spec["max_seconds"]
lock = threading.Lock()
tally = {"requests": 0, "statuses": {}, "errors": {}, "releases": {}, "max_latency_ms": 0.0,
         "failures": {}, "bodies": {}}
variants = spec["variants"] or [[]]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE


def connect(source):
    raw = socket.create_connection(("127.0.0.1", 443), timeout=spec["timeout"], source_address=(source, 0))
    conn = http.client.HTTPSConnection(spec["host"], 443, timeout=spec["timeout"], context=ctx)
    conn.sock = ctx.wrap_socket(raw, server_hostname=spec["host"])
    return conn


def worker(n):
    conn = None
    i = n
    source = spec["sources"][n % len(spec["sources"])]
    while time.monotonic() < deadline and not os.path.exists(spec["stop"]):
        item = i % (len(spec["paths"]) * len(variants))
        path, variant = spec["paths"][item // len(variants)], item % len(variants)
        i += 1
        start = time.monotonic()
        where = f"{path} {variant}"
        try:
            conn = conn or connect(source)
            conn.request("GET", path, headers=dict(variants[variant], Host=spec["host"]))
            resp = conn.getresponse()
            body = resp.read()
            key, release = str(resp.status), resp.getheader("X-App-Release") or "-"
            if spec["variants"]:
                digest = hashlib.sha256(body).hexdigest()[:16]
                with lock:
                    seen = tally["bodies"].setdefault(where, [])
                    if digest not in seen and len(seen) < 8:
                        seen.append(digest)
                    if key != "200":
                        tally["failures"][f"{key} {where}"] = tally["failures"].get(f"{key} {where}", 0) + 1
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as exc:  # every failure counts; the test reports them
            key, release = None, None
            with lock:
                name = type(exc).__name__
                tally["errors"][name] = tally["errors"].get(name, 0) + 1
                if spec["variants"]:
                    tally["failures"][f"{name} {where}"] = tally["failures"].get(f"{name} {where}", 0) + 1
            if conn is not None:
                conn.close()
            conn = None
        elapsed = (time.monotonic() - start) * 1000
        with lock:
            tally["requests"] += 1
            tally["max_latency_ms"] = max(tally["max_latency_ms"], elapsed)
            if key is not None:
                tally["statuses"][key] = tally["statuses"].get(key, 0) + 1
                tally["releases"][release] = tally["releases"].get(release, 0) + 1
        time.sleep(spec["pause"])


threads = [threading.Thread(target=worker, args=(n,)) for n in range(spec["connections"])]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(spec["result"] + ".tmp", "w") as out:
    json.dump(tally, out)
os.replace(spec["result"] + ".tmp", spec["result"])
"""


@dataclass
class Tally:
    requests: int
    statuses: dict[str, int]
    errors: dict[str, int]
    releases: dict[str, int]
    max_latency_ms: float
    # With variants: "<status or error> <path> <variant index>" -> count, and
    # "<path> <variant index>" -> the distinct bodies' digests.
    failures: dict[str, int] = field(default_factory=dict)
    bodies: dict[str, list[str]] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Requests that did not get a 2xx answer (errors or other statuses)."""
        return sum(self.errors.values()) + sum(n for s, n in self.statuses.items() if not s.startswith("2"))


def start(host: Host, domain: str, paths: list[str], connections: int = 4, max_seconds: int = 600,
          pause: float = 0.12, timeout: float = 30, sources: list[str] | None = None,
          variants: list[dict[str, str]] | None = None) -> None:
    """Connection n comes from sources[n % len(sources)]; by default each from its own
    127.0.1.x. The default pause keeps one connection under 10 requests/s, the site's rate.
    `variants`: fetch every path once with each of these sets of extra headers."""
    sources = sources or [f"127.0.1.{n + 1}" for n in range(connections)]
    spec = {"host": domain, "paths": paths, "connections": connections, "max_seconds": max_seconds,
            "pause": pause, "timeout": timeout, "stop": STOP, "result": RESULT, "sources": sources,
            "variants": variants or []}
    host.run(f"rm -f {STOP} {RESULT}; systemctl reset-failed {UNIT} 2>/dev/null")
    host.check_output(
        f"systemd-run --unit {UNIT} --collect --quiet /usr/bin/python3 -c {shlex.quote(_SCRIPT)} "
        f"{shlex.quote(json.dumps(spec))}")


def stop(host: Host, wait_seconds: float = 60) -> Tally:
    host.check_output(f"touch {STOP}")
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if host.file(RESULT).exists:
            return Tally(**json.loads(host.file(RESULT).content_string))
        time.sleep(0.5)
    raise AssertionError(f"the load generator wrote no result: {host.run(f'journalctl -u {UNIT} -o cat').stdout}")

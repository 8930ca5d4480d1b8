"""results.md rendering, ratios, goals and chart series, from data the bench's parsers made
out of real outputs (the samples of the other test_bench_* modules)."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest

from bench import ansible_output, chart, memory, report, runner, wrk
from bench import security as parse_security
from bench.sections import REGISTRY
from bench.sections import deploy, dynamic, provisioning, security, static
from bench.sections import memory as memory_section
from bench.sections.base import ratio, table
from tests import test_bench_ansible as ansible_samples
from tests import test_bench_memory as memory_samples
from tests import test_bench_security as security_samples
from tests import test_bench_wrk as wrk_samples

# What runner.STORED_NAMES printed through `/srv/demo/bin/manage shell -c` on the bench host.
STORED_NAMES_OUTPUT = """\
7 objects imported automatically (use -v 2 for details).

{"css": "catalog/css/site.0249befa7093.css", "image": "catalog/img/hero.8f6c55c1eadb.png"}
"""


def run_of(sample: str) -> dict:
    return wrk.parse(sample).to_dict()


@pytest.fixture
def static_data() -> dict:
    stack = {"path": "/static/catalog/img/hero.8f6c55c1eadb.png", "status": "HTTP/1.1 200 OK", "bytes": 196992,
             "wrk": wrk.aggregate([run_of(wrk_samples.STATIC_IMAGE), run_of(wrk_samples.STATIC_IMAGE_10S)])}
    ceiling = dict(stack, wrk=wrk.aggregate([run_of(wrk_samples.NOT_FOUND)]))
    dev = {"path": "/static/catalog/img/hero.png", "status": "HTTP/1.1 200 OK", "bytes": 196992,
           "wrk": wrk.aggregate([run_of(wrk_samples.SECONDS)])}
    return {"connections": 64, "seconds": 5, "repeats": 2, "results": {
        "stack": {"image": stack}, "ceiling": {"image": ceiling}, "runserver": {"image": dev},
        "gunicorn": {"image": {"path": "/static/x.png", "status": "HTTP/1.1 502 Bad Gateway", "bytes": None}}}}


@pytest.fixture
def dynamic_data() -> dict:
    runs = {"1": run_of(wrk_samples.STATIC_IMAGE), "16": run_of(wrk_samples.TIMEOUTS)}
    return {"seconds": 5, "connections": [1, 16], "products": 200, "results": {
        "stack": {"cached": {"status": "HTTP/1.1 200 OK", "x_cache": "hit", "bytes": 57312, "runs": runs},
                  "uncached": {"status": "HTTP/1.1 200 OK", "x_cache": "miss", "bytes": 57312, "runs": runs}},
        "runserver": {"cached": {"status": "HTTP/1.1 200 OK", "x_cache": "hit", "bytes": 57312,
                                 "runs": {"1": run_of(wrk_samples.SECONDS)}}}}}


def provisioning_data(second_changed: int) -> dict:
    first = ansible_samples.START + ansible_samples.FIRST_RUN_END
    recap = ansible_output.recap(first)["bench"]
    slowest = [[t.name, t.seconds] for t in ansible_output.task_times(first)[:10]]
    return {"host_start_seconds": 8.2, "runs": [
        {"key": "first", "label": "first run, fresh host", "seconds": 83.1, "returncode": 0, "recap": recap,
         "slowest": slowest},
        {"key": "second", "label": "second run, no change expected", "seconds": 35.8, "returncode": 0,
         "recap": dict(recap, changed=second_changed), "slowest": slowest}]}


def memory_data() -> dict:
    groups = memory.classify(memory_samples.MAIN_PIDS, memory.process_table(memory_samples.PS))
    processes = memory.measure(groups, memory.rollups(memory_samples.ROLLUPS))
    summary = memory.summarise(processes)
    return {"workers": 5, "limits": {"memory_mb": 512.0, "cpus": 1.0}, "load_path": "/products/?nocache=1",
            "connections": 64, "seconds": 30, "oom_kills_since_start": 0,
            "idle": {"summary": summary, "processes": memory.as_dicts(processes)},
            "under_load": {"summary": memory.peak([summary, summary]), "samples": 2},
            "load": run_of(wrk_samples.TIMEOUTS), "container_peak_mb": 307.0,
            "oom_kills": memory.oom_kills(memory_samples.OOM_CONTROL_KILLED),
            "worker_timeouts": memory_section.worker_timeouts(memory_samples.JOURNAL_TIMEOUT),
            "docker_oom_killed": "false"}


def security_data() -> dict:
    exposure = {u: asdict(parse_security.exposure(t)) for u, t in
                (("demo.service", security_samples.DEMO_ANALYZE), ("nginx.service", security_samples.NGINX_ANALYZE))}
    exposure["memcached.service"] = dict(exposure["nginx.service"], unit="memcached.service", score=3.4,
                                         level="MEDIUM")
    tls = {"tls1": asdict(parse_security.handshake("TLSv1", 1, security_samples.TLS1_SITE)),
           "tls1_1": asdict(parse_security.handshake("TLSv1.1", 1, security_samples.TLS1_SITE)),
           "tls1_2": asdict(parse_security.handshake("TLSv1.2", 0, security_samples.TLS13_SITE)),
           "tls1_3": asdict(parse_security.handshake("TLSv1.3", 0, security_samples.TLS13_SITE))}
    control = {flag: asdict(parse_security.handshake(p["protocol"], 0, security_samples.TLS1_CONTROL))
               for flag, p in tls.items()}
    issues, ids = parse_security.check_deploy(security_samples.CHECK_ISSUES)
    status, page = parse_security.response_headers(security_samples.PAGE_HEAD)
    _, static_head = parse_security.response_headers(security_samples.STATIC_HEAD)
    return {"exposure": exposure, "tls": tls, "tls_control": control,
            "check_deploy": {"issues": issues, "ids": ids, "output": security_samples.CHECK_ISSUES},
            "headers": {"page": {"path": "/products/", "status": status, "headers": page},
                        "static file": {"path": "/static/x.css", "status": status, "headers": static_head}}}


@pytest.fixture
def results(static_data, dynamic_data) -> dict:
    return {"meta": {"date": "2026-11-22 20:30 UTC", "seconds": 600.0,
                     "controller": {"cpu_model": "Test CPU", "cores": 2, "memory_gb": 23.5, "os": "Debian",
                                    "kernel": "6.1"},
                     "host": {"container": "djstack-bench", "image": "djstack-systemd:debian12",
                              "image_id": "288991286355", "debian": "Debian 12.12",
                              "docker_args": ["--memory", "512m", "--cpus", "1"], "overrides": "`site_domain`"},
                     "versions": {"wrk (controller)": "wrk debian/4.1.0-3+b2 [epoll]"},
                     "load": [{"section": "provisioning", "load1": 0.42, "others": []},
                              {"section": "static", "load1": 3.1, "others": ["djstack-stack-debian12"]}]},
            "sections": {"provisioning": provisioning_data(2), "security": security_data(), "memory": memory_data(),
                         "static": static_data, "dynamic": dynamic_data,
                         "deploy": deploy_data(wrk_samples.TIMEOUTS)}}


def test_ratio():
    assert ratio(10.0, 4.0) == 2.5
    assert ratio(None, 4.0) is None
    assert ratio(10.0, 0.0) is None


STACK_MEAN = (4845.13 + 5360.89) / 2


def test_static_ratios_come_from_the_runs(static_data):
    rat = static.ratios(static_data)["image"]
    assert rat["stack/ceiling"] == pytest.approx(STACK_MEAN / 30370.32)
    assert rat["stack/runserver"] == pytest.approx(STACK_MEAN / 3.66)
    assert static.ratios(static_data)["css"] == {"stack/ceiling": None, "stack/runserver": None}


def test_static_render(static_data):
    text = "\n".join(static.render(static_data))
    assert f"| {STACK_MEAN:,.0f} | 4,845–5,361 | 11.96 | 40.66 | 0 |" in text
    assert f"| image | {STACK_MEAN / 30370.32:.2f} | {STACK_MEAN / 3.66:,.2f} |" in text
    assert "Each server 2 times" in text
    assert "| css | – | – |" in text
    assert "502 Bad Gateway" in text  # a target that did not answer 200 is shown, not dropped


def test_dynamic_render_and_goals(dynamic_data):
    text = "\n".join(dynamic.render(dynamic_data))
    assert "| `/products/` | nginx → gunicorn (HTTPS) | 16 | 50 | 584.0 | 980.8 | 980.8 | 257 |" in text
    assert f"| `/products/` | {4845.13 / 3.66:,.2f} | – |" in text
    # Both stack rows use the same runs, so the cache gain is 1 at each connection count.
    assert "| cache gain: `/products/` / `?nocache=1`, nginx → gunicorn | 1.00 | 1.00 |" in text
    met = {g.goal: g.met for g in dynamic.goals(dynamic_data)}
    assert met == {"`/products/` answers X-Cache: hit": True, "`/products/?nocache=1` answers X-Cache: bypass": False}


def test_provisioning_goals():
    assert all(g.met for g in provisioning.goals(provisioning_data(0)))
    missed = [g for g in provisioning.goals(provisioning_data(2)) if not g.met]
    assert [(g.goal, g.detail) for g in missed] == [("a converged host reports changed=0", "changed=2")]


def test_provisioning_render_lists_ten_tasks():
    text = "\n".join(provisioning.render(provisioning_data(0)))
    assert "| first run, fresh host | 83.1 s | 0 | 135 | 53 | 0 | 19 |" in text
    assert text.count("| base : Install the base packages | 11.01 |") == 2
    assert "Mark the venv complete" not in text  # 19th of 20: not among the ten slowest


def test_memory_goals_report_what_happened():
    goals = {g.goal.split(" holding")[0].split(" (")[0]: g for g in memory_section.goals(memory_data())}
    assert not goals["gunicorn workers sized for the host's limits"].met
    assert goals["gunicorn workers sized for the host's limits"].detail.startswith("5 workers")
    assert not goals["no OOM kill"].met and goals["no OOM kill"].detail.startswith("1 ")
    assert not goals["no worker timeout"].met
    text = "\n".join(memory_section.render(memory_data()))
    assert "**5 gunicorn workers**" in text
    assert "| gunicorn worker | 5 |" in text
    assert "OOM kills during the load: **1**" in text
    assert "sampled 2 times" in text


def test_security_goals():
    goals = security.goals(security_data())
    missed = {g.goal for g in goals if not g.met}
    assert missed == {"`systemd-analyze security memcached.service` at most 3.0",
                      "`check --deploy` reports no issues"}
    text = "\n".join(security.render(security_data()))
    assert "| TLSv1 | **refused** | tlsv1 alert protocol version | accepted |" in text
    assert "security.W004, security.W008, security.W012" in text


def test_whole_report(results):
    text = report.render(results)
    headings = re.findall(r"^## (\d)\. ", text, re.M)
    assert headings == ["1", "2", "3", "4", "5", "6"]
    assert "**2 cores**" in text and "djstack-systemd:debian12" in text and "`288991286355`" in text
    assert "nsenter" in text  # the load path is stated
    goals = report.all_goals(results)
    missed = [g for _, g in goals if not g.met]
    assert f"{len(goals) - len(missed)} of {len(goals)} met" in text
    assert text.count("| **MISSED** |") == len(missed) > 0


def test_machine_load_is_reported(results):
    text = report.render(results)
    assert "provisioning 0.4, static 3.1." in text
    assert "**The machine was shared during this run**" in text and "djstack-stack-debian12" in text
    for entry in results["meta"]["load"]:
        entry["others"] = []
    assert "shared during this run" not in report.render(results)


def test_dynamic_notes_from_the_extra_runs(dynamic_data):
    dynamic_data["stack_worker_boots"] = 7
    dynamic_data["runserver_healthz_close"] = run_of(wrk_samples.NOT_FOUND)
    dynamic_data["results"]["runserver"]["healthz"] = {"status": "HTTP/1.1 200 OK", "x_cache": None, "bytes": 51,
                                                       "runs": {"1": run_of(wrk_samples.SECONDS)}}
    text = "\n".join(dynamic.render(dynamic_data))
    assert "gunicorn booted 7 workers" in text
    assert "did 4 requests/s at p50 1,200.0 ms; the same with `Connection: close` did 30,370 requests/s" in text
    assert "measure a pause" in text
    dynamic_data["runserver_healthz_close"] = run_of(wrk_samples.SECONDS)
    assert "measure a pause" not in "\n".join(dynamic.render(dynamic_data))


def test_a_failed_section_is_shown_and_counted(results):
    results["sections"]["dynamic"] = {"error": "RuntimeError: wrk failed (1)"}
    del results["sections"]["static"]
    text = report.render(results)
    assert "**This section failed:** `RuntimeError: wrk failed (1)`" in text
    assert "| **MISSED** | section 2. Dynamic pages completes |" in text
    assert "## 1. Static files\n\nNot run." in text


def test_registry():
    assert REGISTRY[0].key == "provisioning"  # it stands the host up
    assert sorted(s.number for s in REGISTRY) == [1, 2, 3, 4, 5, 6]
    assert REGISTRY[-1].key == "deploy"  # it changes the release the others measured
    assert len({s.key for s in REGISTRY}) == len(REGISTRY)


def test_chart_series(results):
    servers, series = chart.static_series(results["sections"]["static"])
    assert servers == ["stack", "ceiling", "gunicorn", "runserver"]
    assert series["image"] == [pytest.approx(STACK_MEAN), 30370.32, 0.0, 3.66]
    labels, dyn = chart.dynamic_series(results["sections"]["dynamic"])
    assert labels[:2] == ["cached @1", "cached @16"] and len(labels) == 6
    assert dyn["runserver"][:2] == [3.66, 0.0]
    groups, mem = chart.memory_series(results["sections"]["memory"])
    assert groups[0] == "nginx master" and len(mem["idle PSS"]) == len(groups)


def test_static_names_as_django_stores_them():
    assert runner.static_names(STORED_NAMES_OUTPUT) == {"css": "catalog/css/site.0249befa7093.css",
                                                        "image": "catalog/img/hero.8f6c55c1eadb.png"}
    # Without a manifest entry the storage returns the name unchanged: nothing to measure.
    with pytest.raises(ValueError):
        runner.static_names('{"css": "catalog/css/site.css", "image": "catalog/img/hero.8f6c55c1eadb.png"}')


def test_markdown_table_alignment():
    lines = table(["server", "requests/s", "range", "p50"],
                  [["nginx", "4,845", "4,620–5,851", "11.72"], ["runserver", "–", "", "**1,200.0**"]])
    assert lines[1] == "| --- | ---: | ---: | ---: |"
    assert table(["a", "b"], [["x", "1 MB"], ["y", "refused"]])[1] == "| --- | --- |"
    # Pipes inside a cell are escaped, once.
    assert table(["unmet"], [["RestrictAddressFamilies=~AF_(INET|INET6)"], ["a \\| b"]])[2:] == [
        "| RestrictAddressFamilies=~AF_(INET\\|INET6) |", "| a \\| b |"]


def deploy_data(rollback_sample: str, rollback_exit: int = 0) -> dict:
    def step(playbook: str, sample: str, release: str, returncode: int = 0) -> dict:
        return {"playbook": playbook, "returncode": returncode, "seconds": 41.3, "release_after": release,
                "load": run_of(sample)}
    return {"connections": 16, "path": "/products/", "release_before": "r1", "steps": {
        "deploy": step("deploy.yml", wrk_samples.STATIC_IMAGE, "r2"),
        "rollback": step("rollback.yml", rollback_sample, "r1", rollback_exit)}}


def test_deploy_goals_count_every_failed_request():
    assert all(g.met for g in deploy.goals(deploy_data(wrk_samples.STATIC_IMAGE)))
    missed = [g for g in deploy.goals(deploy_data(wrk_samples.TIMEOUTS)) if not g.met]
    errors = run_of(wrk_samples.TIMEOUTS)["errors"]
    assert errors > 0
    assert [g.goal for g in missed] == ["no failed request during rollback.yml"]
    assert missed[0].detail.startswith(f"exit 0, {errors} errors")


def test_deploy_goal_fails_on_a_failed_playbook_even_without_errors():
    missed = [g for g in deploy.goals(deploy_data(wrk_samples.STATIC_IMAGE, rollback_exit=2)) if not g.met]
    assert [g.goal for g in missed] == ["no failed request during rollback.yml"]


def test_deploy_render():
    text = "\n".join(deploy.render(deploy_data(wrk_samples.STATIC_IMAGE)))
    load = run_of(wrk_samples.STATIC_IMAGE)
    assert f"| {load['requests']:,} | 0 |" in text
    assert "Releases: r1 → r2 → r1." in text

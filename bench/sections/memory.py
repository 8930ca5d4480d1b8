"""3. Memory: RSS and PSS of the stack's processes, idle and under load, on a host limited
to 512 MB and 1 CPU, with the gunicorn worker count the role chose there."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import memory as parse
from bench import wrk
from bench.context import SITE, Context
from bench.sections.base import Data, Goal, Section, num, table

UNITS = {"nginx": "nginx.service", "gunicorn": "demo.service", "memcached": "memcached.service"}
GROUP_ORDER = ["nginx master", "nginx worker", "gunicorn master", "gunicorn worker", "memcached"]
LOAD_PATH = "/products/?nocache=1"
WORKER_BUDGET_MB = 96  # gunicorn_worker_memory_mb: roles/gunicorn/README.md


def gunicorn_workers(conf: str) -> int:
    """`workers = N` from the rendered gunicorn.conf.py."""
    match = re.search(r"^workers\s*=\s*(\d+)\s*$", conf, re.M)
    if match is None:
        raise ValueError("no `workers = N` in gunicorn.conf.py")
    return int(match.group(1))


def worker_timeouts(journal: str) -> int:
    """gunicorn's master logs `[CRITICAL] WORKER TIMEOUT (pid:N)` for each worker it kills."""
    return sum(1 for line in journal.splitlines() if "WORKER TIMEOUT" in line)


def worker_boots(journal: str) -> int:
    """Workers gunicorn started: at start-up, after a timeout, and each max_requests recycle."""
    return sum(1 for line in journal.splitlines() if "Booting worker with pid" in line)


def _cgroup_file(ctx: Context, controller: str, *names: str) -> Path | None:
    """The container's cgroup file, v1 (<controller>/docker/<id>/) or v2 (docker/<id>/)."""
    cid = ctx.host.container_id()
    for base in (Path("/sys/fs/cgroup") / controller / "docker" / cid, Path("/sys/fs/cgroup/docker") / cid,
                 Path("/sys/fs/cgroup/system.slice") / f"docker-{cid}.scope"):
        for name in names:
            if (base / name).exists():
                return base / name
    return None


def _read(path: Path | None) -> str:
    return path.read_text() if path else ""


def oom_kills(ctx: Context) -> int | None:
    path = _cgroup_file(ctx, "memory", "memory.oom_control", "memory.events")
    return parse.oom_kills(_read(path)) if path else None


def limits(ctx: Context) -> Data:
    mem = _read(_cgroup_file(ctx, "memory", "memory.limit_in_bytes", "memory.max")).strip()
    quota = _read(_cgroup_file(ctx, "cpu", "cpu.cfs_quota_us")).strip()
    period = _read(_cgroup_file(ctx, "cpu", "cpu.cfs_period_us")).strip()
    cpu_max = _read(_cgroup_file(ctx, "cpu", "cpu.max")).split()
    if cpu_max and cpu_max[0] != "max":
        quota, period = cpu_max[0], cpu_max[1]
    return {"memory_mb": int(mem) / 2**20 if mem.isdigit() else None,
            "cpus": int(quota) / int(period) if quota.lstrip("-").isdigit() and int(quota) > 0 else None}


def snapshot(ctx: Context, name: str) -> Data:
    main_pids = {name: int(ctx.host.sh(f"systemctl show -p MainPID --value {unit}").strip() or 0)
                 for name, unit in UNITS.items()}
    ps = ctx.host.sh("ps -eo pid=,ppid=,comm=")
    groups = parse.classify(main_pids, parse.process_table(ps))
    out = ctx.host.sh(parse.rollup_script(sorted(groups)), check=False)
    ctx.keep(f"smaps-{name}", ps + out)
    processes = parse.measure(groups, parse.rollups(out))
    return {"summary": parse.summarise(processes), "processes": parse.as_dicts(processes)}


def container_peak_mb(ctx: Context) -> float | None:
    path = _cgroup_file(ctx, "memory", "memory.max_usage_in_bytes", "memory.peak")
    return int(_read(path)) / 2**20 if path else None


def run(ctx: Context) -> Data:
    s = ctx.settings
    conf = ctx.host.sh("cat /etc/demo/gunicorn.conf.py")
    data: Data = {"workers": gunicorn_workers(conf), "limits": limits(ctx), "load_path": LOAD_PATH,
                  "connections": s.memory_load_connections, "seconds": s.memory_load_seconds}
    data["oom_kills_since_start"] = oom_kills(ctx)
    ctx.log("memory: idle snapshot")
    data["idle"] = snapshot(ctx, "idle")
    # Peak of the container's memory during the load only (v1 lets root reset it).
    reset = _cgroup_file(ctx, "memory", "memory.max_usage_in_bytes")
    if reset:
        subprocess.run(["sh", "-c", f"echo 0 > {reset}"], check=False)
    oom_before = oom_kills(ctx)
    since = int(ctx.host.sh("date +%s").strip())
    cmd = wrk.command(SITE + LOAD_PATH, s.memory_load_connections, s.memory_load_seconds)
    ctx.log(f"memory: {' '.join(cmd)} while sampling every {s.memory_sample_every_s:.0f}s")
    load = subprocess.Popen(["nsenter", "-t", str(ctx.host.pid()), "-n", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    samples: list[dict[str, dict[str, Any]]] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < s.memory_load_seconds - 1:
            time.sleep(s.memory_sample_every_s)
            samples.append(snapshot(ctx, f"load-{len(samples) + 1}")["summary"])
        out, _ = load.communicate(timeout=s.memory_load_seconds + 60)
    finally:
        if load.poll() is None:
            load.kill()
    ctx.keep("wrk-memory-load", out)
    data["load"] = wrk.parse(out).to_dict()
    data["under_load"] = {"summary": parse.peak(samples), "samples": len(samples)}
    data["container_peak_mb"] = container_peak_mb(ctx)
    oom_after = oom_kills(ctx)
    data["oom_kills"] = None if oom_before is None or oom_after is None else oom_after - oom_before
    journal = ctx.host.sh(f"journalctl -u demo.service --since @{since} --no-pager -o cat", check=False)
    ctx.keep("journal-memory-load", journal)
    data["worker_timeouts"] = worker_timeouts(journal)
    data["docker_oom_killed"] = ctx.controller(["docker", "inspect", "--format", "{{.State.OOMKilled}}",
                                                ctx.host.name])
    return data


def expected_workers(memory_mb: float | None, cpus: float | None, reserve_mb: int = 256,
                     worker_mb: int = WORKER_BUDGET_MB) -> int | None:
    """The role's formula (roles/gunicorn/README.md) applied to the container's limits."""
    if memory_mb is None or cpus is None:
        return None
    vcpus = int(-(-cpus // 1))
    return max(1, min(2 * vcpus + 1, (int(memory_mb) - reserve_mb) // worker_mb))


def goals(data: Data) -> list[Goal]:
    found = []
    want = expected_workers(data["limits"]["memory_mb"], data["limits"]["cpus"])
    found.append(Goal("gunicorn workers sized for the host's limits (512 MB / 1 CPU -> 2)",
                      "roles/gunicorn/README.md (Worker count)", want is not None and data["workers"] == want,
                      f"{data['workers']} workers; the formula on the container's limits gives {want}"))
    found.append(Goal(f"no OOM kill holding {data['connections']} connections for {data['seconds']} s",
                      "issue 7", data["oom_kills"] == 0, f"{data['oom_kills']} (cgroup oom_kill)"))
    found.append(Goal(f"no worker timeout holding {data['connections']} connections for {data['seconds']} s",
                      "issue 7", data["worker_timeouts"] == 0, f"{data['worker_timeouts']} WORKER TIMEOUT"))
    worker = data["under_load"]["summary"].get("gunicorn worker", {})
    largest = worker.get("max_rss_mb")
    found.append(Goal(f"a warmed-up worker stays within gunicorn_worker_memory_mb ({WORKER_BUDGET_MB} MB)",
                      "roles/gunicorn/README.md (Measured)", largest is not None and largest <= WORKER_BUDGET_MB,
                      f"largest worker RSS under load {num(largest, 1)} MB (the README measured 46 MB)"))
    return found


def render(data: Data) -> list[str]:
    lim = data["limits"]
    load = data["load"]
    lines = [f"Container limits as read from its cgroup: memory {num(lim['memory_mb'])} MB, "
             f"CPU {num(lim['cpus'], 1)}. The role chose **{data['workers']} gunicorn workers** "
             f"(`workers =` in /etc/demo/gunicorn.conf.py).", "",
             "Idle: after provisioning and the security probes (a few requests), before any load. "
             f"Under load: {data['connections']} connections for {data['seconds']} s on `{data['load_path']}` "
             "through nginx (the uncached list, the app's heaviest page), "
             f"sampled {data['under_load']['samples']} times; each figure is its largest sample.",
             ""]
    rows = []
    for group in GROUP_ORDER:
        idle = data["idle"]["summary"].get(group)
        busy = data["under_load"]["summary"].get(group)
        if not idle and not busy:
            continue
        idle = idle or {}
        busy = busy or {}
        rows.append([group, str(idle.get("count", "–")), num(idle.get("rss_mb"), 1), num(idle.get("pss_mb"), 1),
                     str(busy.get("count", "–")), num(busy.get("rss_mb"), 1), num(busy.get("pss_mb"), 1),
                     num(busy.get("max_rss_mb"), 1)])
    total_idle = sum(v["pss_mb"] for v in data["idle"]["summary"].values())
    total_busy = sum(v["pss_mb"] for v in data["under_load"]["summary"].values())
    rows.append(["**all of these**", "", "", f"**{num(total_idle, 1)}**", "", "", f"**{num(total_busy, 1)}**", ""])
    lines += table(["process", "idle n", "idle RSS MB", "idle PSS MB", "load n", "load RSS MB", "load PSS MB",
                    "largest RSS MB"], rows)
    errors = ", ".join(f"{k} {v}" for k, v in load["socket_errors"].items())
    lines += ["", "RSS and PSS are summed over the processes of a row (PSS divides shared pages among "
              "the processes sharing them, so PSS sums are what the row costs).", "",
              f"The load itself: {num(load['requests_per_s'], 1)} requests/s, "
              f"p50 {num(load['latency_ms'].get('50'))} ms, p99 {num(load['latency_ms'].get('99'))} ms, "
              f"max {num(load['latency_max_ms'])} ms; "
              f"non-2xx/3xx {load['non_2xx_3xx']}; socket errors: {errors}.", "",
              f"- OOM kills during the load: **{data['oom_kills']}** (cgroup `oom_kill` counter; "
              f"{data['oom_kills_since_start']} before it, since the container started; "
              f"`docker inspect` OOMKilled: {data['docker_oom_killed']}).",
              f"- gunicorn `WORKER TIMEOUT` during the load: **{data['worker_timeouts']}** (journal of demo.service).",
              f"- Container memory peak during the load (cgroup, page cache included): "
              f"{num(data['container_peak_mb'])} MB."]
    return lines


SECTION = Section("memory", 3, "Memory on a 512 MB / 1 CPU host", run, render, goals)

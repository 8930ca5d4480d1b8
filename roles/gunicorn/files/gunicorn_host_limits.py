#!/usr/bin/python3
"""Print the CPUs and memory this host really gives its services, as JSON.

Ansible's facts read /proc/cpuinfo and /proc/meminfo, which inside a container
(or a systemd slice with limits) show the whole machine: a 512 MB container on a
24 GB host would get workers sized for 24 GB and be OOM-killed under load. The
tightest cgroup v2 limit on the way from this process's cgroup up to the root
wins; without limits the machine's own numbers stand.

Only the standard library: it runs with Debian's python3 on the target.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path


def cgroup_dirs(proc_cgroup: str, mount: Path) -> list[Path]:
    """This cgroup and its ancestors under the cgroup v2 mount, innermost first."""
    path = next((line.split("::", 1)[1] for line in proc_cgroup.splitlines() if line.startswith("0::")), None)
    if path is None:
        return []
    parts = [p for p in path.strip().split("/") if p]
    return [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        return None


def memory_limit_mb(dirs: list[Path]) -> int | None:
    limits = [int(v) for v in (_read(d / "memory.max") for d in dirs) if v and v != "max"]
    return min(limits) // (1024 * 1024) if limits else None


def cpu_limit(dirs: list[Path]) -> int | None:
    """CPUs a quota allows (cpu.max "quota period"), rounded up: 1.5 CPUs count as 2."""
    limits = []
    for value in (_read(d / "cpu.max") for d in dirs):
        if not value:
            continue
        quota, _, period = value.partition(" ")
        if quota != "max" and period:
            limits.append(math.ceil(int(quota) / int(period)))
    return min(limits) if limits else None


def meminfo_mb(meminfo: str) -> int:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ValueError("no MemTotal in /proc/meminfo")


def limits(proc_cgroup: str, meminfo: str, cpus: int, mount: Path = Path("/sys/fs/cgroup")) -> dict[str, object]:
    dirs = cgroup_dirs(proc_cgroup, mount)
    machine_mb = meminfo_mb(meminfo)
    memory_mb, cpu_quota = memory_limit_mb(dirs), cpu_limit(dirs)
    return {
        "memory_mb": min(machine_mb, memory_mb) if memory_mb is not None else machine_mb,
        "vcpus": max(1, min(cpus, cpu_quota) if cpu_quota is not None else cpus),
        "memory_limited": memory_mb is not None and memory_mb < machine_mb,
        "cpu_limited": cpu_quota is not None and cpu_quota < cpus,
    }


def main() -> int:
    result = limits(
        Path("/proc/self/cgroup").read_text(encoding="ascii"),
        Path("/proc/meminfo").read_text(encoding="ascii"),
        len(os.sched_getaffinity(0)),
    )
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

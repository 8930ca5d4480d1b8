#!/usr/bin/python3
"""Print the CPUs and memory this host really gives its services, as JSON.

Ansible's facts read /proc/cpuinfo and /proc/meminfo, which inside a container
(or a systemd slice with limits) show the whole machine: a 512 MB container on a
24 GB host would get workers sized for 24 GB and be OOM-killed under load. The
tightest cgroup limit (v2, or v1 on hosts that still run it) on the way from
this process's cgroup up to the root wins; without limits the machine's own
numbers stand.

Only the standard library: it runs with Debian's python3 on the target.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path


def _ancestors(base: Path, path: str) -> list[Path]:
    parts = [p for p in path.strip().split("/") if p]
    return [base.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def cgroup_dirs(proc_cgroup: str, mount: Path) -> list[Path]:
    """This cgroup and its ancestors under the cgroup v2 mount, innermost first."""
    path = next((line.split("::", 1)[1] for line in proc_cgroup.splitlines() if line.startswith("0::")), None)
    return [] if path is None else _ancestors(mount, path)


def cgroup_v1_dirs(proc_cgroup: str, mount: Path, controller: str) -> list[Path]:
    """The same for one cgroup v1 controller ("N:cpu,cpuacct:/docker/<id>" lives under
    <mount>/cpu,cpuacct/docker/<id>): hosts that still run the v1 hierarchy."""
    for line in proc_cgroup.splitlines():
        _, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if controller in controllers.split(","):
            return _ancestors(mount / controllers, path)
    return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except OSError:
        return None


def memory_limit_mb(dirs: list[Path]) -> int | None:
    """memory.max (v2) or memory.limit_in_bytes (v1; "unlimited" is a huge number,
    which the machine's own memory caps anyway)."""
    values = (_read(d / name) for d in dirs for name in ("memory.max", "memory.limit_in_bytes"))
    limits = [int(v) for v in values if v and v != "max"]
    return min(limits) // (1024 * 1024) if limits else None


def cpu_limit(dirs: list[Path]) -> int | None:
    """CPUs a quota allows, rounded up (1.5 CPUs count as 2): cpu.max "quota period"
    (v2) or cpu.cfs_quota_us / cpu.cfs_period_us (v1, -1 for none)."""
    limits = []
    for d in dirs:
        value = _read(d / "cpu.max")
        if value:
            quota, _, period = value.partition(" ")
        else:
            quota, period = _read(d / "cpu.cfs_quota_us") or "", _read(d / "cpu.cfs_period_us") or ""
        if quota not in ("", "max", "-1") and period:
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
    memory_mb = memory_limit_mb(dirs + cgroup_v1_dirs(proc_cgroup, mount, "memory"))
    cpu_quota = cpu_limit(dirs + cgroup_v1_dirs(proc_cgroup, mount, "cpu"))
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

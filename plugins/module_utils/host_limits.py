# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CPUs and memory this host really gives its services.

Ansible's facts read /proc/cpuinfo and /proc/meminfo, which inside a container
(or a systemd slice with limits) show the whole machine: a 512 MB container on a
24 GB host would get workers (or a cache) sized for 24 GB and be OOM-killed
under load. The tightest cgroup limit (v2, or v1 on hosts that still run it) on
the way from this process's cgroup up to the root wins; without limits the
machine's own numbers stand.

Every reader takes its root paths, so tests can build fake /proc and
/sys/fs/cgroup trees.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

PROC = Path("/proc")
CGROUP_MOUNT = Path("/sys/fs/cgroup")


def _ancestors(base: Path, path: str) -> list[Path]:
    parts = [p for p in path.strip().split("/") if p]
    return [base.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def cgroup_dirs(proc_cgroup: str, mount: Path) -> list[Path]:
    """This cgroup and its ancestors under the cgroup v2 mount, innermost first."""
    path = next((line.split("::", 1)[1] for line in proc_cgroup.splitlines() if line.startswith("0::")), None)
    return [] if path is None else _ancestors(mount, path)


def cgroup_v1_dirs(proc_cgroup: str, mount: Path, controller: str) -> list[Path]:
    """The same for one cgroup v1 controller ("N:cpu,cpuacct:/docker/<id>" lives under
    <mount>/cpu,cpuacct/docker/<id>). A container that sees only its own cgroup at
    the controller's mount still finds its limit there: the walk ends at the mount."""
    for line in proc_cgroup.splitlines():
        # "hierarchy-id:controllers:path"
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        controllers, path = fields[1], fields[2]
        if controller in controllers.split(","):
            return _ancestors(mount / controllers, path)
    return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def memory_limit_mb(dirs: list[Path]) -> int | None:
    """The tightest memory.max (v2) or memory.limit_in_bytes (v1; "unlimited" is a
    huge number, which the machine's own memory caps anyway), in MB."""
    values = (_read(d / name) for d in dirs for name in ("memory.max", "memory.limit_in_bytes"))
    limits = [int(v) for v in values if v and v.isdigit()]
    return min(limits) // (1024 * 1024) if limits else None


def cpu_limit(dirs: list[Path]) -> int | None:
    """CPUs the tightest quota allows, rounded up (1.5 CPUs count as 2): cpu.max
    "quota period" (v2) or cpu.cfs_quota_us / cpu.cfs_period_us (v1, -1 for none)."""
    limits = []
    for d in dirs:
        value = _read(d / "cpu.max")
        if value:
            quota, period = (value.split(" ", 1) + [""])[:2]
        else:
            quota, period = _read(d / "cpu.cfs_quota_us") or "", _read(d / "cpu.cfs_period_us") or ""
        if quota.isdigit() and period.isdigit() and int(period) > 0:
            limits.append(math.ceil(int(quota) / int(period)))
    return min(limits) if limits else None


def meminfo_mb(meminfo: str) -> int:
    """MemTotal of /proc/meminfo, in MB."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ValueError("no MemTotal in /proc/meminfo")


def _tightest(machine: int, v2: int | None, v1: int | None) -> tuple[int, str | None]:
    """The smallest of the machine's number and the limits; which cgroup version set it."""
    value, source = machine, None
    for limit, version in ((v2, "v2"), (v1, "v1")):
        if limit is not None and limit < value:
            value, source = limit, version
    return value, source


def limits(proc_cgroup: str, meminfo: str, cpus: int, mount: Path = CGROUP_MOUNT) -> dict[str, object]:
    """vcpus and memory_mb with the cgroup limits applied, whether each was limited,
    and source: "machine", or the cgroup version(s) whose limit won ("cgroup v2")."""
    v2 = cgroup_dirs(proc_cgroup, mount)
    memory_mb, memory_source = _tightest(
        meminfo_mb(meminfo), memory_limit_mb(v2), memory_limit_mb(cgroup_v1_dirs(proc_cgroup, mount, "memory")))
    vcpus, cpu_source = _tightest(cpus, cpu_limit(v2), cpu_limit(cgroup_v1_dirs(proc_cgroup, mount, "cpu")))
    versions = sorted({s for s in (memory_source, cpu_source) if s}, reverse=True)
    return {
        "memory_mb": memory_mb,
        # A quota below one CPU still runs one worker.
        "vcpus": max(1, vcpus),
        "memory_limited": memory_source is not None,
        "cpu_limited": cpu_source is not None,
        "source": "cgroup " + "+".join(versions) if versions else "machine",
    }


def usable_cpus(proc: Path = PROC) -> int:
    """CPUs this process may run on (a cpuset or taskset narrows them): the
    Cpus_allowed_list of <proc>/self/status, like os.sched_getaffinity."""
    status = _read(proc / "self" / "status") or ""
    for line in status.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            count = 0
            for part in line.split(":", 1)[1].strip().split(","):
                bounds = part.strip().split("-", 1)
                if all(b.isdigit() for b in bounds):
                    count += int(bounds[-1]) - int(bounds[0]) + 1
            if count:
                return count
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def host_limits(proc: Path = PROC, mount: Path = CGROUP_MOUNT) -> dict[str, object]:
    """limits() of the calling process, read from <proc> and the cgroup mount.
    Raises OSError or ValueError when /proc cannot tell (not Linux)."""
    return limits(
        (proc / "self" / "cgroup").read_text(encoding="ascii"),
        (proc / "meminfo").read_text(encoding="ascii"),
        usable_cpus(proc),
        mount,
    )

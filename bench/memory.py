"""Memory of the stack's processes: /proc/PID/smaps_rollup, the process tree, and the
container's out-of-memory counters (cgroup v1 memory.oom_control or v2 memory.events)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

ROLLUP_MARK = "==> smaps_rollup"


def flat_keyed(text: str) -> dict[str, int]:
    """'key value' lines (memory.oom_control, memory.events) -> {key: value}."""
    return {k: int(v) for k, v in re.findall(r"^(\w+)\s+(\d+)\s*$", text, re.M)}


def oom_kills(text: str) -> int:
    """The oom_kill counter of memory.oom_control (v1) or memory.events (v2)."""
    counters = flat_keyed(text)
    if "oom_kill" not in counters:
        raise ValueError(f"no oom_kill counter in:\n{text}")
    return counters["oom_kill"]


def smaps_rollup(text: str) -> dict[str, int]:
    """/proc/PID/smaps_rollup -> {"Rss": kB, "Pss": kB, ...}."""
    fields = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB\s*$", text, re.M)}
    if "Rss" not in fields or "Pss" not in fields:
        raise ValueError(f"not an smaps_rollup:\n{text}")
    return fields


def rollup_script(pids: list[int]) -> str:
    """Shell that prints every PID's smaps_rollup after a marker line (a PID that has
    exited meanwhile, e.g. a recycled worker, prints nothing)."""
    return "; ".join(f"echo '{ROLLUP_MARK} {pid}'; cat /proc/{pid}/smaps_rollup 2>/dev/null" for pid in pids)


def rollups(output: str) -> dict[int, dict[str, int]]:
    """Output of rollup_script -> {pid: fields}, skipping PIDs that printed nothing."""
    result = {}
    for chunk in output.split(ROLLUP_MARK)[1:]:
        head, _, body = chunk.partition("\n")
        if "Rss:" in body:
            result[int(head.strip())] = smaps_rollup(body)
    return result


def process_table(ps_output: str) -> dict[int, tuple[int, str]]:
    """`ps -eo pid=,ppid=,comm=` -> {pid: (ppid, comm)}."""
    table = {}
    for line in ps_output.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            table[int(parts[0])] = (int(parts[1]), parts[2].strip())
    return table


def children(table: dict[int, tuple[int, str]], parent: int) -> list[int]:
    return sorted(pid for pid, (ppid, _) in table.items() if ppid == parent)


@dataclass(frozen=True)
class ProcessMemory:
    group: str  # "nginx master", "gunicorn worker", ...
    pid: int
    rss_kb: int
    pss_kb: int


def classify(main_pids: dict[str, int], table: dict[int, tuple[int, str]]) -> dict[int, str]:
    """{pid: group} for each service's main process ("<name> master") and its children
    ("<name> worker"); a service without children is just "<name>"."""
    groups = {}
    for name, main in main_pids.items():
        if main <= 0:
            continue
        kids = children(table, main)
        groups[main] = f"{name} master" if kids else name
        for kid in kids:
            groups[kid] = f"{name} worker"
    return groups


def measure(groups: dict[int, str], rollup: dict[int, dict[str, int]]) -> list[ProcessMemory]:
    return [ProcessMemory(groups[pid], pid, fields["Rss"], fields["Pss"])
            for pid, fields in sorted(rollup.items()) if pid in groups]


def summarise(processes: list[ProcessMemory]) -> dict[str, dict[str, Any]]:
    """Per group: process count, RSS and PSS totals and the largest process's RSS (MiB).
    PSS shares pages among the processes mapping them, so PSS totals add up; RSS ones
    count shared pages once per process."""
    summary: dict[str, dict[str, Any]] = {}
    for proc in processes:
        entry = summary.setdefault(proc.group, {"count": 0, "rss_mb": 0.0, "pss_mb": 0.0, "max_rss_mb": 0.0})
        entry["count"] += 1
        entry["rss_mb"] += proc.rss_kb / 1024
        entry["pss_mb"] += proc.pss_kb / 1024
        entry["max_rss_mb"] = max(entry["max_rss_mb"], proc.rss_kb / 1024)
    return summary


def peak(samples: list[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """The largest value of each figure over several summaries (each figure on its own)."""
    result: dict[str, dict[str, Any]] = {}
    for sample in samples:
        for group, figures in sample.items():
            into = result.setdefault(group, dict.fromkeys(figures, 0))
            for key, value in figures.items():
                into[key] = max(into.get(key, 0), value)
    return result


def as_dicts(processes: list[ProcessMemory]) -> list[dict[str, Any]]:
    return [asdict(p) for p in processes]

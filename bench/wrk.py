"""wrk: the command line the bench uses, and its text output parsed into numbers."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Any

# wrk prints times with these units (src/units.c: us, ms, s, then minutes and hours).
_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_BYTE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def time_ms(text: str) -> float:
    """'11.72ms' -> 11.72, '105.00us' -> 0.105, '1.02s' -> 1020.0."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if not match:
        raise ValueError(f"not a wrk time: {text!r}")
    return float(match.group(1)) * _TIME_UNITS_MS[match.group(2)]


def size_bytes(text: str) -> float:
    """'4.47GB' -> bytes (wrk's units are binary: 1KB = 1024 B)."""
    match = re.fullmatch(r"([\d.]+)(B|KB|MB|GB|TB)", text.strip())
    if not match:
        raise ValueError(f"not a wrk size: {text!r}")
    return float(match.group(1)) * _BYTE_UNITS[match.group(2)]


@dataclass
class WrkResult:
    requests: int
    seconds: float
    requests_per_s: float
    latency_ms: dict[str, float]  # percentile ("50", "99", ...) -> ms; timed-out requests are not in it
    latency_max_ms: float
    bytes_read: float
    non_2xx_3xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("connect", "read", "write", "timeout"), 0))

    @property
    def errors(self) -> int:
        return self.non_2xx_3xx + sum(self.socket_errors.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"errors": self.errors}


def parse(output: str) -> WrkResult:
    """Parse `wrk --latency` output; a ValueError names what is missing."""
    def need(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.M)
        if match is None:
            raise ValueError(f"wrk output has no line matching {pattern!r}:\n{output}")
        return match

    total = need(r"^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)), ([\d.]+[KMGT]?B) read")
    rate = need(r"^Requests/sec:\s+([\d.]+)")
    latency = need(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)")
    percentiles = {p: time_ms(v) for p, v in re.findall(r"^\s*(\d+(?:\.\d+)?)%\s+(\S+)\s*$", output, re.M)}
    if not percentiles:
        raise ValueError(f"wrk output has no latency distribution (run with --latency):\n{output}")
    result = WrkResult(
        requests=int(total.group(1)),
        seconds=time_ms(total.group(2)) / 1000,
        requests_per_s=float(rate.group(1)),
        latency_ms=percentiles,
        latency_max_ms=time_ms(latency.group(3)),
        bytes_read=size_bytes(total.group(3)),
    )
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", output, re.M)
    if non_2xx:
        result.non_2xx_3xx = int(non_2xx.group(1))
    socket = re.search(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output, re.M)
    if socket:
        result.socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, socket.groups())))
    return result


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of one target (to_dict form) as one: the mean rate and percentiles, the
    worst maximum, summed counts, and the lowest and highest rate to show the spread."""
    if not runs:
        raise ValueError("no runs to aggregate")
    keys = set.intersection(*(set(r["latency_ms"]) for r in runs))
    errors = {k: sum(r["socket_errors"][k] for r in runs) for k in runs[0]["socket_errors"]}
    return {
        "requests": sum(r["requests"] for r in runs),
        "seconds": sum(r["seconds"] for r in runs),
        "requests_per_s": fmean(r["requests_per_s"] for r in runs),
        "requests_per_s_range": [min(r["requests_per_s"] for r in runs), max(r["requests_per_s"] for r in runs)],
        "latency_ms": {k: fmean(r["latency_ms"][k] for r in runs) for k in sorted(keys, key=float)},
        "latency_max_ms": max(r["latency_max_ms"] for r in runs),
        "bytes_read": sum(r["bytes_read"] for r in runs),
        "non_2xx_3xx": sum(r["non_2xx_3xx"] for r in runs),
        "socket_errors": errors,
        "errors": sum(r["errors"] for r in runs),
        "runs": len(runs),
    }


def command(url: str, connections: int, seconds: int, headers: dict[str, str] | None = None,
            timeout_s: int = 10) -> list[str]:
    """Bounded by construction: a fixed duration and connection count, and a request
    timeout long enough that slow answers count as latency, not as errors."""
    threads = max(1, min(2, connections))
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", f"{timeout_s}s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    return [*cmd, url]

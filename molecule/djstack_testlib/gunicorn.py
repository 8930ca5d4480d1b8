"""Look at a gunicorn service from inside the test host: its master and workers."""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass

from testinfra.host import Host

# One pass over /proc, inside the container; gunicorn workers are the master's
# direct children (no procps in the image, so no pgrep).
_PROCESSES = r"""
import json, os
found = {}
for entry in os.listdir("/proc"):
    if not entry.isdigit():
        continue
    try:
        with open(f"/proc/{entry}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
    except OSError:
        continue  # exited while we looked
    found[entry] = {"ppid": int(fields["PPid"]), "uid": int(fields["Uid"].split()[0]),
                    "rss_kb": int(fields.get("VmRSS", "0 kB").split()[0])}
json.dump(found, __import__("sys").stdout)
"""


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    uid: int  # real uid
    rss_kb: int


def processes(host: Host) -> dict[int, Process]:
    out = host.check_output(shlex.join(["python3", "-c", _PROCESSES]))
    return {int(pid): Process(int(pid), **info) for pid, info in json.loads(out).items()}


def main_pid(host: Host, unit: str) -> int:
    return int(host.check_output(f"systemctl show --property MainPID --value {shlex.quote(unit)}"))


def workers(host: Host, master: int) -> list[Process]:
    return sorted((p for p in processes(host).values() if p.ppid == master), key=lambda p: p.pid)


def wait_for_workers(host: Host, unit: str, count: int, replacing: frozenset[int] = frozenset(),
                     max_seconds: float = 30) -> list[Process]:
    """The service's workers once there are `count` of them and none is in
    `replacing` (old workers a reload retires), or what is there at the deadline.

    Workers come and go asynchronously after a start or a HUP; the deadline only
    bounds the wait, the caller asserts on what it gets.
    """
    deadline = time.monotonic() + max_seconds
    while True:
        current = workers(host, main_pid(host, unit))
        pids = {p.pid for p in current}
        if (len(current) == count and not pids & replacing) or time.monotonic() > deadline:
            return current
        time.sleep(0.5)

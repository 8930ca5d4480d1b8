# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which ansible-playbook run this is, on the controller, and whether a recorded run is over.

A run is named ``<controller host>:<pid>:<start>``: the pid of the ansible-playbook
process and its start time in clock ticks since boot (field 22 of /proc/<pid>/stat),
so a pid that the kernel has since given to another process does not look alive.
A run is "over" only when it is known to be: it ran on this controller and that
process is gone. Anything else (another controller, an unknown pid) may still be
running, and only the user can say it is not.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

PROC = Path("/proc")
UNKNOWN_PID = 0


def _stat_fields(pid: int, proc: Path = PROC) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        text = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ..." - the fields after ")" start at field 3.
    return text[text.rindex(")") + 2:].split()


def start_ticks(pid: int, proc: Path = PROC) -> str:
    fields = _stat_fields(pid, proc)
    return fields[19] if fields and len(fields) > 19 else ""


def _is_playbook(pid: int, proc: Path) -> bool:
    try:
        argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    # Started as a script (python /path/ansible-playbook ...) or directly (#! line).
    return any(Path(arg.decode(errors="replace")).name == "ansible-playbook" for arg in argv[:2])


def playbook_pid(proc: Path = PROC, start: int | None = None) -> int:
    """The ansible-playbook process this code runs under, or UNKNOWN_PID if there is none.

    The templar also runs in the task workers, which are forked from that process (and
    so show the same command line) and exit after their task: the run is the topmost
    ansible-playbook among the ancestors, the one that lives as long as the run.
    """
    pid = os.getpid() if start is None else start
    found = UNKNOWN_PID
    while pid > 1:
        if _is_playbook(pid, proc):
            found = pid
        fields = _stat_fields(pid, proc)
        if not fields:
            break
        pid = int(fields[1])
    return found


def this_run(proc: Path = PROC) -> str:
    pid = playbook_pid(proc)
    return f"{socket.gethostname()}:{pid}:{start_ticks(pid, proc) if pid else ''}"


def is_over(run: str, proc: Path = PROC) -> bool:
    """True only for a run of this controller whose process is gone."""
    parts = str(run).rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid, ticks = parts[0], int(parts[1]), parts[2]
    if host != socket.gethostname() or pid == UNKNOWN_PID or not ticks:
        return False
    return start_ticks(pid, proc) != ticks

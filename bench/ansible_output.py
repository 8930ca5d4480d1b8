"""ansible-playbook output: the PLAY RECAP counts and the ansible.posix.profile_tasks summary."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")
# "role : Task name ----------------- 11.01s"; long names get at least three dashes.
_TASK_LINE = re.compile(r"^(?P<name>.*\S) -{3,} (?P<seconds>\d+(?:\.\d+)?)s\s*$")


@dataclass(frozen=True)
class TaskTime:
    name: str
    seconds: float


def recap(output: str) -> dict[str, dict[str, int]]:
    """Host -> {"ok": .., "changed": .., "failed": ..} from the last PLAY RECAP."""
    start = output.rfind("PLAY RECAP")
    if start < 0:
        raise ValueError("no PLAY RECAP in the ansible-playbook output")
    hosts: dict[str, dict[str, int]] = {}
    for line in output[start:].splitlines()[1:]:
        match = _RECAP_LINE.match(line.strip())
        if match is None:
            if hosts:
                break
            continue
        hosts[match["host"]] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match["counts"])}
    if not hosts:
        raise ValueError("PLAY RECAP lists no host")
    return hosts


def task_times(output: str) -> list[TaskTime]:
    """profile_tasks' closing summary, slowest first (as the callback sorts it)."""
    # ansible-core 2.19's default callback heads it "TASKS RECAP"; older ones print only the rule.
    start = max(output.rfind("TASKS RECAP"), output.rfind("PLAY RECAP"))
    if start < 0:
        raise ValueError("no recap in the ansible-playbook output")
    tasks = []
    for line in output[start:].splitlines():
        match = _TASK_LINE.match(line.rstrip())
        if match:
            tasks.append(TaskTime(match["name"], float(match["seconds"])))
    if not tasks:
        raise ValueError("no profile_tasks summary: is the ansible.posix.profile_tasks callback enabled?")
    return sorted(tasks, key=lambda t: t.seconds, reverse=True)

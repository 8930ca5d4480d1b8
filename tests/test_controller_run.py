"""The controller run's name (lookup djstack.stack.controller_run) and whether a recorded
run is over (filter djstack.stack.run_is_over): the host lock takes over a lock only
when its run is known to be gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from ansible_collections.djstack.stack.plugins.plugin_utils import controller_run as cr

from tests.playbook import run_playbook

HOST = socket.gethostname()


def test_a_live_process_is_not_over() -> None:
    pid = os.getpid()
    assert not cr.is_over(f"{HOST}:{pid}:{cr.start_ticks(pid)}")


def test_a_gone_process_is_over() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    ticks = cr.start_ticks(child.pid)
    assert ticks
    child.kill()
    child.wait()
    assert cr.is_over(f"{HOST}:{child.pid}:{ticks}")


def test_a_reused_pid_is_over() -> None:
    # Same pid, another start time: the process that held the lock is gone.
    pid = os.getpid()
    assert cr.is_over(f"{HOST}:{pid}:{int(cr.start_ticks(pid)) - 1}")


def test_a_run_of_another_controller_is_never_over() -> None:
    assert not cr.is_over("another-controller:999999:1")


def test_an_unknown_run_is_never_over() -> None:
    for run in ("", "garbage", f"{HOST}:0:", f"{HOST}:notapid:1", f"{HOST}:999999:"):
        assert not cr.is_over(run), run


def test_the_run_is_the_ansible_playbook_process(tmp_path: Path) -> None:
    # Named in one task's forked worker, judged in a later task's: the name must be the
    # ansible-playbook process, which lives as long as the run, not the worker that
    # exits after its task.
    playbook = tmp_path / "run.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n  tasks:\n"
        "    - ansible.builtin.set_fact:\n        recorded: \"{{ lookup('djstack.stack.controller_run') }}\"\n"
        "    - ansible.builtin.command: 'true'\n      changed_when: false\n"
        "    - ansible.builtin.debug:\n        msg: \"RUN={{ recorded }} OVER={{ recorded | djstack.stack.run_is_over }}\"\n")
    run = run_playbook(str(playbook))
    assert run.returncode == 0, run.stdout[-3000:]
    name = run.stdout.split("RUN=")[1].split()[0]
    host, pid, ticks = name.rsplit(":", 2)
    assert host == HOST and int(pid) > 0 and ticks
    assert "OVER=False" in run.stdout
    # The run has ended: its name is now over.
    assert cr.is_over(name)


def test_no_playbook_ancestor_gives_an_unknown_pid() -> None:
    # pytest is not ansible-playbook: a name whose pid is unknown, never taken for over.
    assert cr.playbook_pid() == cr.UNKNOWN_PID
    assert cr.this_run() == f"{HOST}:0:"

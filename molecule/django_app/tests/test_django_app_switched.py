"""django_app on its own switches to a release, then a later step fails (pruning).

switched_failure.yml deploys the sample app as "switched" (/srv/switched): a good
release, then a changed copy whose pruning fails after the switch, because a leftover
release directory cannot be removed (a file system is mounted over it), then another
copy whose manage command (django_app_manage_commands) fails: before the switch, and
one whose deploy hook (django_app_deploy_hooks) fails: before the switch too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from testinfra.host import Host

from djstack_testlib.django_app import current_target, history

ROOT = "/srv/switched"
PLAYBOOK = Path(__file__).resolve().parent.parent / "switched_failure.yml"
# Sorts first, so pruning tries it before any real release.
LEFTOVER = f"{ROOT}/releases/00000000T000000Z-leftover"


@dataclass
class Outcome:
    good: str
    failed_run: subprocess.CompletedProcess
    history: list[dict]
    current: str
    command_run: subprocess.CompletedProcess
    history_after_command: list[dict]
    current_after_command: str
    hook_run: subprocess.CompletedProcess
    history_after_hook: list[dict]
    current_after_hook: str


def _play(extra_vars: dict | None = None) -> subprocess.CompletedProcess:
    argv = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", os.environ["MOLECULE_INVENTORY_FILE"],
            str(PLAYBOOK)]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False)


@pytest.fixture(scope="module")
def outcome(host: Host, tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    first = _play()
    assert first.returncode == 0, first.stdout[-4000:]
    good = current_target(host, ROOT).removeprefix("releases/")
    host.check_output(f"mkdir -p {LEFTOVER} && mount -t tmpfs -o size=1m djstack-prune-blocker {LEFTOVER}")
    try:
        # The changed copy side_effect.yml made: a new release.
        changed = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "app-copies" / "changed"
        failed_run = _play({"django_app_local_path": str(changed)})
    finally:
        host.run(f"umount {LEFTOVER}; rmdir {LEFTOVER}")
    after_prune = history(host, ROOT), current_target(host, ROOT)
    # Another revision, whose project command fails.
    third = tmp_path_factory.mktemp("commands") / "app"
    shutil.copytree(changed, third)
    (third / "COMMANDS_RELEASE").write_text("a third revision\n")
    command_run = _play({"django_app_local_path": str(third),
                         "django_app_manage_commands": [{"argv": ["no_such_command"], "changed": "."}]})
    after_command = history(host, ROOT), current_target(host, ROOT)
    fourth = tmp_path_factory.mktemp("hooks") / "app"
    shutil.copytree(changed, fourth)
    (fourth / "HOOKS_RELEASE").write_text("a fourth revision\n")
    hook_run = _play({"django_app_local_path": str(fourth),
                      "django_app_deploy_hooks": [{"point": "after_migrate", "shell": "echo hook-broke >&2; exit 3"}]})
    return Outcome(good, failed_run, *after_prune, command_run, *after_command,
                   hook_run, history(host, ROOT), current_target(host, ROOT))


def test_a_failure_after_the_switch_says_it_was_switched_to_and_what_serves(outcome: Outcome):
    output = outcome.failed_run.stdout + outcome.failed_run.stderr
    assert outcome.failed_run.returncode != 0
    assert '"Prune old releases" after the switch to it' in output, output[-4000:]
    assert f"Serving now: release {outcome.good}." in output
    assert "not switched to" not in output


def test_a_release_failing_after_the_switch_is_recorded_as_failed(outcome: Outcome):
    new = [e for e in outcome.history if e["id"] != outcome.good]
    assert [(e["status"], e["reason"]) for e in new] == [("failed", "Prune old releases")], new


def test_a_release_failing_after_the_switch_gives_current_back(outcome: Outcome):
    assert outcome.current == f"releases/{outcome.good}"


def test_a_failing_manage_command_fails_the_release_before_the_switch(outcome: Outcome):
    output = outcome.command_run.stdout + outcome.command_run.stderr
    assert outcome.command_run.returncode != 0
    assert '"Run the project\'s manage commands" before the switch' in output, output[-4000:]
    assert outcome.current_after_command == f"releases/{outcome.good}"


def test_a_release_whose_manage_command_fails_is_recorded_as_failed(outcome: Outcome):
    new = outcome.history_after_command[len(outcome.history):]
    assert [(e["status"], e["reason"]) for e in new] == [("failed", "Run the project's manage commands")], new


def test_a_failing_deploy_hook_fails_the_release_before_the_switch_naming_it(outcome: Outcome):
    output = outcome.hook_run.stdout + outcome.hook_run.stderr
    assert outcome.hook_run.returncode != 0
    assert '"Run the deploy hooks at after_migrate" before the switch: the command echo hook-broke' in output, \
        output[-4000:]
    assert "hook-broke" in output.split("before the switch", 1)[1]
    assert outcome.current_after_hook == f"releases/{outcome.good}"


def test_a_release_whose_deploy_hook_fails_is_recorded_as_failed(outcome: Outcome):
    new = outcome.history_after_hook[len(outcome.history_after_command):]
    assert [(e["status"], e["reason"]) for e in new] == [("failed", "Run the deploy hooks at after_migrate")], new

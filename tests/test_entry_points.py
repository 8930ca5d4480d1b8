"""Each tasks_from entry point of django_app declares only the options it reads: a deploy
step such as taking the lock runs without the vault's secret, while the preflight entry
point (validate) still refuses a run that lacks it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tools.collection import ROOT
from tests.playbook import run_playbook

SPECS = yaml.safe_load((ROOT / "roles" / "django_app" / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def _run(tmp_path: Path, tasks_from: str, *extra: str) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "entry.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n  tasks:\n"
        f"    - ansible.builtin.include_role:\n        name: djstack.stack.django_app\n        tasks_from: {tasks_from}\n")
    return run_playbook(str(playbook), "-e", "django_app_name=entrypointtest", *extra)


def test_deploy_steps_do_not_declare_the_secret() -> None:
    for entry in ("lock", "unlock", "activate", "prune", "revert", "rollback"):
        assert "django_app_secret_key" not in SPECS[entry]["options"], entry


def test_the_lock_is_taken_and_given_back_without_a_secret(tmp_path: Path) -> None:
    for entry in ("lock", "unlock"):
        run = _run(tmp_path, entry, "--check")
        assert run.returncode == 0, run.stdout[-3000:]
    assert not Path("/run/lock/django_app-entrypointtest.deploy").exists()


def test_validate_still_requires_the_secret(tmp_path: Path) -> None:
    run = _run(tmp_path, "validate")
    assert run.returncode != 0
    assert "django_app_secret_key" in run.stdout

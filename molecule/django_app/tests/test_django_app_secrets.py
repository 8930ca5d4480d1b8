"""Secrets never reach Ansible's output, even when the env file changes under -v --diff.

Re-runs the scenario's converge (the demo play, python role skipped) from the controller against the
instance with a rotated secret, then again with the original one to restore it.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from testinfra.host import Host

from djstack_testlib.django_app import effective_settings

SCENARIO = Path(__file__).resolve().parent.parent
DEMO_VARS = yaml.safe_load((SCENARIO / "vars" / "demo.yml").read_text())
ORIGINAL = DEMO_VARS["django_app_secret_key"]
API_TOKEN = DEMO_VARS["django_app_secret_env"]["DEMO_API_TOKEN"]
ROOT = "/srv/demo"
ENV_TASK = "TASK [djstack.stack.django_app : Write the environment file]"


@dataclass(frozen=True)
class Rotation:
    secret: str
    rotate_output: str
    secret_in_env_file: bool
    restore_output: str


def _converge(extra_vars: dict[str, str] | None = None) -> str:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "ansible.cfg"))
    env["ANSIBLE_FORCE_COLOR"] = "0"
    argv = [
        str(Path(sys.executable).parent / "ansible-playbook"), "-v", "--diff",
        "--inventory", os.environ["MOLECULE_INVENTORY_FILE"], "--tags", "demo", "--skip-tags", "python",
        str(SCENARIO / "converge.yml"),
    ]
    if extra_vars:
        argv += ["--extra-vars", json.dumps(extra_vars)]
    run = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900, check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-5000:]
    return output


@pytest.fixture(scope="module")
def rotation(host: Host) -> Rotation:
    secret = "rotated-" + secrets.token_urlsafe(48)
    rotate_output = _converge({"django_app_secret_key": secret})
    in_env_file = host.file(f"{ROOT}/shared/env").contains(secret)
    return Rotation(secret, rotate_output, in_env_file, _converge())


def _env_task_status(output: str) -> str:
    return output.split(ENV_TASK, 1)[1].split("TASK [", 1)[0].strip()


def test_rotated_secret_reached_the_env_file(rotation: Rotation):
    assert rotation.secret_in_env_file


def test_env_file_change_is_reported_without_content(rotation: Rotation):
    status = _env_task_status(rotation.rotate_output)
    assert "changed: [" in status
    assert "censored" in status


def test_original_secret_is_restored(host: Host, rotation: Rotation):
    assert effective_settings(host, ROOT, ["SECRET_KEY"])["SECRET_KEY"] == ORIGINAL


@pytest.mark.parametrize(
    ("run", "secret"),
    [
        ("rotate", "rotated"),
        ("restore", "original"),
        # The original holds quotes and a backslash: an escaped copy would not match it whole.
        ("restore", "original's tail"),
        ("rotate", "api token"),
        ("restore", "api token"),
    ],
)
def test_secret_never_in_the_output(rotation: Rotation, run: str, secret: str):
    output = rotation.rotate_output if run == "rotate" else rotation.restore_output
    value = {
        "rotated": rotation.secret,
        "original": ORIGINAL,
        "original's tail": ORIGINAL.rsplit("#", 1)[1],
        "api token": API_TOKEN,
    }[secret]
    assert value not in output

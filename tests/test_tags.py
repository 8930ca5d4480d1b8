"""Every task of the host roles carries a phase tag (install, config, service, or
always for validation and the facts later tasks need) and its role-prefixed twin,
so `--tags nginx_config` or `--tags install` is a supported partial run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.collection import ROOT
from tests.playbook import run_playbook

ROLES = ("base", "python", "memcached", "gunicorn", "nginx")
PHASES = ("install", "config", "service", "deploy")
SELECTING = {"install", "config", "service", "always"}
TASK_FILES = sorted(path for role in ROLES for path in (ROOT / "roles" / role / "tasks").glob("*.yml"))


def _tags(entry: dict[str, Any]) -> set[str]:
    tags = entry.get("tags", [])
    return {tags} if isinstance(tags, str) else set(tags)


def _tasks(entries: list[dict[str, Any]], inherited: frozenset[str] = frozenset()) -> Iterator[tuple[str, set[str]]]:
    """(name, effective tags) of every task, inside blocks too, with the blocks' tags inherited."""
    for entry in entries:
        tags = inherited | _tags(entry)
        if "block" in entry:
            for section in ("block", "rescue", "always"):
                yield from _tasks(entry.get(section) or [], frozenset(tags))
        else:
            yield entry["name"], tags


def _role_tasks(path: Path) -> list[tuple[str, set[str]]]:
    return list(_tasks(yaml.safe_load(path.read_text()) or []))


@pytest.mark.parametrize("path", TASK_FILES, ids=lambda p: str(p.relative_to(ROOT / "roles")))
def test_every_task_has_a_phase_tag_and_its_role_twin(path: Path) -> None:
    role = path.parent.parent.name
    tasks = _role_tasks(path)
    assert tasks
    for name, tags in tasks:
        assert tags & SELECTING, f"{name!r} has no install/config/service/always tag: {sorted(tags)}"
        for phase in PHASES:
            if phase in tags:
                assert f"{role}_{phase}" in tags, f"{name!r} is tagged {phase} without {role}_{phase}"
            if f"{role}_{phase}" in tags:
                assert phase in tags, f"{name!r} is tagged {role}_{phase} without {phase}"
        assert not {t for t in tags if re.match(r"^[a-z]+_(install|config|service|deploy)$", t)
                    and not t.startswith(f"{role}_")}, f"{name!r} carries another role's tag: {sorted(tags)}"


def _list_tasks(tmp_path: Path, tags: str) -> dict[str, set[str]]:
    """The tasks `ansible-playbook --list-tasks --tags <tags>` selects from the five roles, with their tags."""
    playbook = tmp_path / "roles.yml"
    playbook.write_text("- name: The host roles\n  hosts: localhost\n  connection: local\n  gather_facts: false\n"
                        "  roles:\n" + "".join(f"    - djstack.stack.{role}\n" for role in ROLES))
    run = run_playbook(str(playbook), "--list-tasks", "--tags", tags)
    assert run.returncode == 0, run.stdout + run.stderr
    listed = {}
    for line in run.stdout.splitlines():
        match = re.match(r"^\s+(djstack\.stack\.\w+ : .+?)\tTAGS: \[(.*)\]$", line)
        if match:
            listed[match.group(1)] = {t.strip() for t in match.group(2).split(",") if t.strip()}
    assert listed, run.stdout
    return listed


def test_tags_install_lists_only_install_tasks(tmp_path: Path) -> None:
    listed = _list_tasks(tmp_path, "install")
    assert "djstack.stack.nginx : Install nginx and openssl" in listed
    assert "djstack.stack.memcached : Install memcached" in listed
    assert "djstack.stack.base : Check base variables beyond their types" in listed
    assert "djstack.stack.nginx : Write the nginx configuration" not in listed
    assert "djstack.stack.memcached : Enable and start memcached" not in listed
    for name, tags in listed.items():
        assert tags & {"install", "always"}, f"{name} listed for --tags install with {sorted(tags)}"


def test_tags_nginx_config_lists_only_nginx_config_tasks(tmp_path: Path) -> None:
    listed = _list_tasks(tmp_path, "nginx_config")
    assert "djstack.stack.nginx : Write the nginx configuration" in listed
    assert "djstack.stack.nginx : Test the candidate configuration with nginx -t" in listed
    assert "djstack.stack.nginx : Read the nginx and OpenSSL versions" in listed
    assert "djstack.stack.nginx : Install nginx and openssl" not in listed
    assert "djstack.stack.nginx : Enable and start nginx" not in listed
    assert "djstack.stack.memcached : Write the memcached unit drop-in (options and sandbox)" not in listed
    for name, tags in listed.items():
        assert "always" in tags or (name.startswith("djstack.stack.nginx : ") and "nginx_config" in tags), \
            f"{name} listed for --tags nginx_config with {sorted(tags)}"

"""Every command the README shows is exercised: make targets by dry run (the real
runs are `make test` itself and the demo), ansible-playbook commands by a syntax
check against the inventories they name, requirements.yml against the bundled
collections."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def readme_commands(program: str) -> list[str]:
    """Lines of code blocks (fenced or indented) that start with `program`, then
inline code spans that do."""
    commands = []
    for line in README.splitlines():
        stripped = line.strip()
        if stripped.startswith(program + " ") or stripped == program:
            commands.append(stripped.split("  #")[0].strip())
    # Inline ones too, e.g. `make images REBUILD=1` in running text.
    for inline in re.findall(rf"`({re.escape(program)}(?: [^`]*)?)`", README):
        if inline not in commands:
            commands.append(inline)
    return commands


def test_readme_shows_the_quickstart_commands():
    assert readme_commands("make")[:2] == ["make demo", "make test"]


@pytest.mark.parametrize("command", readme_commands("make"))
def test_make_command_is_valid(command):
    proc = subprocess.run([*shlex.split(command), "-n"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    args = dict(a.split("=", 1) for a in shlex.split(command)[1:] if "=" in a)
    if "SCENARIO" in args:
        assert f"--scenario {args['SCENARIO']}" in proc.stdout
        assert f"--distro {args['DISTRO']}" in proc.stdout
    if "REBUILD" in args:
        assert "tools.images --force" in proc.stdout
    if "DJSTACK_IMAGE" in args:
        assert f"--image {args['DJSTACK_IMAGE']}" in proc.stdout


@pytest.mark.parametrize("command", readme_commands("ansible-playbook"))
def test_ansible_playbook_command_parses(command, tmp_path):
    argv = shlex.split(command)
    if "--vault-password-file" in argv:
        password = tmp_path / "vault-pass"
        password.write_text("not-the-real-one\n")
        argv[argv.index("--vault-password-file") + 1] = str(password)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([*argv, "--syntax-check"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _installed_collections() -> dict[str, str]:
    out = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "list"], capture_output=True,
                         text=True, check=True).stdout
    return dict(re.findall(r"^([a-z_]+\.[a-z_]+)\s+(\d+\.\d+\.\d+)", out, re.M))


def test_requirements_yml_matches_the_bundled_collections():
    """What `ansible-galaxy collection install -r requirements.yml` would install is
    what the pinned ansible package already ships."""
    installed = _installed_collections()
    for entry in yaml.safe_load((ROOT / "requirements.yml").read_text())["collections"]:
        lower, upper = re.fullmatch(r">=([\d.]+),<([\d.]+)", entry["version"]).groups()
        version = tuple(int(p) for p in installed[entry["name"]].split("."))
        assert tuple(int(p) for p in lower.split(".")) <= version < tuple(int(p) for p in upper.split(".")), entry

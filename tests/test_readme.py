"""Every command the README shows is exercised: make targets by dry run (the real
runs are `make test` itself and the demo), ansible-playbook commands by a syntax
check against the inventories they name (those of a user's own deploy directory,
`-i inventory`, in such a directory with the built collection installed, the way
`make collection-smoke` deploys for real), ansible-galaxy and ansible-doc commands
against the built collection, requirements.yml against the bundled collections."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools import matrix
from tools.collection import DIST, build, install, user_env, write_user_directory

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
        for distro in args.get("DISTRO", "debian12 debian13").split():
            assert f"--distro {distro}" in proc.stdout
    target = shlex.split(command)[1] if len(shlex.split(command)) > 1 else ""
    if target in ("test", "test-all") and "tools.matrix" in proc.stdout:
        # CI's `make test` runs each scenario once; test-all, the full matrix.
        assert ("--split" in proc.stdout) == (target == "test"), proc.stdout
    if "REBUILD" in args:
        assert "tools.images --force" in proc.stdout
    if "DJSTACK_IMAGE" in args:
        assert f"--image {args['DJSTACK_IMAGE']}" in proc.stdout


@pytest.fixture(scope="module")
def collections(tmp_path_factory):
    """The built collection, installed into an empty collections path."""
    path = tmp_path_factory.mktemp("collections")
    install(build(tmp_path_factory.mktemp("dist")), path)
    return path


@pytest.fixture(scope="module")
def user_site(tmp_path_factory):
    """A user's deploy directory, as the README's "Deploy your own app" lays it out."""
    site = tmp_path_factory.mktemp("my-site")
    write_user_directory(site, {"ansible_host": "192.0.2.10", "ansible_user": "deploy"}, ROOT / "app")
    return site


def _from_user_site(argv):
    return argv[argv.index("-i") + 1] == "inventory"


@pytest.mark.parametrize("command", readme_commands("ansible-playbook"))
def test_ansible_playbook_command_parses(command, tmp_path, collections, user_site):
    argv = shlex.split(command)
    if "--vault-password-file" in argv:
        password = tmp_path / "vault-pass"
        password.write_text("not-the-real-one\n")
        argv[argv.index("--vault-password-file") + 1] = str(password)
    if _from_user_site(argv):
        cwd, env = user_site, user_env(collections)
    else:
        cwd, env = ROOT, dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    proc = subprocess.run([*argv, "--syntax-check"], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_readme_user_site_playbook_is_the_smoke_tests_one(user_site):
    """The one line the README puts in site.yml is what make collection-smoke deploys with."""
    line = (user_site / "site.yml").read_text().splitlines()[1]
    assert f"site.yml{' ' * 32}# {line}" in README


def test_readme_play_over_the_roles_is_the_smoke_tests_one(user_site):
    """The play over the roles the README shows is the one make collection-smoke provisions with."""
    line = (user_site / "roles.yml").read_text().splitlines()[1]
    assert f"\n       {line}\n" in README


def test_readme_installs_the_tarball_make_collection_builds(tmp_path):
    """`make collection` writes the tarball the README's install command names."""
    [command] = [c for c in readme_commands("ansible-galaxy") if c.endswith(".tar.gz")]
    built = build(DIST)
    argv = shlex.split(command)
    assert ROOT / argv[-1] == built
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:], "-p", str(tmp_path), "--no-deps", "--force"], cwd=ROOT,
                          env=user_env(tmp_path), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "ansible_collections" / "djstack" / "stack" / "roles" / "django_app").is_dir()


@pytest.mark.parametrize("command", [c for c in readme_commands("ansible-doc") if "<" not in c])
def test_ansible_doc_command_documents_from_the_installed_collection(command, collections):
    argv = shlex.split(command)
    proc = subprocess.run([str(BIN / argv[0]), *argv[1:]], env=user_env(collections), capture_output=True,
                          text=True, check=False)
    # A role's page lists its entry points; a plugin's names the plugin.
    expected = "ENTRY POINT" if "-t role" in command else f"{argv[-1]}".upper()
    assert proc.returncode == 0 and expected in proc.stdout.upper(), proc.stdout + proc.stderr


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


def test_readme_names_the_distro_of_each_scenario_in_ci():
    # `make test` runs each scenario once; the README says on which distro.
    text = " ".join(README.split())
    for distro, label in (("debian12", "on Debian 12"), ("debian13", "on Debian 13")):
        planned = sorted(j.scenario for j in matrix.plan(matrix.discover_scenarios(), ["debian12", "debian13"],
                                                         split=True) if j.distro == distro)
        listed = re.search(r"\(([^()]*?) " + label, text) if distro == "debian12" else \
            re.search(r"Debian 12; ([^()]*?) " + label, text)
        assert listed, label
        assert sorted(re.findall(r"`(\w+)`", listed.group(1))) == planned, (label, listed.group(1))


def _interpolated_host_vars(scenario: Path) -> dict[str, dict[str, object]]:
    text = re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: m.group(2) or m.group(1), scenario.read_text())
    return yaml.safe_load(text)["provisioner"]["inventory"]["host_vars"]


def test_readme_lists_exactly_the_variables_the_stock_projects_needed():
    # The stock scenario deploys two real-world projects with inventory variables alone.
    needed = set()
    for variables in _interpolated_host_vars(ROOT / "molecule" / "stock" / "molecule.yml").values():
        needed |= set(variables)
    section = README.split("## Deploy your own app", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\s*\| `(\w+)` \|", section, re.M)
    assert sorted(table) == sorted(needed)

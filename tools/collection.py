"""The repository as the Ansible collection djstack.stack.

  link    make the working tree importable as the collection without installing it:
          .cache/collections/ansible_collections/djstack/stack points at the repository,
          and ansible.cfg (and Molecule's config) put .cache/collections on the
          collections path, so FQCN names resolve to the code being edited;
  build   the artifact users install (`ansible-galaxy collection build`);
  smoke   build it, install it into an empty collections path, and provision a fresh
          host from a separate directory that holds only an inventory and two one-line
          playbooks, as a user's own repository would: one listing the roles by their
          full names, one importing the collection's site playbook. The first provisions
          the host; the site is checked; the second must then change nothing, so both
          give the same host. The host is removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.ansible_output import recap

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE, NAME = "djstack", "stack"
COLLECTIONS = ROOT / ".cache" / "collections"
DIST = ROOT / ".cache" / "collection" / "dist"
SMOKE_STATE = ROOT / ".cache" / "collection" / "smoke"
# The user's site playbook: the collection's own, by its full name.
SITE_PLAYBOOK = "---\n- ansible.builtin.import_playbook: djstack.stack.site\n"
# The user's own play over the roles, by their full names; the stack-wide settings
# (site_*) come from the inventory, the rest from the roles' defaults. nginx before
# the release: the release is checked through it.
ROLES_PLAYBOOK = ("---\n- {hosts: all, become: true, roles: [djstack.stack.base, djstack.stack.memcached, "
                  "djstack.stack.python, djstack.stack.nginx, djstack.stack.release, djstack.stack.backup]}\n")
# Settings of this repository that a user's directory does not have.
_REPO_ENV = ("ANSIBLE_CONFIG", "ANSIBLE_ROLES_PATH", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS")


def tool(name: str) -> str:
    """An Ansible command of this interpreter's venv (the pinned one), else from PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


def link(collections: Path = COLLECTIONS, root: Path = ROOT) -> Path:
    """Point collections/ansible_collections/<ns>/<name> at the tree; idempotent."""
    target = collections / "ansible_collections" / NAMESPACE / NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() and Path(os.readlink(target)) == root:
        return target
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(root, target_is_directory=True)
    return target


def build(output: Path = DIST, root: Path = ROOT) -> Path:
    """The collection tarball, built from the tree's files less galaxy.yml's build_ignore."""
    output.mkdir(parents=True, exist_ok=True)
    subprocess.run([tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", str(output), str(root)],
                   check=True, capture_output=True, text=True)
    tarballs = sorted(output.glob(f"{NAMESPACE}-{NAME}-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return tarballs[-1]


def install(tarball: Path, collections: Path) -> Path:
    """Install the tarball into a collections path (no Galaxy: it has no dependencies)."""
    subprocess.run([tool("ansible-galaxy"), "collection", "install", "--force", "--no-deps", "-p", str(collections),
                    str(tarball)], check=True, capture_output=True, text=True, env=user_env(collections))
    return collections / "ansible_collections" / NAMESPACE / NAME


def user_env(collections: Path) -> dict[str, str]:
    """The environment of a user's own repository: this repository's ansible.cfg and
    role path are not there, only the collections they installed."""
    env = {k: v for k, v in os.environ.items() if k not in _REPO_ENV}
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    return env


def write_user_directory(directory: Path, host_vars: dict[str, object], project: Path) -> None:
    """What a user keeps in their own repository: an inventory (hosts, the environment's
    variables, its vault) and one-line playbooks. Nothing of this repository."""
    inventory = directory / "inventory"
    (inventory / "group_vars" / "production").mkdir(parents=True, exist_ok=True)
    host_lines = "".join(f"          {k}: {v}\n" for k, v in host_vars.items())
    (inventory / "hosts.yml").write_text(
        "---\nall:\n  children:\n    production:\n      hosts:\n        site1:\n" + host_lines
        + "".join(f"    {tier}:\n      hosts:\n        site1:\n" for tier in ("web", "app", "cache")))
    (inventory / "group_vars" / "production" / "main.yml").write_text(
        "---\n"
        "site_domain: localhost\n"
        f"site_https_port: {SMOKE_PORTS['https'][0]}\n"
        f"django_app_local_path: {project}\n")
    (directory / "site.yml").write_text(SITE_PLAYBOOK)
    (directory / "roles.yml").write_text(ROLES_PLAYBOOK)


SMOKE_PORTS = {"ssh": (2224, 22), "http": (8081, 80), "https": (8444, 443)}


def smoke(image: str) -> int:
    from tools import demo, probe

    host = demo.Host("djstack-collection", "site1", SMOKE_STATE, SMOKE_PORTS)
    started = time.monotonic()
    tarball = build()
    work = Path(tempfile.mkdtemp(prefix="djstack-user-"))
    try:
        collections = work / "collections"
        installed = install(tarball, collections)
        print(f"Installed {tarball.name} into {collections} ({installed})", flush=True)
        # The user's own Django project lives in their repository, not in the collection.
        project = work / "repo" / "myproject"
        shutil.copytree(ROOT / "app", project, ignore=shutil.ignore_patterns(
            "__pycache__", "*.pyc", "db.sqlite3", "staticfiles", "tests", "tools"))
        user_dir = work / "repo" / "deploy"
        demo.ensure_key(host)
        write_user_directory(user_dir, {
            "ansible_host": "127.0.0.1", "ansible_port": SMOKE_PORTS["ssh"][0], "ansible_user": "deploy",
            "ansible_ssh_private_key_file": host.key,
            "ansible_ssh_common_args": f"-o UserKnownHostsFile={host.known_hosts} -o StrictHostKeyChecking=accept-new",
        }, project)
        vault_pass = work / "vault-pass"
        demo.ensure_vault(vault_pass, user_dir / "inventory" / "group_vars" / "production" / "vault.yml")
        demo.start_host(image, host, reuse=False)
        cmd = [tool("ansible-playbook"), "-i", "inventory", "--vault-password-file", str(vault_pass)]
        first = _playbook([*cmd, "roles.yml"], user_dir, collections)
        https, http = f"https://localhost:{SMOKE_PORTS['https'][0]}/", f"http://localhost:{SMOKE_PORTS['http'][0]}/"
        status, release = probe.readyz(https)
        if status != 200 or (found := probe.problems(https, http)):
            sys.exit(f"The site from the installed collection answers {status}, and: {found}")
        second = _playbook([*cmd, "site.yml"], user_dir, collections)
        changed = recap(second.stdout).get("site1", {}).get("changed", -1)
        if changed != 0:
            sys.exit(f"site.yml after roles.yml from the installed collection reported changed={changed}:\n"
                     f"{second.stdout[-4000:]}")
        print(f"Collection smoke passed in {time.monotonic() - started:.0f}s: {tarball.name} installed into an empty "
              f"collections path; {user_dir} (inventory + roles.yml, the roles by full name) provisioned a fresh "
              f"{image} host in {first.seconds:.0f}s, release {release} serves; then site.yml "
              f"(`{SITE_PLAYBOOK.splitlines()[1].strip()}`): changed=0 in {second.seconds:.0f}s.")
        return 0
    finally:
        demo.down(host)
        shutil.rmtree(work, ignore_errors=True)


class _Run:
    def __init__(self, stdout: str, seconds: float) -> None:
        self.stdout, self.seconds = stdout, seconds


def _playbook(cmd: list[str], cwd: Path, collections: Path) -> _Run:
    print(f"+ (cd {cwd} && {' '.join(cmd)})", flush=True)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=user_env(collections), capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"ansible-playbook from the user's directory failed (exit {proc.returncode}) after {seconds:.0f}s:\n"
                 f"{proc.stdout[-6000:]}\n{proc.stderr[-2000:]}")
    return _Run(proc.stdout, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("link", help="make .cache/collections resolve djstack.stack to this tree")
    sub.add_parser("build", help="build the collection tarball into .cache/collection/dist")
    smoke_parser = sub.add_parser("smoke", help="install the built collection and deploy from a separate directory")
    smoke_parser.add_argument("--image", default=os.environ.get("DJSTACK_IMAGE", "djstack-systemd:debian12"))
    args = parser.parse_args(argv)
    if args.command == "link":
        print(link())
    elif args.command == "build":
        print(build())
    else:
        return smoke(args.image)
    return 0


if __name__ == "__main__":
    sys.exit(main())

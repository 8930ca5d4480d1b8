"""Look at a django_app deploy from inside the test host: releases, history, settings."""

from __future__ import annotations

import json
import shlex
from typing import Any

from testinfra.host import Host

GOOD = ("active", "previous", "inactive")


def manage(host: Host, root: str, *args: str, user: str | None = None):
    """Run the app's bin/manage wrapper (which itself drops to the app user)."""
    argv = [f"{root}/bin/manage", *args]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    return host.run(shlex.join(argv))


def history(host: Host, root: str) -> list[dict[str, Any]]:
    return json.loads(host.file(f"{root}/releases.json").content_string)


def entry(host: Host, root: str, status: str) -> dict[str, Any]:
    matches = [e for e in history(host, root) if e["status"] == status]
    assert len(matches) == 1, f"expected one {status} release in {root}/releases.json, got {matches}"
    return matches[0]


def release_dirs(host: Host, root: str) -> list[str]:
    return sorted(host.check_output(f"ls -1 {shlex.quote(root)}/releases").split())


def current_target(host: Host, root: str) -> str:
    return host.check_output(f"readlink {shlex.quote(root)}/current")


def effective_settings(host: Host, root: str, names: list[str]) -> dict[str, Any]:
    """Django settings as the deployed app sees them (env file, settings module, release)."""
    code = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}, default=str))"
    )
    result = manage(host, root, "shell", "--command", code)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def site_packages_file(host: Host, release_dir: str, relative: str) -> str:
    """Path of a file inside a venv's site-packages (the python3.X part differs per distro)."""
    return host.check_output(f"ls -d {shlex.quote(release_dir)}/venv/lib/python3*/site-packages/{relative}")

"""bin/manage and the env file's validation for the djstack role django_app, run on the host with python3.

The release logic (history, `current`, venvs, the deploy lock) lives in the
collection's modules (djstack.stack.release, release_venv, release_code,
deploy_lock); this script is what stays on the host for the operator:

  check-env     parse an environment file (the template's validation)
  manage        run the release's manage.py with the env file, as the app user
                (--static-root DIR: with STATIC_ROOT set to DIR, for collectstatic
                into a staging directory; --exec: run the arguments as a command
                instead, in the project directory with the venv first on PATH)

Layout under ROOT (see the role's README):
  releases/<id>/          code of one release, venv/ inside
  current -> releases/<id>
  shared/env              environment file (systemd EnvironmentFile format)

Only the standard library: it runs with Debian's python3, outside any venv.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Runs manage.py (argv[2], with its arguments after it) with STATIC_ROOT = argv[1], whatever the
# project's settings say (hard-coded, or from the environment): set right after django.setup(),
# before any command uses the static files storage. A storage that an app's ready() already
# made is dropped, so collectstatic makes its own with the new root.
_STATIC_ROOT_BOOTSTRAP = r"""
import os, runpy, sys
static_root, manage = sys.argv[1], sys.argv[2]
sys.argv = [manage, *sys.argv[3:]]
sys.path[0] = os.path.dirname(manage)
import django
_setup = django.setup


def setup(*args, **kwargs):
    _setup(*args, **kwargs)
    from django.conf import settings
    from django.utils.functional import empty
    settings.STATIC_ROOT = static_root
    options = (getattr(settings, "STORAGES", None) or {}).get("staticfiles", {}).get("OPTIONS") or {}
    if "location" in options:
        options["location"] = static_root
    try:
        from django.core.files.storage import storages
        storages._storages.pop("staticfiles", None)
    except ImportError:  # Django before 4.2
        pass
    from django.contrib.staticfiles.storage import staticfiles_storage
    staticfiles_storage._wrapped = empty


django.setup = setup
runpy.run_path(manage, run_name="__main__")
"""


class ReleaseError(Exception):
    """A problem the operator must fix; printed without a traceback."""


# --- environment file and manage.py ----------------------------------------


def _unquote(value: str, where: str) -> str:
    """The value of one assignment, as systemd's EnvironmentFile= reads it."""
    if value[:1] in ("'", '"'):
        quote, body = value[0], value[1:]
        if not body.endswith(quote) or (quote == '"' and _escaped_end(body)):
            raise ReleaseError(f"{where}: unterminated {quote} quote")
        body = body[:-1]
        if quote == "'":
            return body
        out, i = [], 0
        while i < len(body):
            if body[i] == "\\" and i + 1 < len(body) and body[i + 1] in '"\\`$':
                out.append(body[i + 1])
                i += 2
            else:
                out.append(body[i])
                i += 1
        return "".join(out)
    if value.endswith("\\"):
        raise ReleaseError(f"{where}: line continuations are not supported")
    return re.sub(r"\\(.)", r"\1", value)


def _escaped_end(body: str) -> bool:
    """True when the closing quote of a double-quoted body is itself escaped."""
    backslashes = len(body[:-1]) - len(body[:-1].rstrip("\\"))
    return backslashes % 2 == 1


def parse_env(text: str, name: str = "env") -> dict[str, str]:
    env: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_NAME.fullmatch(key):
            raise ReleaseError(f"{name}:{number}: expected KEY=value")
        env[key] = _unquote(value.strip(), f"{name}:{number}")
    return env


def manage_command(root: Path, user: str, project_dir: str, args: Sequence[str]) -> dict[str, Any]:
    """argv, env, cwd and identity for running manage.py (split out to be testable)."""
    args = list(args)
    release_dir = root / "current"
    as_root = False
    run_exec = False
    static_root = ""
    while args and args[0] in ("--release", "--as-root", "--static-root", "--exec"):
        option = args.pop(0)
        if option == "--as-root":
            as_root = True
        elif option == "--exec":
            run_exec = True
        elif option == "--release":
            if not args:
                raise ReleaseError("--release needs a release id")
            release_dir = root / "releases" / args.pop(0)
        else:
            static_root = args.pop(0) if args else ""
            if not os.path.isabs(static_root):
                raise ReleaseError(f"--static-root needs an absolute path (got {static_root})")
    env_file = root / "shared" / "env"
    env = {"PATH": _SAFE_PATH, "LANG": "C.UTF-8", "HOME": str(root), "USER": user, "LOGNAME": user}
    env.update(parse_env(env_file.read_text(encoding="utf-8"), str(env_file)))
    workdir = release_dir / project_dir if project_dir else release_dir
    python = release_dir / "venv" / "bin" / "python"
    argv = [str(python), str(workdir / "manage.py"), *args]
    if run_exec:
        if not args or static_root:
            raise ReleaseError("--exec needs a command, and takes no --static-root")
        # What `source venv/bin/activate` would give a deploy hook's shell command.
        env["PATH"] = f"{release_dir / 'venv' / 'bin'}:{_SAFE_PATH}"
        env["VIRTUAL_ENV"] = str(release_dir / "venv")
        argv = list(args)
    if static_root:
        # Projects that read it derive other paths from it (the sample app: its manifest's
        # default place); the bootstrap covers those that hard-code STATIC_ROOT.
        env["DJANGO_STATIC_ROOT"] = static_root
        argv[1:2] = ["-c", _STATIC_ROOT_BOOTSTRAP, static_root, str(workdir / "manage.py")]
    return {
        "argv": argv,
        "env": env,
        "cwd": str(workdir),
        "user": None if as_root else user,
    }


def run_manage(root: Path, user: str, project_dir: str, args: Sequence[str]) -> int:
    command = manage_command(root, user, project_dir, args)
    if command["user"] and os.geteuid() == 0:
        account = pwd.getpwnam(command["user"])
        os.initgroups(account.pw_name, account.pw_gid)
        os.setgid(account.pw_gid)
        os.setuid(account.pw_uid)
        os.umask(0o027)
    else:
        # collectstatic as root: files nginx (others) may read, the app may not write.
        os.umask(0o022)
    os.chdir(command["cwd"])
    os.execvpe(command["argv"][0], command["argv"], command["env"])
    return 127  # not reached


# --- command line ------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check-env")
    p.add_argument("file", type=Path)

    p = sub.add_parser("manage")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--project-dir", default="")
    p.add_argument("args", nargs=argparse.REMAINDER)

    args = parser.parse_args(argv)
    try:
        if args.command == "manage":
            rest = args.args[1:] if args.args[:1] == ["--"] else args.args
            return run_manage(args.root, args.user, args.project_dir, rest)
        env = parse_env(args.file.read_text(encoding="utf-8"), str(args.file))
        result = {"variables": len(env)}
    except (ReleaseError, OSError) as exc:
        print(f"django_app_release {args.command}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Release bookkeeping for the djstack role django_app, run on the host with python3.

Layout under ROOT (see the role's README):
  releases/<id>/          code of one release, venv/ inside
  current -> releases/<id>
  shared/env              environment file (systemd EnvironmentFile format)
  releases.json           history: [{id, revision, build, venv_key, venv_source, time,
                          activation, status, reason}]

Statuses: "active" is what `current` points at; "previous" is the release that
served before it (the default rollback target); "inactive" the other good ones;
"failed" releases never serve again and never count as kept.

Subcommands (each prints JSON on success):
  finish-code   write RELEASE files and precompile the code of a new release
  plan-venv     the venv key of a new release, and an existing release whose venv has that key
  clone-venv    hard-link a venv into a new release and re-point its scripts there
  seal          mark the venv complete, make the release read-only to the app
  activate      switch `current` atomically, record the release as active, prune
  record-failed record a release that failed before the switch
  revert        put back the release that served before a failed one, record it failed
  rollback      switch to the release that served before the current one, or a named one
  lock          take the deploy lock (one deploy at a time); unlock gives it back
  prune         delete old releases, keeping the newest N good ones, current and previous
  check-env     parse an environment file (template validation)
  manage        run the release's manage.py with the env file, as the app user

Only the standard library: it runs with Debian's python3 before any venv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

HISTORY = "releases.json"
KEY_FILE = ".djstack-venv-key"
GOOD = ("active", "previous", "inactive")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INCLUDE = re.compile(r"^\s*(?:-r|-c|--requirement|--constraint)(?:\s+|=)(\S+)")
_SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class ReleaseError(Exception):
    """A problem the operator must fix; printed without a traceback."""


# --- history -----------------------------------------------------------------


def load_history(root: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads((root / HISTORY).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    if not isinstance(data, list):
        raise ReleaseError(f"{root / HISTORY} does not hold a list")
    return data


def save_history(root: Path, history: list[dict[str, Any]]) -> None:
    """Replace releases.json atomically: readers see the old or the new list, never half."""
    fd, tmp = tempfile.mkstemp(prefix=".releases.", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(history, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, root / HISTORY)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Serialise history changes between concurrent runs on one host."""
    with open(root / ".releases.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_id(root: Path) -> str | None:
    link = root / "current"
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def _entry(history: list[dict[str, Any]], release: str) -> dict[str, Any] | None:
    return next((e for e in history if e.get("id") == release), None)


def record(history: list[dict[str, Any]], fields: dict[str, Any]) -> dict[str, Any]:
    entry = _entry(history, fields["id"])
    if entry is None:
        entry = {"time": now()}
        history.append(entry)
    entry.update(fields)
    return entry


def _good(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in history if e.get("status") in GOOD]


def previous_of(history: list[dict[str, Any]], current: str | None, present: Sequence[str]) -> str | None:
    """The good release that served most recently before `current`, still on disk."""
    candidates = [e for e in _good(history) if e.get("id") != current and e.get("id") in present]
    if not candidates:
        return None
    return max(candidates, key=lambda e: (e.get("activation", 0), e.get("time", "")))["id"]


def restatus(history: list[dict[str, Any]], current: str | None, present: Sequence[str]) -> None:
    """Derive active/previous/inactive from `current` and the activation order."""
    previous = previous_of(history, current, present)
    for entry in _good(history):
        entry["status"] = ("active" if entry["id"] == current
                           else "previous" if entry["id"] == previous else "inactive")


def _present(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "releases").iterdir() if p.is_dir() and not p.name.startswith("."))


def _switch(root: Path, release: str) -> None:
    """Re-point `current` with a temp symlink and rename: readers never see it missing."""
    tmp = root / f".current.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(f"releases/{release}", tmp)
    os.replace(tmp, root / "current")


def _next_activation(history: list[dict[str, Any]]) -> int:
    return max((e.get("activation", 0) for e in history), default=0) + 1


def activate(root: Path, fields: dict[str, Any], keep: int | None = None) -> dict[str, Any]:
    """Point `current` at releases/<id>, record it as the newest activation, prune."""
    release = fields["id"]
    if not (root / "releases" / release).is_dir():
        raise ReleaseError(f"release {release} does not exist under {root / 'releases'}")
    with locked(root):
        before = current_id(root)
        history = load_history(root)
        entry = _entry(history, release)
        if before == release and entry is not None and entry.get("status") == "active":
            return {"changed": False, "previous": before, "current": release}
        _switch(root, release)
        record(history, {**fields, "status": "active", "activation": _next_activation(history)})
        restatus(history, release, _present(root))
        save_history(root, history)
    removed = prune(root, keep)["removed"] if keep is not None else []
    return {"changed": True, "previous": before, "current": release, "removed": removed}


def record_failed(root: Path, fields: dict[str, Any]) -> dict[str, Any]:
    with locked(root):
        history = load_history(root)
        entry = record(history, {**fields, "status": "failed"})
        restatus(history, current_id(root), _present(root))
        save_history(root, history)
    return {"changed": True, "failed": entry["id"]}


def _good_target(history: list[dict[str, Any]], present: Sequence[str], release: str) -> dict[str, Any]:
    entry = _entry(history, release)
    if entry is None:
        known = ", ".join(e["id"] for e in _good(history)) or "none"
        raise ReleaseError(f"release {release} is not in the release history (good releases: {known})")
    if entry.get("status") not in GOOD:
        raise ReleaseError(f"release {release} is {entry.get('status')}: it never serves again")
    if release not in present:
        raise ReleaseError(f"release {release} was pruned from the host")
    return entry


def revert(root: Path, fields: dict[str, Any], to: str | None, reason: str) -> dict[str, Any]:
    """After a failed deploy: put `to` back if `current` moved to the failed release
    (fields["id"]); record that release as failed.

    `to` is the release that served before the deploy (None on a first deploy,
    when there is nothing to go back to).
    """
    failed = fields["id"]
    with locked(root):
        history = load_history(root)
        present = _present(root)
        current = current_id(root)
        switched = current == failed and to is not None and to != failed
        if switched:
            _good_target(history, present, to)
            _switch(root, to)
            current = to
        record(history, {**fields, "status": "failed", "reason": reason})
        restatus(history, current, present)
        save_history(root, history)
    return {"changed": True, "failed": failed, "current": current, "switched_back": switched}


def rollback(root: Path, target: str | None) -> dict[str, Any]:
    """Switch to a named good release, or to the one that served before the current one.

    The target comes from the history's activation order, never from directory times.
    """
    with locked(root):
        history = load_history(root)
        present = _present(root)
        current = current_id(root)
        if target is None:
            target = previous_of(history, current, present)
            if target is None:
                raise ReleaseError("no earlier good release to roll back to (name one with release=<id>)")
        entry = _good_target(history, present, target)
        before = _entry(history, current) if current else None
        if target == current:
            return {"changed": False, "from": current, "current": current, "venv_changed": False}
        _switch(root, target)
        entry["activation"] = _next_activation(history)
        restatus(history, target, present)
        save_history(root, history)
    venv_changed = (before or {}).get("venv_key") != entry.get("venv_key")
    return {"changed": True, "from": current, "current": target, "venv_changed": venv_changed}


# --- the deploy lock -----------------------------------------------------------


def take_lock(path: Path, token: str, owner: str, force: bool = False) -> dict[str, Any]:
    """Create the lock file atomically; the same run (token) may take it again.

    The lock lives in /run: a reboot, which ends any deploy, also clears it.
    """
    claim = {"token": token, "owner": owner, "since": now()}
    data = json.dumps(claim, sort_keys=True).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        held = _read_lock(path)
        if held.get("token") == token:
            return {"changed": False, "held_by": owner}
        if not force:
            raise ReleaseError(
                f"another deploy holds the lock {path}: {held.get('owner', '?')} since "
                f"{held.get('since', '?')}. If no deploy is running any more, break it with "
                "-e django_app_deploy_lock_break=true") from None
        fd_tmp, tmp = tempfile.mkstemp(prefix=".lock.", dir=path.parent)
        with os.fdopen(fd_tmp, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
        return {"changed": True, "held_by": owner, "broken": held}
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return {"changed": True, "held_by": owner}


def _read_lock(path: Path) -> dict[str, Any]:
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return held if isinstance(held, dict) else {}


def release_lock(path: Path, token: str) -> dict[str, Any]:
    """Remove the lock only if this run still holds it (someone may have broken it)."""
    held = _read_lock(path)
    if not path.exists():
        return {"changed": False}
    if held.get("token") != token:
        return {"changed": False, "held_by": held.get("owner", "?")}
    path.unlink()
    return {"changed": True}


def plan_prune(history: list[dict[str, Any]], present: Sequence[str], current: str | None,
               keep: int) -> list[str]:
    """Release ids to delete.

    Good releases (active, previous, inactive) count towards `keep`, newest first;
    current and previous are always kept. Failed releases do not count: they stay
    for inspection until a later release is active, then go. Directories with no
    history entry are leftovers of an interrupted run.
    """
    good = sorted((e for e in history if e.get("status") in GOOD), key=lambda e: e.get("time", ""),
                  reverse=True)
    kept = {e["id"] for e in good if e.get("status") in ("active", "previous")}
    if current:
        kept.add(current)
    for entry in good:
        if len(kept) >= keep:
            break
        kept.add(entry["id"])
    active_time = max((e.get("time", "") for e in good if e.get("status") == "active"), default="")
    doomed = {e["id"] for e in good if e["id"] not in kept}
    doomed |= {e["id"] for e in history if e.get("status") == "failed" and e.get("time", "") < active_time}
    known = {e.get("id") for e in history}
    doomed |= {name for name in present if name not in known and name != current}
    return sorted(doomed - {current})


def prune(root: Path, keep: int) -> dict[str, Any]:
    if keep < 2:
        raise ReleaseError("keep must be at least 2 (current and previous)")
    with locked(root):
        history = load_history(root)
        releases = root / "releases"
        current = current_id(root)
        doomed = plan_prune(history, _present(root), current, keep)
        for release in doomed:
            if (releases / release).exists():
                shutil.rmtree(releases / release)
        remaining = [e for e in history if e.get("id") not in doomed]
        if remaining != history:
            save_history(root, remaining)
    return {"changed": bool(doomed), "removed": doomed}


# --- virtualenvs -------------------------------------------------------------


def requirement_files(path: Path, seen: set[Path] | None = None) -> list[Path]:
    """The requirements file and every file it pulls in with -r/-c, in order."""
    seen = set() if seen is None else seen
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    files = [path]
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _INCLUDE.match(line)
        if match:
            files += requirement_files(path.parent / match.group(1), seen)
    return files


def venv_key(python: str, requirements: Path | None, extras: Sequence[str], base: Path | None = None,
             python_tag: str | None = None) -> str:
    """Identify what a venv would contain: interpreter, requirement files' content, extras.

    Equal keys mean a venv can be reused instead of downloading everything again.
    """
    if python_tag is None:
        python_tag = subprocess.run(
            [python, "-c", "import sys; print(sys.implementation.cache_tag, sys.platform)"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    parts: dict[str, Any] = {"format": 1, "python": [python, python_tag], "extras": list(extras)}
    if requirements is not None:
        base = base or requirements.parent
        parts["requirements"] = [
            [os.path.relpath(f, base), hashlib.sha256(f.read_bytes()).hexdigest()]
            for f in requirement_files(requirements)
        ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def find_venv(root: Path, key: str, exclude: str) -> str:
    """A release (current first, then newest) whose finished venv carries `key`; "" if none."""
    current = current_id(root)
    names = sorted((p.name for p in (root / "releases").iterdir() if p.is_dir()), reverse=True)
    if current in names:
        names.remove(current)
        names.insert(0, current)
    for name in names:
        if name == exclude:
            continue
        marker = root / "releases" / name / "venv" / KEY_FILE
        with contextlib.suppress(OSError):
            if marker.read_text(encoding="utf-8").strip() == key:
                return name
    return ""


def clone_venv(src: Path, dst: Path) -> dict[str, Any]:
    """Hard-link every file of src into dst, then give dst's scripts their own paths.

    Scripts in bin/ carry the venv's absolute path (shebangs, activate). Those that
    mention src are rewritten as new files, so the source keeps its own inodes and
    dst keeps working after src's release is pruned.
    """
    if dst.exists():
        raise ReleaseError(f"{dst} already exists")
    linked = 0
    for directory, dirnames, filenames in os.walk(src):
        here = Path(directory)
        target = dst / here.relative_to(src)
        target.mkdir(mode=0o755)
        shutil.copystat(here, target)
        for name in sorted(filenames + [d for d in dirnames if (here / d).is_symlink()]):
            source = here / name
            if source.is_symlink():
                link = os.readlink(source)
                os.symlink(link.replace(str(src), str(dst)), target / name)
            else:
                os.link(source, target / name)
                linked += 1
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
    old, new = str(src).encode(), str(dst).encode()
    rewritten = []
    for path in sorted([*(dst / "bin").iterdir(), dst / "pyvenv.cfg"]):
        if path.is_symlink() or not path.is_file():
            continue
        content = path.read_bytes()
        if old not in content:
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content.replace(old, new))
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
        rewritten.append(path.name)
    return {"changed": True, "linked": linked, "rewritten": rewritten}


def finish_code(release: Path, release_id: str, project_dir: str, python: str) -> dict[str, Any]:
    """RELEASE files (the app reads the one next to manage.py) and bytecode.

    The app cannot write __pycache__ into its read-only code, so compile it now.
    A file that does not compile (e.g. a template named .py) is not fatal here:
    check --deploy imports everything the project really uses.
    """
    project = release / project_dir if project_dir else release
    if not (project / "manage.py").is_file():
        raise ReleaseError(f"no manage.py in {project}: check django_app_project_dir")
    for directory in dict.fromkeys([release, project]):
        (directory / "RELEASE").write_text(f"{release_id}\n", encoding="utf-8")
    compiled = subprocess.run([python, "-m", "compileall", "-q", str(release)], capture_output=True, text=True)
    return {"changed": True, "compile_errors": compiled.returncode != 0}


def seal(release: Path, gid: int, venv_key: str | None = None) -> dict[str, Any]:
    """root:<app group>, no write for the group, nothing for others (code and venv).

    The venv key is written here, after a successful install: a venv without it is
    unfinished and never reused.
    """
    if venv_key:
        (release / "venv" / KEY_FILE).write_text(f"{venv_key}\n", encoding="utf-8")
    for directory, dirnames, filenames in os.walk(release):
        here = Path(directory)
        os.lchown(here, 0, gid)
        os.chmod(here, 0o750)
        for name in dirnames + filenames:
            path = here / name
            os.lchown(path, 0, gid)
            if path.is_symlink() or path.is_dir():
                continue
            mode = path.lstat().st_mode
            os.chmod(path, 0o750 if mode & 0o100 else 0o640)
    return {"changed": True}


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
    while args and args[0] in ("--release", "--as-root"):
        option = args.pop(0)
        if option == "--as-root":
            as_root = True
        else:
            if not args:
                raise ReleaseError("--release needs a release id")
            release_dir = root / "releases" / args.pop(0)
    env_file = root / "shared" / "env"
    env = {"PATH": _SAFE_PATH, "LANG": "C.UTF-8", "HOME": str(root), "USER": user, "LOGNAME": user}
    env.update(parse_env(env_file.read_text(encoding="utf-8"), str(env_file)))
    workdir = release_dir / project_dir if project_dir else release_dir
    python = release_dir / "venv" / "bin" / "python"
    return {
        "argv": [str(python), str(workdir / "manage.py"), *args],
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
    os.execve(command["argv"][0], command["argv"], command["env"])
    return 127  # not reached


# --- command line ------------------------------------------------------------


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    fields = {"id": args.id, "revision": args.revision, "build": args.build}
    for name in ("venv_key", "venv_source", "reason"):
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    return fields


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("finish-code")
    p.add_argument("--release", type=Path, required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--project-dir", default="")
    p.add_argument("--python", required=True)

    p = sub.add_parser("plan-venv")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--release", required=True)
    p.add_argument("--python", required=True)
    p.add_argument("--requirements", default="")
    p.add_argument("--extra", action="append", default=[])

    p = sub.add_parser("clone-venv")
    p.add_argument("--src", type=Path, required=True)
    p.add_argument("--dst", type=Path, required=True)

    p = sub.add_parser("seal")
    p.add_argument("--release", type=Path, required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--venv-key")

    for name in ("activate", "record-failed"):
        p = sub.add_parser(name)
        p.add_argument("--root", type=Path, required=True)
        p.add_argument("--id", required=True)
        p.add_argument("--revision", required=True)
        p.add_argument("--build", required=True)
        p.add_argument("--venv-key")
        p.add_argument("--venv-source")
        if name == "record-failed":
            p.add_argument("--reason", default="")
        else:
            p.add_argument("--keep", type=int)

    p = sub.add_parser("revert")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--id", required=True, help="the failed release")
    p.add_argument("--revision", required=True)
    p.add_argument("--build", required=True)
    p.add_argument("--to", default="", help="the release that served before ('' on a first deploy)")
    p.add_argument("--reason", default="")

    p = sub.add_parser("rollback")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--to", default="", help="a release id ('' for the one that served before current)")

    p = sub.add_parser("lock")
    p.add_argument("--path", type=Path, required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--owner", required=True)
    p.add_argument("--break", dest="force", action="store_true")

    p = sub.add_parser("unlock")
    p.add_argument("--path", type=Path, required=True)
    p.add_argument("--token", required=True)

    p = sub.add_parser("prune")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--keep", type=int, required=True)

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
        result = _dispatch(args)
    except (ReleaseError, OSError, subprocess.CalledProcessError) as exc:
        print(f"django_app_release {args.command}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


def _dispatch(args: argparse.Namespace) -> dict[str, Any]:
    if args.command == "finish-code":
        return finish_code(args.release, args.id, args.project_dir, args.python)
    if args.command == "plan-venv":
        release = args.root / "releases" / args.release
        requirements = release / args.requirements if args.requirements else None
        if requirements is not None and not requirements.is_file():
            raise ReleaseError(f"requirements file {args.requirements} is missing from the release")
        key = venv_key(args.python, requirements, args.extra, base=release)
        return {"key": key, "source": find_venv(args.root, key, exclude=args.release)}
    if args.command == "clone-venv":
        return clone_venv(args.src, args.dst)
    if args.command == "seal":
        return seal(args.release, grp.getgrnam(args.group).gr_gid, args.venv_key)
    if args.command == "activate":
        return activate(args.root, _fields(args), args.keep)
    if args.command == "record-failed":
        return record_failed(args.root, _fields(args))
    if args.command == "revert":
        return revert(args.root, _fields(args), args.to or None, args.reason)
    if args.command == "rollback":
        return rollback(args.root, args.to or None)
    if args.command == "lock":
        return take_lock(args.path, args.token, args.owner, args.force)
    if args.command == "unlock":
        return release_lock(args.path, args.token)
    if args.command == "prune":
        return prune(args.root, args.keep)
    if args.command == "check-env":
        env = parse_env(args.file.read_text(encoding="utf-8"), str(args.file))
        return {"variables": len(env)}
    raise ReleaseError(f"unknown command {args.command}")


if __name__ == "__main__":
    sys.exit(main())

# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Release history and the deploy lock of the role django_app, on the target host.

Layout under ROOT (see the role's README):
  releases/<id>/          code of one release, venv/ inside
  current -> releases/<id>
  releases.json           history: [{id, revision, build, venv_key, venv_source, time,
                          activation, status, reason}]

Statuses: "active" is what `current` points at; "previous" is the release that
served before it (the default rollback target); "inactive" the other good ones;
"failed" releases never serve again and never count as kept.

Every operation plans on a copy of the history first, so check mode reports
exactly what a real run would do, and the diff compares the two lists.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

HISTORY = "releases.json"
GOOD = ("active", "previous", "inactive")


class ReleaseError(Exception):
    """A problem the operator must fix; reported as the task's message."""


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
def locked(root: Path, check: bool = False) -> Iterator[None]:
    """Serialise history changes between concurrent runs on one host.

    Check mode creates nothing: it waits on the lock file only if one exists,
    so it reads a history no other run is half-way through changing.
    """
    path = root / ".releases.lock"
    if check:
        try:
            lock = open(path)
        except FileNotFoundError:
            yield
            return
    else:
        lock = open(path, "a")
    with lock:
        fcntl.flock(lock, fcntl.LOCK_SH if check else fcntl.LOCK_EX)
        yield


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_id(root: Path) -> str | None:
    link = root / "current"
    if not link.is_symlink():
        return None
    return Path(os.readlink(link)).name


def entry_of(history: list[dict[str, Any]], release: str | None) -> dict[str, Any] | None:
    return next((e for e in history if e.get("id") == release), None)


def active_entry(history: list[dict[str, Any]]) -> dict[str, Any]:
    """The first entry recorded as active, {} if none."""
    return next((e for e in history if e.get("status") == "active"), {})


def record(history: list[dict[str, Any]], fields: dict[str, Any]) -> dict[str, Any]:
    entry = entry_of(history, fields["id"])
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


def present_releases(root: Path) -> list[str]:
    """Release directories on disk; none yet on a host the role has not laid out (check mode)."""
    try:
        return sorted(p.name for p in (root / "releases").iterdir() if p.is_dir() and not p.name.startswith("."))
    except FileNotFoundError:
        return []


def _switch(root: Path, release: str) -> None:
    """Re-point `current` with a temp symlink and rename: readers never see it missing."""
    tmp = root / f".current.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(f"releases/{release}", tmp)
    os.replace(tmp, root / "current")


def _next_activation(history: list[dict[str, Any]]) -> int:
    return max((e.get("activation", 0) for e in history), default=0) + 1


def history_diff(before: list[dict[str, Any]], after: list[dict[str, Any]], current_before: str | None,
                 current_after: str | None) -> dict[str, Any]:
    """`current` and the history entries that differ, before and after (the entries hold no secrets)."""
    old = {e.get("id"): e for e in before}
    new = {e.get("id"): e for e in after}
    changed = sorted((i for i in set(old) | set(new) if old.get(i) != new.get(i)), key=str)
    return {
        "before": {"current": current_before or "", "releases": {i: old[i] for i in changed if i in old}},
        "after": {"current": current_after or "", "releases": {i: new[i] for i in changed if i in new}},
    }


class _Change:
    """The history and `current` before and after one operation, applied unless check."""

    def __init__(self, root: Path, check: bool) -> None:
        self.root = root
        self.check = check
        self.before = load_history(root)
        self.history = copy.deepcopy(self.before)
        self.current_before = current_id(root)
        self.current = self.current_before
        self.present = present_releases(root)
        self.removed: list[str] = []

    def switch(self, release: str) -> None:
        self.current = release

    def apply(self) -> None:
        if self.check:
            return
        if self.current != self.current_before and self.current is not None:
            _switch(self.root, self.current)
        releases = self.root / "releases"
        for release in self.removed:
            if (releases / release).exists():
                shutil.rmtree(releases / release)
        if self.history != self.before:
            save_history(self.root, self.history)

    @property
    def changed(self) -> bool:
        return self.history != self.before or self.current != self.current_before or bool(self.removed)

    def diff(self) -> dict[str, Any]:
        return history_diff(self.before, self.history, self.current_before, self.current)


def _unchanged(root: Path) -> dict[str, Any]:
    current = current_id(root)
    history = load_history(root)
    return history_diff(history, history, current, current)


def activate(root: Path, fields: dict[str, Any], keep: int | None = None, check: bool = False) -> dict[str, Any]:
    """Point `current` at releases/<id>, record it as the newest activation, prune if `keep`."""
    release = fields["id"]
    if not (root / "releases" / release).is_dir():
        raise ReleaseError(f"release {release} does not exist under {root / 'releases'}")
    if keep is not None:
        _check_keep(keep)
    with locked(root, check):
        change = _Change(root, check)
        entry = entry_of(change.history, release)
        if change.current == release and entry is not None and entry.get("status") == "active":
            return {"changed": False, "previous": change.current, "current": release, "diff": change.diff()}
        record(change.history, {**fields, "status": "active", "activation": _next_activation(change.history)})
        change.switch(release)
        restatus(change.history, release, change.present)
        change.apply()
    diff = change.diff()
    removed: list[str] = []
    if keep is not None:
        pruned = _prune(root, keep, check, change if check else None)
        removed = pruned["removed"]
        diff = history_diff(change.before, pruned["history"], change.current_before, release)
    return {"changed": True, "previous": change.current_before, "current": release, "removed": removed,
            "diff": diff}


def record_failed(root: Path, fields: dict[str, Any], check: bool = False) -> dict[str, Any]:
    """Record a release that failed before the switch; `current` stays where it is."""
    with locked(root, check):
        change = _Change(root, check)
        entry = record(change.history, {**fields, "status": "failed"})
        restatus(change.history, change.current, change.present)
        changed = change.changed
        change.apply()
    return {"changed": changed, "failed_release": entry["id"], "current": change.current or "", "diff": change.diff()}


def _good_target(history: list[dict[str, Any]], present: Sequence[str], release: str) -> dict[str, Any]:
    entry = entry_of(history, release)
    if entry is None:
        known = ", ".join(e["id"] for e in _good(history)) or "none"
        raise ReleaseError(f"release {release} is not in the release history (good releases: {known})")
    if entry.get("status") not in GOOD:
        raise ReleaseError(f"release {release} is {entry.get('status')}: it never serves again")
    if release not in present:
        raise ReleaseError(f"release {release} was pruned from the host")
    return entry


def revert(root: Path, fields: dict[str, Any], to: str | None, reason: str, check: bool = False) -> dict[str, Any]:
    """After a failed deploy: put `to` back if `current` moved to the failed release
    (fields["id"]); record that release as failed.

    `to` is the release that served before the deploy (None on a first deploy,
    when there is nothing to go back to).
    """
    failed = fields["id"]
    with locked(root, check):
        change = _Change(root, check)
        switched = change.current == failed and to is not None and to != failed
        if switched:
            _good_target(change.history, change.present, to)
            change.switch(to)
        record(change.history, {**fields, "status": "failed", "reason": reason})
        restatus(change.history, change.current, change.present)
        changed = change.changed
        change.apply()
    return {"changed": changed, "failed_release": failed, "current": change.current or "", "switched_back": switched,
            "diff": change.diff()}


def rollback(root: Path, target: str | None, check: bool = False) -> dict[str, Any]:
    """Switch to a named good release, or to the one that served before the current one.

    The target comes from the history's activation order, never from directory times.
    """
    with locked(root, check):
        change = _Change(root, check)
        current = change.current
        if target is None:
            target = previous_of(change.history, current, change.present)
            if target is None:
                raise ReleaseError("no earlier good release to roll back to (name one with release=<id>)")
        _good_target(change.history, change.present, target)
        if target == current:
            return {"changed": False, "from": current, "current": current, "venv_changed": False,
                    "diff": change.diff()}
        before = entry_of(change.history, current) if current else None
        entry = entry_of(change.history, target)
        entry["activation"] = _next_activation(change.history)
        change.switch(target)
        restatus(change.history, target, change.present)
        change.apply()
    venv_changed = (before or {}).get("venv_key") != entry.get("venv_key")
    return {"changed": True, "from": current, "current": target, "venv_changed": venv_changed,
            "diff": change.diff()}


# --- pruning -------------------------------------------------------------------


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


def _check_keep(keep: int) -> None:
    if keep < 2:
        raise ReleaseError("keep must be at least 2 (current and previous)")


def _prune(root: Path, keep: int, check: bool, planned: _Change | None = None) -> dict[str, Any]:
    """Prune from the disk's state, or (check mode after a planned activation) from that plan."""
    with locked(root, check):
        change = _Change(root, check)
        if planned is not None:
            change.before, change.current_before = planned.before, planned.current_before
            change.history, change.current = copy.deepcopy(planned.history), planned.current
        doomed = plan_prune(change.history, change.present, change.current, keep)
        change.removed = doomed
        change.history = [e for e in change.history if e.get("id") not in doomed]
        change.apply()
    return {"changed": bool(doomed), "removed": doomed, "history": change.history, "diff": change.diff()}


def prune(root: Path, keep: int, check: bool = False) -> dict[str, Any]:
    """Delete old releases, keeping the newest `keep` good ones, current and previous."""
    _check_keep(keep)
    result = _prune(root, keep, check)
    del result["history"]
    return result


# --- the deploy lock -----------------------------------------------------------


def _read_lock(path: Path) -> dict[str, Any]:
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return held if isinstance(held, dict) else {}


def _claim(token: str, owner: str, run: str) -> bytes:
    return json.dumps({"token": token, "owner": owner, "since": now(), "run": run}, sort_keys=True).encode()


@contextlib.contextmanager
def _guard(directory: Path) -> Iterator[None]:
    """Serialises the read-then-replace of taking over a claim: two runs that both found
    the same finished holder must not both replace it."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def take_lock(path: Path, token: str, owner: str, force: bool = False, check: bool = False,
              run: str = "", replace_run: str = "") -> dict[str, Any]:
    """Create the lock file atomically; the same run (token) may take it again.

    Another run's claim is replaced only with `force` (the user says that run is over)
    or when `replace_run` names the run that holds it (the caller found it over).
    The lock lives in /run: a reboot, which ends any run, also clears it.
    `changed` says whether the lock file was written (the module reports it as
    `taken`: holding the lock is not a change to the host).
    """
    def replaceable(held: dict[str, Any]) -> bool:
        return force or (bool(replace_run) and held.get("run") == replace_run)

    if check:
        if not path.exists():
            return {"changed": True, "held_by": owner}
        held = _read_lock(path)
        if held.get("token") == token:
            return {"changed": False, "held_by": owner}
        if not replaceable(held):
            raise ReleaseError(_refusal(path, held))
        return {"changed": True, "held_by": owner, "broken": _public(held)}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with _guard(path.parent):
            held = _read_lock(path)
            if held.get("token") == token:
                return {"changed": False, "held_by": owner}
            if not replaceable(held):
                raise ReleaseError(_refusal(path, held)) from None
            fd_tmp, tmp = tempfile.mkstemp(prefix=".lock.", dir=path.parent)
            with os.fdopen(fd_tmp, "wb") as out:
                out.write(_claim(token, owner, run))
            os.replace(tmp, path)
        return {"changed": True, "held_by": owner, "broken": _public(held)}
    with os.fdopen(fd, "wb") as out:
        out.write(_claim(token, owner, run))
    return {"changed": True, "held_by": owner}


def _public(held: dict[str, Any]) -> dict[str, Any]:
    """What may be shown of somebody else's claim: who, since when and which run, not their token."""
    return {key: held[key] for key in ("owner", "since", "run") if key in held}


def _refusal(path: Path, held: dict[str, Any]) -> str:
    return (f"another run holds the host lock {path}: {held.get('owner', '?')} since "
            f"{held.get('since', '?')}. Nothing was changed. If that run is over (it ran on another "
            "controller, or was killed), break the lock with -e host_lock_break=true")


def lock_claim(path: Path) -> dict[str, Any]:
    """The holder's public claim ({} when nobody holds the lock)."""
    return _public(_read_lock(path)) if path.exists() else {}


def release_lock(path: Path, token: str, check: bool = False) -> dict[str, Any]:
    """Remove the lock only if this run still holds it (someone may have broken it)."""
    held = _read_lock(path)
    if not path.exists():
        return {"changed": False}
    if held.get("token") != token:
        return {"changed": False, "held_by": held.get("owner", "?")}
    if not check:
        path.unlink()
    return {"changed": True}


def lock_holder(path: Path) -> str:
    """Who holds the lock, for the diff ("" when nobody does)."""
    if not path.exists():
        return ""
    return str(_read_lock(path).get("owner", "?"))

# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Owners and modes of a whole tree as desired state: one walk, one lstat per entry.

Used by the owned_tree module (releases, static, media, the database). Some trees are
writable by the app (uploads, the SQLite directory), and this runs as root: an entry
swapped for a symlink between the listing and the fix must not hand root's chown or
chmod to its target. So entries are reached through the
file descriptor of their directory (os.fwalk), owners are set without following the last
component, and modes are set through a descriptor opened with O_NOFOLLOW.
"""

from __future__ import annotations

import errno
import functools
import grp
import os
import pwd
import stat
from dataclasses import dataclass, field
from pathlib import Path

# What a report shows of a large fix; the count says the rest.
SHOWN = 20

# No controlling terminal or blocking open (a FIFO), and never through a symlink.
_OPEN = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class UnknownAccount(LookupError):
    """A user or group the tree is to belong to does not exist."""


@dataclass(frozen=True)
class Wanted:
    uid: int
    gid: int
    dir_mode: int
    # None: files keep the mode their writer chose (uploads, SQLite), only owners are ours.
    file_mode: int | None = None
    # For regular files with the owner-execute bit; None: as file_mode.
    exec_mode: int | None = None

    def mode_for(self, st: os.stat_result) -> int | None:
        """The mode to enforce, None for "keep it"."""
        if stat.S_ISDIR(st.st_mode):
            return self.dir_mode
        if not stat.S_ISREG(st.st_mode):
            # A symlink's mode means nothing (and chmod would follow it); sockets and FIFOs
            # get the mode their creator needs.
            return None
        if st.st_mode & stat.S_IXUSR and self.exec_mode is not None:
            return self.exec_mode
        return self.file_mode


@dataclass
class Fix:
    """What own_tree found: counts, and the first SHOWN fixed paths three ways."""

    total: int = 0
    fixed: int = 0
    # "<path> <owner>:<group> <mode>" as found and as wanted.
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    # "<path> root:root 0700 -> root:demo 0750".
    paths: list[str] = field(default_factory=list)

    def diff(self) -> dict[str, str]:
        more = [f"... and {self.fixed - SHOWN} more"] if self.fixed > SHOWN else []
        return {"before": "".join(f"{line}\n" for line in self.before + more),
                "after": "".join(f"{line}\n" for line in self.after + more)}


def ids(owner: str, group: str) -> tuple[int, int]:
    """The numeric ids; UnknownAccount names the one that does not exist."""
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise UnknownAccount(f"user {owner} does not exist: create the app account first") from None
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise UnknownAccount(f"group {group} does not exist: create the app account first") from None
    return uid, gid


@functools.lru_cache(maxsize=None)
def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)  # a deleted account's files keep its number


@functools.lru_cache(maxsize=None)
def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _label(uid: int, gid: int, mode: int) -> str:
    return f"{_user(uid)}:{_group(gid)} {mode:04o}"


def _own(fix: Fix, wanted: Wanted, name: str, path: str, dir_fd: int | None, check: bool) -> None:
    """Compare one entry (`name` in the directory `dir_fd`) and fix it unless `check`."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return  # gone since it was listed (an upload deleted meanwhile): nothing to own
    fix.total += 1
    current = stat.S_IMODE(st.st_mode)
    mode = wanted.mode_for(st)
    owner_wrong = (st.st_uid, st.st_gid) != (wanted.uid, wanted.gid)
    if not owner_wrong and (mode is None or current == mode):
        return
    fix.fixed += 1
    if len(fix.paths) < SHOWN:
        found = _label(st.st_uid, st.st_gid, current)
        target = _label(wanted.uid, wanted.gid, current if mode is None else mode)
        fix.before.append(f"{path} {found}")
        fix.after.append(f"{path} {target}")
        fix.paths.append(f"{path} {found} -> {target}")
    if check:
        return
    if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):
        os.chown(name, wanted.uid, wanted.gid, dir_fd=dir_fd, follow_symlinks=False)
        return
    try:
        fd = os.open(name, _OPEN, dir_fd=dir_fd)
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return  # replaced by a symlink since the lstat: not ours to follow; the next run sees it
        raise
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return  # replaced since the lstat; the next run judges the new one
        if owner_wrong:
            os.fchown(fd, wanted.uid, wanted.gid)
        # Also when only the owner was wrong: chown clears setuid/setgid, which the mode keeps.
        os.fchmod(fd, current if mode is None else mode)
    finally:
        os.close(fd)


def _raise(exc: OSError) -> None:
    if not isinstance(exc, FileNotFoundError):  # a directory removed meanwhile is no error
        raise exc


def own_tree(top: Path, uid: int, gid: int, dir_mode: int, file_mode: int | None = None,
             exec_mode: int | None = None, recurse: bool = True, check: bool = False) -> Fix:
    """Give `top` and (with `recurse`) everything below it uid:gid, directories `dir_mode`,
    regular files `file_mode` (None: keep theirs), those with the owner-execute bit
    `exec_mode` (None: as files). Symlinks get their owner only and are never followed.
    With `check`, only reports. FileNotFoundError when `top` does not exist."""
    wanted = Wanted(uid, gid, dir_mode, file_mode, exec_mode)
    fix = Fix()
    top_st = os.lstat(top)
    _own(fix, wanted, str(top), str(top), None, check)
    if not recurse or not stat.S_ISDIR(top_st.st_mode):
        return fix
    for directory, dirnames, filenames, dir_fd in os.fwalk(top, onerror=_raise):
        dirnames.sort()  # the order fwalk descends in, and so the order of the report
        for name in sorted(dirnames + filenames):
            _own(fix, wanted, name, os.path.join(directory, name), dir_fd, check)
    return fix

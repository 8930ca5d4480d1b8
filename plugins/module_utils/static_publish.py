# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Move a release's collected static files into the live STATIC_ROOT, one rename per file.

collectstatic itself deletes and re-saves every post-processed (hashed CSS) file on each
run, and copies a changed file over the old one by deleting it first: nginx, serving the
same directory meanwhile, answers 404 or sends half a file. So the release collects into
a staging directory on the live root's file system, and each file that is new or differs
is put in place with rename(2): at every instant a reader opens either the complete old
file or the complete new one. Nothing is deleted or written in place, and files the
release no longer has stay, for pages of older releases still open in browsers. The one
exception is a gzip copy that no longer matches its file: nginx's gzip_static would send
it instead of the new file, so it goes (before its file is replaced; without it nginx
sends the file itself).
"""

from __future__ import annotations

import filecmp
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ansible_collections.djstack.stack.plugins.module_utils.static_gzip import gzip_matches, walk_files

GZIP_SUFFIX = ".gz"


class PublishError(Exception):
    """A staged tree that cannot be published; the message names the path."""


@dataclass
class Plan:
    """What publishing would do, as paths relative to the roots, sorted."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)


@dataclass(frozen=True)
class Attributes:
    """What every published file and new directory gets."""

    mode: int = 0o644
    directory_mode: int = 0o755
    uid: int | None = None
    gid: int | None = None


def staged_files(src: Path) -> list[str]:
    """The regular files under `src`, relative and sorted."""
    found = []
    for path in walk_files(src):
        if path.is_symlink() or not path.is_file():
            raise PublishError(f"{path} is not a regular file")
        found.append(str(path.relative_to(src)))
    # A symlinked directory is listed as a directory and never entered by os.walk.
    for directory, dirs, _files in os.walk(src):
        for name in dirs:
            if Path(directory, name).is_symlink():
                raise PublishError(f"{Path(directory, name)} is not a directory")
    return found


def _up_to_date(staged: Path, live: Path, attrs: Attributes) -> bool:
    try:
        st = os.lstat(live)
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != attrs.mode:
        return False
    if (attrs.uid is not None and st.st_uid != attrs.uid) or (attrs.gid is not None and st.st_gid != attrs.gid):
        return False
    # Content, not mtime: collectstatic gives every post-processed file a new mtime on each run.
    return filecmp.cmp(staged, live, shallow=False)


def plan(src: Path, dest: Path, attrs: Attributes) -> Plan:
    result = Plan()
    names = staged_files(src)
    staged = set(names)
    for name in names:
        live = dest / name
        if os.path.isdir(live) and not os.path.islink(live):
            raise PublishError(f"{live} is a directory; the release has a file there")
        if _up_to_date(src / name, live, attrs):
            result.kept += 1
        elif os.path.lexists(live):
            result.replaced.append(name)
        else:
            result.added.append(name)
        copy = name + GZIP_SUFFIX
        if copy not in staged and os.path.lexists(dest / copy) and not gzip_matches((src / name).read_bytes(), dest / copy):
            result.removed.append(copy)
    return result


def _make_parents(dest: Path, name: str, attrs: Attributes) -> None:
    missing = []
    parent = (dest / name).parent
    while parent != dest and not parent.is_dir():
        missing.append(parent)
        parent = parent.parent
    for directory in reversed(missing):
        # Created empty, then filled by renames: a file never shows up half-written in it.
        directory.mkdir()
        os.chmod(directory, attrs.directory_mode)
        if attrs.uid is not None or attrs.gid is not None:
            os.chown(directory, -1 if attrs.uid is None else attrs.uid, -1 if attrs.gid is None else attrs.gid)


def _prepare(path: Path, attrs: Attributes) -> None:
    """The final mode and owner, set before the file is visible under its live name."""
    os.chmod(path, attrs.mode)
    if attrs.uid is not None or attrs.gid is not None:
        os.chown(path, -1 if attrs.uid is None else attrs.uid, -1 if attrs.gid is None else attrs.gid)


def _move(staged: Path, live: Path, same_fs: bool, attrs: Attributes) -> None:
    if same_fs:
        _prepare(staged, attrs)
        os.replace(staged, live)
        return
    # rename(2) cannot cross file systems: copy beside the live file first, then rename that.
    fd, tmp = tempfile.mkstemp(dir=live.parent, prefix=".publish-")
    try:
        with os.fdopen(fd, "wb") as out, staged.open("rb") as data:
            shutil.copyfileobj(data, out)
        _prepare(Path(tmp), attrs)
        os.replace(tmp, live)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise


def publish(src: Path, dest: Path, attrs: Attributes, dry_run: bool = False) -> Plan:
    """Bring `dest` up to date with `src`; unless dry_run, `src` is removed afterwards."""
    if not src.is_dir():
        raise PublishError(f"{src} is not a directory")
    if not dest.is_dir():
        raise PublishError(f"{dest} is not a directory")
    todo = plan(src, dest, attrs)
    if dry_run:
        return todo
    same_fs = os.stat(src).st_dev == os.stat(dest).st_dev
    for name in todo.removed:
        os.unlink(dest / name)
    for name in sorted(todo.added + todo.replaced):
        _make_parents(dest, name, attrs)
        _move(src / name, dest / name, same_fs, attrs)
    shutil.rmtree(src)
    return todo

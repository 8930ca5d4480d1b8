# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pack a project directory on the controller into a deterministic archive.

The same tree always gives byte-identical tar content (sorted entries, no
owners, no timestamps, normalised modes), so the SHA-256 of that content is a
stable source revision: an unchanged tree means no new release on the host.
The revision is the hash of the uncompressed tar stream, not of the .tar.gz, so
it stays comparable with the revisions recorded by earlier deploys whatever the
gzip library does.

An exclude pattern without "/" matches the name of any file or directory at
any depth (e.g. "__pycache__", "*.pyc"); one with "/" matches the path relative
to the source directory (e.g. "/media" is only the top-level media directory).

Controller-side code (the action plugin djstack.stack.source_archive): it runs
with the controller's Python (3.11+ for ansible-core 2.19), never on a host.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import io
import os
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO


class SourceArchiveError(Exception):
    """The tree cannot be packed; the message says which path and why."""


class _HashingWriter(io.RawIOBase):
    """Write-through file object that hashes the uncompressed tar stream."""

    def __init__(self, target: BinaryIO) -> None:
        self._target = target
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self.digest.update(data)
        self._target.write(data)
        return len(data)


def is_excluded(relative: str, patterns: Sequence[str]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    for pattern in patterns:
        if "/" in pattern:
            if fnmatch.fnmatchcase(relative, pattern.strip("/")):
                return True
        elif fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def walk(source: Path, patterns: Sequence[str]) -> Iterator[tuple[str, Path]]:
    """Yield (relative posix path, absolute path) in a stable, sorted order."""
    for directory, dirnames, filenames in os.walk(source):
        base = Path(directory)
        dirnames[:] = sorted(
            d for d in dirnames if not is_excluded((base / d).relative_to(source).as_posix(), patterns)
        )
        # Symlinked directories are not descended into by os.walk; pack them as links.
        entries = sorted(filenames + [d for d in dirnames if (base / d).is_symlink()])
        dirnames[:] = [d for d in dirnames if not (base / d).is_symlink()]
        for name in sorted(set(entries) | set(dirnames)):
            path = base / name
            relative = path.relative_to(source).as_posix()
            if not is_excluded(relative, patterns):
                yield relative, path


def _tarinfo(relative: str, path: Path, source: Path) -> tarfile.TarInfo:
    info = tarfile.TarInfo(relative)
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(path)
        resolved = (path.parent / target).resolve()
        if os.path.isabs(target) or not resolved.is_relative_to(source.resolve()):
            raise SourceArchiveError(f"{relative}: symlink to {target!r} leaves the source tree")
        info.type = tarfile.SYMTYPE
        info.linkname = target
        info.mode = 0o777
    elif stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif stat.S_ISREG(st.st_mode):
        info.size = st.st_size
        info.mode = 0o755 if st.st_mode & 0o111 else 0o644
    else:
        raise SourceArchiveError(f"{relative}: not a regular file, directory or symlink")
    return info


def _write(source: Path, raw: BinaryIO, patterns: Sequence[str]) -> tuple[str, int]:
    count = 0
    # mtime=0 and no file name keep the gzip header deterministic too.
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as compressed:
        hashing = _HashingWriter(compressed)
        with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.GNU_FORMAT) as tar:
            for relative, path in walk(source, patterns):
                info = _tarinfo(relative, path, source)
                if info.isreg():
                    with path.open("rb") as content:
                        tar.addfile(info, content)
                else:
                    tar.addfile(info)
                count += 1
    return hashing.digest.hexdigest(), count


def build(source: Path, output: Path, patterns: Sequence[str]) -> dict[str, object]:
    """Pack `source` into `output` (.tar.gz) and return revision, files (entries) and size.

    The archive is written next to `output` and renamed into place, so a failed
    pack never leaves a truncated archive that a later task could unpack. It is
    readable by the controller user only (mkstemp's 0600): it may hold settings.
    """
    if not source.is_dir():
        raise SourceArchiveError(f"{source} is not a directory")
    if not output.parent.is_dir():
        raise SourceArchiveError(f"{output.parent} (the directory of dest) does not exist")
    if output.resolve().is_relative_to(source.resolve()):
        # The archive would pack itself while it grows: no stable revision.
        raise SourceArchiveError(f"{output} is inside {source}: put the archive outside the tree it packs")
    fd, partial = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            revision, count = _write(source, raw, patterns)
        os.replace(partial, output)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return {"revision": revision, "files": count, "size": output.stat().st_size}

#!/usr/bin/env python3
"""Pack a Django project directory on the controller into a deterministic archive.

The same tree always gives byte-identical tar content (sorted entries, no
owners, no timestamps, normalised modes), so the SHA-256 of that content is a
stable source revision: an unchanged tree means no new release on the host.

Usage: source_archive.py SOURCE_DIR OUTPUT.tar.gz [--exclude PATTERN]...
Prints {"revision": ..., "files": N} as JSON.

An exclude pattern without "/" matches the name of any file or directory at
any depth (e.g. "__pycache__", "*.pyc"); one with "/" matches the path relative
to SOURCE_DIR (e.g. "/media" is only the top-level media directory).
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO


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
            raise ValueError(f"{relative}: symlink to {target!r} leaves the source tree")
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
        raise ValueError(f"{relative}: not a regular file, directory or symlink")
    return info


def build(source: Path, output: Path, patterns: Sequence[str]) -> dict[str, object]:
    if not source.is_dir():
        raise ValueError(f"{source} is not a directory")
    count = 0
    with output.open("wb") as raw:
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
    return {"revision": hashing.digest.hexdigest(), "files": count}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--exclude", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        result = build(args.source, args.output, args.exclude)
    except (OSError, ValueError) as exc:
        print(f"source_archive: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Write `file.gz` beside each text file in STATIC_ROOT, for nginx's gzip_static.

nginx then sends the copy as is instead of compressing the same bytes on every request.
gzip_static sends a `.gz` even when it no longer matches its file, so a copy is rewritten
whenever the CRC-32 and length in its gzip trailer differ from its file's content.
Content, not mtime: collectstatic re-saves every post-processed (hashed CSS) file on
every run, with the same bytes. Copies that would not be smaller are not kept.
Prints one JSON object of counts: {"written": N, "removed": N, "kept": N};
--list adds the written and removed names.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import struct
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

# The text types nginx compresses on the fly (its gzip_types), by file suffix.
SUFFIXES = frozenset({
    ".css", ".js", ".mjs", ".json", ".map", ".txt", ".xml", ".html", ".htm", ".svg",
    ".ico", ".wasm", ".ttf", ".otf", ".webmanifest", ".rss", ".atom",
})


def _sources(root: Path) -> list[Path]:
    found = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(directory, name)
            if path.suffix.lower() in SUFFIXES and not path.is_symlink():
                found.append(path)
    return found


def _matches(data: bytes, copy: Path) -> bool:
    """Whether the copy's gzip trailer (CRC-32, length mod 2**32) describes `data`."""
    try:
        with copy.open("rb") as packed:
            packed.seek(-8, os.SEEK_END)
            crc, size = struct.unpack("<II", packed.read(8))
    except OSError:  # missing, or too short to be gzip
        return False
    return crc == zlib.crc32(data) and size == len(data) & 0xFFFFFFFF


def _write(source: Path, packed: bytes, copy: Path) -> None:
    """Write the copy atomically, with its file's mode and mtime (nginx's Last-Modified)."""
    stat = source.stat()
    fd, tmp = tempfile.mkstemp(dir=copy.parent, prefix=".gz-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(packed)
        os.chmod(tmp, stat.st_mode & 0o777)
        os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.replace(tmp, copy)
    except BaseException:
        os.unlink(tmp)
        raise


def _pack(data: bytes, min_size: int, level: int) -> bytes | None:
    """The gzip copy of `data`, or None where it would not help."""
    if len(data) < min_size:
        return None
    # mtime=0 in the header: the same content always packs to the same bytes.
    packed = gzip.compress(data, compresslevel=level, mtime=0)
    return packed if len(packed) < len(data) else None


def compress(root: Path, min_size: int = 256, level: int = 9, dry_run: bool = False) -> dict[str, Any]:
    """Bring every copy up to date: written, removed (now too small or not smaller), kept."""
    result: dict[str, Any] = {"written": [], "removed": [], "kept": 0}
    for source in _sources(root):
        copy = source.with_name(source.name + ".gz")
        data = source.read_bytes()
        if _matches(data, copy):
            result["kept"] += 1
            continue
        relative = str(source.relative_to(root))
        if (packed := _pack(data, min_size, level)) is not None:
            if not dry_run:
                _write(source, packed, copy)
            result["written"].append(relative)
        elif copy.exists():
            if not dry_run:
                copy.unlink()
            result["removed"].append(relative)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--min-size", type=int, default=256, help="smaller files are sent as they are")
    parser.add_argument("--level", type=int, default=9, choices=range(1, 10))
    parser.add_argument("--dry-run", action="store_true", help="change nothing, count what would change")
    parser.add_argument("--list", action="store_true", help="name the files written and removed")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        print(f"{args.root} is not a directory", file=sys.stderr)
        return 2
    result = compress(args.root, args.min_size, args.level, args.dry_run)
    # A first deploy writes hundreds (Django's admin alone): counts keep the play's output short.
    summary: dict[str, Any] = {key: len(value) if isinstance(value, list) else value
                               for key, value in result.items()}
    if args.list:
        summary.update(written_files=result["written"], removed_files=result["removed"])
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

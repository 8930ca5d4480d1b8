# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`file.gz` beside each text file in STATIC_ROOT, for nginx's gzip_static.

nginx then sends the copy as is instead of compressing the same bytes on every request.
gzip_static sends a `.gz` even when it no longer matches its file, so a copy is rewritten
whenever the CRC-32 and length in its gzip trailer differ from its file's content.
Content, not mtime: collectstatic re-saves every post-processed (hashed CSS) file on
every run, with the same bytes. Copies that would not be smaller are not kept.
"""

from __future__ import annotations

import gzip
import os
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any

# The text types nginx compresses on the fly (its gzip_types), by file suffix.
SUFFIXES = frozenset({
    ".css", ".js", ".mjs", ".json", ".map", ".txt", ".xml", ".html", ".htm", ".svg",
    ".ico", ".wasm", ".ttf", ".otf", ".webmanifest", ".rss", ".atom",
})


def walk_files(root: Path) -> list[Path]:
    """Every file under `root` (symlinks too), in a stable order: directories and names sorted."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs.sort()
        found.extend(Path(directory, name) for name in sorted(files))
    return found


def _sources(root: Path) -> list[Path]:
    return [path for path in walk_files(root) if path.suffix.lower() in SUFFIXES and not path.is_symlink()]


def gzip_matches(data: bytes, copy: Path) -> bool:
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
    st = source.stat()
    fd, tmp = tempfile.mkstemp(dir=copy.parent, prefix=".gz-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(packed)
        os.chmod(tmp, st.st_mode & 0o777)
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
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
        if gzip_matches(data, copy):
            result["kept"] += 1
            continue
        relative = str(source.relative_to(root))
        packed = _pack(data, min_size, level)
        if packed is not None:
            if not dry_run:
                _write(source, packed, copy)
            result["written"].append(relative)
        elif copy.exists():
            if not dry_run:
                copy.unlink()
            result["removed"].append(relative)
    return result

#!/usr/bin/env python3
"""Write catalog/static/catalog/img/hero.png: a ~200 KB PNG of colour noise.

Noise does not compress, so the file stays realistically large for testing
nginx's static serving and caching. The bytes come from SHA-256 in counter
mode rather than `random`, so every Python version writes an identical file
(a test regenerates it and compares). Standard library only: no Pillow.

Usage: python tools/make_hero_png.py [--output PATH] [--width W] [--height H] [--seed S]
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent / "catalog" / "static" / "catalog" / "img" / "hero.png"
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def noise_bytes(seed: str) -> Iterator[bytes]:
    counter = 0
    while True:
        yield hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1


def take(stream: Iterator[bytes], size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        out += next(stream)
    return bytes(out[:size])


def chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def make_png(width: int, height: int, seed: str) -> bytes:
    stream = noise_bytes(seed)
    # Each scanline starts with filter type 0 (None), then RGB triplets.
    raw = b"".join(b"\x00" + take(stream, width * 3) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--seed", default="demo-hero")
    args = parser.parse_args(argv)

    data = make_png(args.width, args.height, args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The committed hero image is a real PNG and reproducible from its script."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from demo_testlib import APP_DIR, PYTHON, clean_env, run

HERO = APP_DIR / "catalog" / "static" / "catalog" / "img" / "hero.png"


def read_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        chunks.append((kind, body))
        offset += 12 + length
    return chunks


def test_hero_is_a_valid_png_of_about_200_kb() -> None:
    data = HERO.read_bytes()
    assert 150_000 <= len(data) <= 250_000
    chunks = read_chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour) == (8, 2)
    pixels = zlib.decompress(chunks[1][1])
    assert len(pixels) == height * (1 + width * 3)


def test_generator_reproduces_the_committed_file(tmp_path: Path) -> None:
    output = tmp_path / "hero.png"
    result = run([PYTHON, "tools/make_hero_png.py", "--output", str(output)], env=clean_env())
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == HERO.read_bytes()

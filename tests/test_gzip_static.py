"""roles/django_app/files/gzip_static.py: the .gz copies nginx's gzip_static sends."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "roles" / "django_app" / "files" / "gzip_static.py"
CSS = b"body { color: #222; margin: 0 auto; }\n" * 40


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gzip_static", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gz = _load()


@pytest.fixture
def static(tmp_path: Path) -> Path:
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "site.4f1c2a.css").write_bytes(CSS)
    os.chmod(tmp_path / "css" / "site.4f1c2a.css", 0o644)
    return tmp_path


def _bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_copy_holds_the_same_bytes(static):
    gz.compress(static)
    assert gzip.decompress((static / "css" / "site.4f1c2a.css.gz").read_bytes()) == CSS


def test_copy_has_the_file_mode_and_mtime(static):
    gz.compress(static)
    source, copy = static / "css" / "site.4f1c2a.css", static / "css" / "site.4f1c2a.css.gz"
    assert copy.stat().st_mode & 0o777 == 0o644
    assert copy.stat().st_mtime_ns == source.stat().st_mtime_ns


def test_second_run_writes_nothing(static):
    assert gz.compress(static)["written"] == ["css/site.4f1c2a.css"]
    assert gz.compress(static) == {"written": [], "removed": [], "kept": 1}


def test_same_file_packs_to_the_same_bytes(static, tmp_path_factory):
    other = tmp_path_factory.mktemp("other")
    (other / "a.css").write_bytes(CSS)
    gz.compress(static)
    gz.compress(other)
    assert (other / "a.css.gz").read_bytes() == (static / "css" / "site.4f1c2a.css.gz").read_bytes()


def test_file_rewritten_in_place_gets_a_new_copy(static):
    source = static / "css" / "site.4f1c2a.css"
    gz.compress(static)
    source.write_bytes(CSS + b"a { color: red; }\n")
    assert gz.compress(static)["written"] == ["css/site.4f1c2a.css"]
    assert gzip.decompress((static / "css" / "site.4f1c2a.css.gz").read_bytes()).endswith(b"red; }\n")


def test_file_saved_again_with_the_same_bytes_keeps_its_copy(static):
    # collectstatic re-saves post-processed CSS on every run: a new mtime, the same content.
    gz.compress(static)
    _bump_mtime(static / "css" / "site.4f1c2a.css")
    assert gz.compress(static) == {"written": [], "removed": [], "kept": 1}


def test_truncated_copy_is_rewritten(static):
    gz.compress(static)
    (static / "css" / "site.4f1c2a.css.gz").write_bytes(b"\x1f\x8b")
    assert gz.compress(static)["written"] == ["css/site.4f1c2a.css"]


@pytest.mark.parametrize(("name", "content"), [
    ("tiny.css", b"a{}"),                 # under --min-size: the header costs more than it saves
    ("hero.png", b"\x89PNG" + CSS),       # not a text type: already compressed
    ("noise.js", os.urandom(4096)),       # would not get smaller
])
def test_no_copy_where_it_would_not_help(static, name, content):
    (static / name).write_bytes(content)
    gz.compress(static)
    assert not (static / f"{name}.gz").exists()


def test_stale_copy_of_a_file_that_no_longer_shrinks_is_removed(static):
    source = static / "css" / "site.4f1c2a.css"
    gz.compress(static)
    source.write_bytes(os.urandom(4096))
    assert gz.compress(static)["removed"] == ["css/site.4f1c2a.css"]
    assert not (static / "css" / "site.4f1c2a.css.gz").exists()


def test_dry_run_lists_without_writing(static):
    assert gz.compress(static, dry_run=True)["written"] == ["css/site.4f1c2a.css"]
    assert not (static / "css" / "site.4f1c2a.css.gz").exists()


def test_prints_counts_and_names_on_request(static, capsys):
    assert gz.main([str(static), "--list"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "written": 1, "removed": 0, "kept": 0,
        "written_files": ["css/site.4f1c2a.css"], "removed_files": [],
    }
    assert gz.main([str(static)]) == 0
    assert json.loads(capsys.readouterr().out) == {"written": 0, "removed": 0, "kept": 1}


def test_missing_root_is_an_error(tmp_path, capsys):
    assert gz.main([str(tmp_path / "nope")]) == 2
    assert "is not a directory" in capsys.readouterr().err

"""djstack.stack.static_gzip and module_utils/static_gzip.py: the .gz copies nginx's gzip_static sends."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils import static_gzip as gz
from tests.modrun import run_module

CSS = b"body { color: #222; margin: 0 auto; }\n" * 40


@pytest.fixture
def static(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "site.4f1c2a.css").write_bytes(CSS)
    os.chmod(root / "css" / "site.4f1c2a.css", 0o644)
    return root


def _bump_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


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


def test_a_matching_copy_another_tool_wrote_is_reused(static):
    # whitenoise's CompressedManifestStaticFilesStorage writes its own .gz copies during
    # collectstatic: other bytes than ours (level, header), the same content.
    copy = static / "css" / "site.4f1c2a.css.gz"
    theirs = gzip.compress(CSS, compresslevel=6, mtime=1_700_000_000)
    copy.write_bytes(theirs)
    assert gz.compress(static) == {"written": [], "removed": [], "kept": 1}
    assert copy.read_bytes() == theirs


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
    ("tiny.css", b"a{}"),                 # under min_size: the header costs more than it saves
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


# --- the module ------------------------------------------------------------------------


def test_module_reports_counts_then_nothing_to_do(static, tmp_path):
    result = run_module("static_gzip", {"path": str(static)}, tmp_path)
    assert (result["changed"], result["written"], result["removed"], result["kept"]) == (True, 1, 0, 0)
    assert "diff" not in result
    again = run_module("static_gzip", {"path": str(static)}, tmp_path)
    assert (again["changed"], again["written"], again["removed"], again["kept"]) == (False, 0, 0, 1)


def test_module_diff_names_the_files(static, tmp_path):
    (static / "tiny.css").write_bytes(CSS)
    run_module("static_gzip", {"path": str(static)}, tmp_path)
    (static / "tiny.css").write_bytes(b"a{}")
    result = run_module("static_gzip", {"path": str(static), "min_size": 256}, tmp_path, diff=True)
    assert result["diff"] == {"before": {"written": [], "removed": []},
                              "after": {"written": [], "removed": ["tiny.css.gz"]}}
    assert not (static / "tiny.css.gz").exists()


def test_module_check_mode_counts_and_lists_without_writing(static, tmp_path):
    result = run_module("static_gzip", {"path": str(static)}, tmp_path, check=True, diff=True)
    assert (result["changed"], result["written"]) == (True, 1)
    assert result["diff"]["after"]["written"] == ["css/site.4f1c2a.css.gz"]
    assert not (static / "css" / "site.4f1c2a.css.gz").exists()


def test_module_level_and_min_size_apply(static, tmp_path):
    result = run_module("static_gzip", {"path": str(static), "min_size": len(CSS) + 1, "level": 1}, tmp_path)
    assert (result["changed"], result["written"]) == (False, 0)
    assert not (static / "css" / "site.4f1c2a.css.gz").exists()


def test_module_missing_root_is_an_error(tmp_path):
    result = run_module("static_gzip", {"path": str(tmp_path / "nope")}, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == f"{tmp_path / 'nope'} is not a directory"

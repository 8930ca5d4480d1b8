"""djstack.stack.release_info: the history and `current`, read only."""

from __future__ import annotations

from pathlib import Path

from ansible_collections.djstack.stack.plugins.module_utils import releases
from tests.modrun import run_module


def test_reads_the_history_and_the_active_entry(tmp_path: Path):
    for release_id in ("r1", "r2"):
        (tmp_path / "releases" / release_id).mkdir(parents=True)
        releases.activate(tmp_path, {"id": release_id, "revision": "rev", "build": "b"})
    before = (tmp_path / "releases.json").read_text()
    result = run_module("release_info", {"root": str(tmp_path)}, tmp_path, check=True)
    assert result["changed"] is False
    assert [e["id"] for e in result["history"]] == ["r1", "r2"]
    assert (result["active"]["id"], result["current"]) == ("r2", "r2")
    assert (tmp_path / "releases.json").read_text() == before


def test_a_fresh_host_has_no_history(tmp_path: Path):
    result = run_module("release_info", {"root": str(tmp_path / "srv" / "demo")}, tmp_path)
    assert (result["history"], result["active"], result["current"], result["rc"]) == ([], {}, "", 0)


def test_a_history_that_is_not_a_list_fails_saying_so(tmp_path: Path):
    (tmp_path / "releases.json").write_text("{}\n")
    result = run_module("release_info", {"root": str(tmp_path)}, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == f"cannot read the release history: {tmp_path / 'releases.json'} does not hold a list"

"""djstack.stack.release and module_utils/releases.py: the history, `current`, revert, rollback, prune."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.djstack.stack.plugins.module_utils import releases as release
from tests.modrun import run_module

# --- pruning plans ---------------------------------------------------------------


def _history(*items: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"id": i, "status": s, "time": t, "revision": "r", "build": "b"} for i, s, t in items]


def test_prune_keeps_the_newest_good_releases():
    history = _history(("r1", "inactive", "1"), ("r2", "inactive", "2"), ("r3", "previous", "3"),
                       ("r4", "active", "4"))
    assert release.plan_prune(history, ["r1", "r2", "r3", "r4"], "r4", keep=3) == ["r1"]


def test_prune_never_removes_current_or_previous():
    # current is older than other good releases (a manual rollback).
    history = _history(("r1", "active", "1"), ("r2", "previous", "2"), ("r3", "inactive", "3"))
    assert release.plan_prune(history, ["r1", "r2", "r3"], "r1", keep=2) == ["r3"]


def test_prune_does_not_count_failed_releases():
    history = _history(("r1", "previous", "1"), ("r2", "active", "2"), ("r3", "failed", "3"))
    assert release.plan_prune(history, ["r1", "r2", "r3"], "r2", keep=2) == []


def test_prune_removes_failed_releases_older_than_the_active_one():
    history = _history(("r1", "failed", "1"), ("r2", "previous", "2"), ("r3", "active", "3"))
    assert release.plan_prune(history, ["r1", "r2", "r3"], "r3", keep=5) == ["r1"]


def test_prune_removes_leftovers_of_interrupted_runs():
    history = _history(("r1", "previous", "1"), ("r2", "active", "2"))
    assert release.plan_prune(history, ["r1", "r2", "r9"], "r2", keep=5) == ["r9"]


# --- the history on disk -------------------------------------------------------------


def _fields(release_id: str) -> dict[str, str]:
    return {"id": release_id, "revision": f"rev-{release_id}", "build": "b", "venv_key": "k"}


def _tree(root: Path, *ids: str) -> None:
    for release_id in ids:
        (root / "releases" / release_id).mkdir(parents=True)


def _statuses(root: Path) -> dict[str, str]:
    return {e["id"]: e["status"] for e in release.load_history(root)}


def _deployed(root: Path, *ids: str) -> None:
    _tree(root, *ids)
    for release_id in ids:
        release.activate(root, _fields(release_id))


def _snapshot(root: Path) -> tuple[str, str, list[str]]:
    """Everything a release operation may change: current, the history, the release directories."""
    link = os.readlink(root / "current") if (root / "current").is_symlink() else ""
    history = (root / "releases.json").read_text() if (root / "releases.json").exists() else ""
    return link, history, sorted(p.name for p in (root / "releases").iterdir())


def test_activate_switches_current_and_shifts_statuses(tmp_path: Path):
    _tree(tmp_path, "r1", "r2", "r3")
    for release_id in ("r1", "r2", "r3"):
        result = release.activate(tmp_path, _fields(release_id))
    assert os.readlink(tmp_path / "current") == "releases/r3"
    assert result["previous"] == "r2"
    statuses = {e["id"]: e["status"] for e in release.load_history(tmp_path)}
    assert statuses == {"r1": "inactive", "r2": "previous", "r3": "active"}


def test_activate_prunes_when_asked(tmp_path: Path):
    _tree(tmp_path, "r1", "r2", "r3")
    for release_id in ("r1", "r2"):
        release.activate(tmp_path, _fields(release_id))
    result = release.activate(tmp_path, _fields("r3"), keep=2)
    assert result["removed"] == ["r1"]
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["r2", "r3"]
    assert [e["id"] for e in release.load_history(tmp_path)] == ["r2", "r3"]


def test_failed_release_leaves_current_alone(tmp_path: Path):
    _tree(tmp_path, "r1", "r2")
    release.activate(tmp_path, _fields("r1"))
    release.record_failed(tmp_path, {**_fields("r2"), "reason": "check"})
    assert os.readlink(tmp_path / "current") == "releases/r1"
    statuses = {e["id"]: e["status"] for e in json.loads((tmp_path / "releases.json").read_text())}
    assert statuses == {"r1": "active", "r2": "failed"}


def test_revert_puts_the_serving_release_back_and_records_the_failure(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2", "r3")
    result = release.revert(tmp_path, _fields("r3"), "r2", "readiness through nginx")
    assert os.readlink(tmp_path / "current") == "releases/r2"
    assert result["switched_back"] is True
    assert _statuses(tmp_path) == {"r1": "previous", "r2": "active", "r3": "failed"}
    assert release.load_history(tmp_path)[-1]["reason"] == "readiness through nginx"


def test_revert_before_the_switch_only_records_the_failure(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2")
    _tree(tmp_path, "r3")
    result = release.revert(tmp_path, _fields("r3"), "r2", "canary not ready")
    assert result["switched_back"] is False
    assert os.readlink(tmp_path / "current") == "releases/r2"
    assert _statuses(tmp_path)["r3"] == "failed"


def test_rollback_goes_to_the_release_that_served_before(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2", "r3")
    result = release.rollback(tmp_path, None)
    assert (result["from"], result["current"]) == ("r3", "r2")
    assert os.readlink(tmp_path / "current") == "releases/r2"
    assert _statuses(tmp_path) == {"r1": "inactive", "r2": "active", "r3": "previous"}


def test_rollback_skips_failed_releases(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2")
    _tree(tmp_path, "r3")
    release.record_failed(tmp_path, {**_fields("r3"), "reason": "migrate"})
    assert release.rollback(tmp_path, None)["current"] == "r1"


def test_rollback_ignores_directory_times(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2", "r3")
    os.utime(tmp_path / "releases" / "r1", (4_000_000_000, 4_000_000_000))
    assert release.rollback(tmp_path, None)["current"] == "r2"


def test_rollback_to_a_named_release_then_back_follows_the_activation_order(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2", "r3")
    release.rollback(tmp_path, "r1")
    assert _statuses(tmp_path) == {"r1": "active", "r2": "inactive", "r3": "previous"}
    assert release.rollback(tmp_path, None)["current"] == "r3"


@pytest.mark.parametrize(("target", "message"), [
    ("r3", "is failed"),
    ("nope", "not in the release history"),
    ("r0", "pruned"),
])
def test_rollback_refuses_bad_targets(tmp_path: Path, target: str, message: str):
    _deployed(tmp_path, "r0", "r1", "r2")
    _tree(tmp_path, "r3")
    release.record_failed(tmp_path, {**_fields("r3"), "reason": "check"})
    (tmp_path / "releases" / "r0").rmdir()
    with pytest.raises(release.ReleaseError, match=message):
        release.rollback(tmp_path, target)
    assert os.readlink(tmp_path / "current") == "releases/r2"


def test_rollback_with_nothing_before_says_so(tmp_path: Path):
    _deployed(tmp_path, "r1")
    with pytest.raises(release.ReleaseError, match="no earlier good release"):
        release.rollback(tmp_path, None)


def test_rollback_reports_a_venv_change(tmp_path: Path):
    _tree(tmp_path, "r1", "r2", "r3")
    release.activate(tmp_path, {**_fields("r1"), "venv_key": "a"})
    release.activate(tmp_path, {**_fields("r2"), "venv_key": "a"})
    release.activate(tmp_path, {**_fields("r3"), "venv_key": "b"})
    assert release.rollback(tmp_path, None)["venv_changed"] is True
    assert release.rollback(tmp_path, "r1")["venv_changed"] is False


def test_prune_after_a_rollback_keeps_current_and_previous(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2", "r3", "r4")
    release.rollback(tmp_path, "r1")
    assert release.prune(tmp_path, 2)["removed"] == ["r2", "r3"]
    assert _statuses(tmp_path) == {"r1": "active", "r4": "previous"}


# --- check mode of the functions: the same answer, nothing written ------------------


@pytest.mark.parametrize("operation", [
    lambda root, check: release.activate(root, _fields("r4"), keep=2, check=check),
    lambda root, check: release.record_failed(root, {**_fields("r4"), "reason": "x"}, check=check),
    lambda root, check: release.revert(root, _fields("r3"), "r2", "x", check=check),
    lambda root, check: release.rollback(root, None, check=check),
    lambda root, check: release.prune(root, 2, check=check),
])
def test_check_mode_predicts_the_real_run_and_changes_nothing(tmp_path: Path, operation: Any):
    for copy in ("check", "real"):
        _deployed(tmp_path / copy, "r1", "r2", "r3")
        _tree(tmp_path / copy, "r4")
    before = _snapshot(tmp_path / "check")
    predicted = operation(tmp_path / "check", True)
    assert _snapshot(tmp_path / "check") == before
    done = operation(tmp_path / "real", False)
    for result in (predicted, done):
        result.pop("diff")
    assert predicted == done


def test_check_mode_on_a_host_without_the_root_plans_from_nothing(tmp_path: Path):
    result = release.record_failed(tmp_path / "missing", _fields("r1"), check=True)
    assert result["changed"] is True
    assert not (tmp_path / "missing").exists()


# --- the module ------------------------------------------------------------------------


def _args(root: Path, state: str, release_id: str = "", **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"root": str(root), "state": state, **extra}
    if release_id:
        args.update(id=release_id, revision=f"rev-{release_id}", build="b", venv_key="k")
    return args


def test_module_activates_and_is_idempotent(tmp_path: Path):
    _deployed(tmp_path, "r1")
    _tree(tmp_path, "r2")
    result = run_module("release", _args(tmp_path, "active", "r2"), tmp_path)
    assert (result["changed"], result["previous"], result["current"]) == (True, "r1", "r2")
    assert os.readlink(tmp_path / "current") == "releases/r2"
    again = run_module("release", _args(tmp_path, "active", "r2"), tmp_path)
    assert again["changed"] is False
    assert again["current"] == "r2"


def test_module_activation_in_check_mode_reports_and_changes_nothing(tmp_path: Path):
    _deployed(tmp_path, "r1")
    _tree(tmp_path, "r2")
    before = _snapshot(tmp_path)
    result = run_module("release", _args(tmp_path, "active", "r2"), tmp_path, check=True, diff=True)
    assert (result["changed"], result["current"]) == (True, "r2")
    assert _snapshot(tmp_path) == before
    assert (result["diff"]["before"]["current"], result["diff"]["after"]["current"]) == ("r1", "r2")
    assert result["diff"]["after"]["releases"]["r2"]["status"] == "active"
    assert result["diff"]["after"]["releases"]["r1"]["status"] == "previous"
    assert "r2" not in result["diff"]["before"]["releases"]


def test_module_activation_of_a_missing_release_fails_saying_so(tmp_path: Path):
    _deployed(tmp_path, "r1")
    result = run_module("release", _args(tmp_path, "active", "r9"), tmp_path)
    assert result["failed"] is True
    assert result["msg"] == f"release r9 does not exist under {tmp_path / 'releases'}"


def test_module_records_a_failure_once(tmp_path: Path):
    _deployed(tmp_path, "r1")
    _tree(tmp_path, "r2")
    result = run_module("release", _args(tmp_path, "failed", "r2", reason="check"), tmp_path, diff=True)
    assert (result["changed"], result["failed_release"], result["current"]) == (True, "r2", "r1")
    # A result key `failed` would fail the task whatever its value: Ansible reserves it.
    assert (result["rc"], "failed" in result) == (0, False)
    assert result["diff"]["after"]["releases"]["r2"]["status"] == "failed"
    assert _statuses(tmp_path) == {"r1": "active", "r2": "failed"}
    assert run_module("release", _args(tmp_path, "failed", "r2", reason="check"), tmp_path)["changed"] is False


def test_module_reverts_after_the_switch(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2")
    result = run_module("release", _args(tmp_path, "reverted", "r2", to="r1", reason="nginx"), tmp_path)
    assert (result["changed"], result["switched_back"], result["current"]) == (True, True, "r1")
    assert (result["failed_release"], "failed" in result) == ("r2", False)
    again = run_module("release", _args(tmp_path, "reverted", "r2", to="r1", reason="nginx"), tmp_path)
    assert (again["changed"], again["switched_back"]) == (False, False)


def test_module_rolls_back_and_reports_where_from(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2")
    result = run_module("release", {"root": str(tmp_path), "state": "rolled_back"}, tmp_path)
    assert (result["changed"], result["from"], result["current"], result["venv_changed"]) == (True, "r2", "r1", False)
    named = run_module("release", {"root": str(tmp_path), "state": "rolled_back", "to": "r1"}, tmp_path)
    assert named["changed"] is False


def test_module_rollback_refusal_names_the_good_releases(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2")
    result = run_module("release", {"root": str(tmp_path), "state": "rolled_back", "to": "nope"}, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == "release nope is not in the release history (good releases: r1, r2)"


def test_module_prunes_with_diff_and_check_mode(tmp_path: Path):
    _deployed(tmp_path, "r1", "r2", "r3")
    args = {"root": str(tmp_path), "state": "pruned", "keep": 2}
    before = _snapshot(tmp_path)
    checked = run_module("release", args, tmp_path, check=True, diff=True)
    assert (checked["changed"], checked["removed"]) == (True, ["r1"])
    assert "r1" in checked["diff"]["before"]["releases"] and "r1" not in checked["diff"]["after"]["releases"]
    assert _snapshot(tmp_path) == before
    assert run_module("release", args, tmp_path)["removed"] == ["r1"]
    assert not (tmp_path / "releases" / "r1").exists()
    assert run_module("release", args, tmp_path)["changed"] is False


def test_module_refuses_to_keep_fewer_than_two(tmp_path: Path):
    _deployed(tmp_path, "r1")
    result = run_module("release", {"root": str(tmp_path), "state": "pruned", "keep": 1}, tmp_path)
    assert result["msg"] == "keep must be at least 2 (current and previous)"

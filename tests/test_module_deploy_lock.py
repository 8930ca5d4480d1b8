"""djstack.stack.deploy_lock and the lock functions of module_utils/releases.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils import releases as release
from tests.modrun import run_module

# Tokens are no_log in the module: long enough not to be masked inside other output.
TOKEN, OTHER = "token-of-this-run-0001", "token-of-another-run-02"


def test_lock_is_exclusive_and_names_its_holder(tmp_path: Path):
    lock = tmp_path / "deploy.lock"
    release.take_lock(lock, "t1", "alice@laptop")
    with pytest.raises(release.ReleaseError, match="alice@laptop since"):
        release.take_lock(lock, "t2", "bob@ci")


def test_lock_is_reentrant_for_the_same_run(tmp_path: Path):
    lock = tmp_path / "deploy.lock"
    release.take_lock(lock, "t1", "alice")
    assert release.take_lock(lock, "t1", "alice")["changed"] is False


def test_a_stale_lock_is_broken_only_on_purpose(tmp_path: Path):
    lock = tmp_path / "deploy.lock"
    release.take_lock(lock, "t1", "crashed run")
    result = release.take_lock(lock, "t2", "bob", force=True)
    assert result["broken"]["owner"] == "crashed run"
    assert release.release_lock(lock, "t1") == {"changed": False, "held_by": "bob"}
    assert lock.exists()
    assert release.release_lock(lock, "t2") == {"changed": True}
    assert not lock.exists()


def _lock(tmp_path: Path, state: str = "present", token: str = TOKEN, **extra: object) -> dict:
    return {"path": str(tmp_path / "deploy.lock"), "state": state, "token": token, **extra}


def test_module_takes_the_lock_reporting_no_change(tmp_path: Path):
    result = run_module("deploy_lock", _lock(tmp_path, owner="alice on laptop (deploy)"), tmp_path, diff=True)
    assert (result["changed"], result["taken"], result["held_by"]) == (False, True, "alice on laptop (deploy)")
    assert result["diff"] == {"before": {"path": str(tmp_path / "deploy.lock"), "held_by": ""},
                              "after": {"path": str(tmp_path / "deploy.lock"),
                                        "held_by": "alice on laptop (deploy)"}}
    claim = json.loads((tmp_path / "deploy.lock").read_text())
    assert (claim["token"], claim["owner"]) == (TOKEN, "alice on laptop (deploy)")
    assert (tmp_path / "deploy.lock").stat().st_mode & 0o777 == 0o600
    again = run_module("deploy_lock", _lock(tmp_path, owner="alice on laptop (deploy)"), tmp_path)
    assert (again["changed"], again["taken"]) == (False, False)


def test_module_check_mode_takes_nothing(tmp_path: Path):
    result = run_module("deploy_lock", _lock(tmp_path, owner="alice"), tmp_path, check=True)
    assert (result["changed"], result["taken"]) == (False, True)
    assert not (tmp_path / "deploy.lock").exists()


def test_module_refusal_names_the_holder(tmp_path: Path):
    (tmp_path / "deploy.lock").write_text('{"token": "other", "owner": "alice on laptop", "since": "x"}\n')
    result = run_module("deploy_lock", _lock(tmp_path, owner="bob"), tmp_path)
    assert result["failed"] is True
    assert result["msg"] == (
        f"another run holds the host lock {tmp_path / 'deploy.lock'}: alice on laptop since x. Nothing was "
        "changed. If that run is over (it ran on another controller, or was killed), break the lock with "
        "-e host_lock_break=true")
    assert run_module("deploy_lock", _lock(tmp_path, owner="bob"), tmp_path, check=True)["msg"] == result["msg"]


def test_module_breaks_a_lock_on_purpose_and_gives_back_only_its_own(tmp_path: Path):
    run_module("deploy_lock", _lock(tmp_path, token=OTHER, owner="crashed run"), tmp_path)
    broken = run_module("deploy_lock", _lock(tmp_path, owner="bob", break_lock=True), tmp_path)
    assert (broken["changed"], broken["taken"], broken["broken"]["owner"]) == (False, True, "crashed run")
    assert "token" not in broken["broken"]
    stale = run_module("deploy_lock", _lock(tmp_path, "absent", token=OTHER), tmp_path)
    assert (stale["released"], stale["held_by"]) == (False, "bob")
    assert (tmp_path / "deploy.lock").exists()
    checked = run_module("deploy_lock", _lock(tmp_path, "absent"), tmp_path, check=True)
    assert checked["released"] is True
    assert (tmp_path / "deploy.lock").exists()
    given = run_module("deploy_lock", _lock(tmp_path, "absent"), tmp_path, diff=True)
    assert (given["changed"], given["released"], given["diff"]["after"]["held_by"]) == (False, True, "")
    assert not (tmp_path / "deploy.lock").exists()
    assert run_module("deploy_lock", _lock(tmp_path, "absent"), tmp_path)["released"] is False


def test_a_claim_records_the_run(tmp_path: Path):
    run_module("deploy_lock", _lock(tmp_path, owner="alice", run="ctl:42:9000"), tmp_path)
    assert json.loads((tmp_path / "deploy.lock").read_text())["run"] == "ctl:42:9000"


def test_query_reports_the_holder_without_its_token(tmp_path: Path):
    assert run_module("deploy_lock", {"path": str(tmp_path / "deploy.lock"), "state": "query"}, tmp_path)[
        "held_by"] == ""
    run_module("deploy_lock", _lock(tmp_path, owner="alice", run="ctl:42:9000"), tmp_path)
    held = run_module("deploy_lock", {"path": str(tmp_path / "deploy.lock"), "state": "query"}, tmp_path)
    assert (held["changed"], held["held_by"], held["held_run"]) == (False, "alice", "ctl:42:9000")
    assert held["held_since"]
    assert TOKEN not in json.dumps(held)


def test_a_claim_of_the_named_finished_run_is_taken_over(tmp_path: Path):
    run_module("deploy_lock", _lock(tmp_path, token=OTHER, owner="failed run", run="ctl:42:9000"), tmp_path)
    taken = run_module("deploy_lock", _lock(tmp_path, owner="bob", run="ctl:43:9100", replace_run="ctl:42:9000"),
                       tmp_path)
    assert (taken["taken"], taken["broken"]["run"]) == (True, "ctl:42:9000")
    assert "that run is over" in json.dumps(taken.get("warnings", []))
    assert json.loads((tmp_path / "deploy.lock").read_text())["token"] == TOKEN


def test_a_claim_of_another_run_is_not_taken_over(tmp_path: Path):
    # The holder is not the run the caller found over (somebody took the lock meanwhile).
    run_module("deploy_lock", _lock(tmp_path, token=OTHER, owner="live run", run="ctl:44:9200"), tmp_path)
    refused = run_module("deploy_lock", _lock(tmp_path, owner="bob", replace_run="ctl:42:9000"), tmp_path)
    assert refused["failed"] is True and "live run since" in refused["msg"]
    assert json.loads((tmp_path / "deploy.lock").read_text())["token"] == OTHER


def test_taking_needs_a_token(tmp_path: Path):
    result = run_module("deploy_lock", {"path": str(tmp_path / "deploy.lock"), "state": "present"}, tmp_path)
    assert result["failed"] is True and "token" in result["msg"]


def test_a_refusal_names_the_holders_run(tmp_path: Path):
    # The caller needs it to tell whether the holder is a run of its controller that is over.
    run_module("deploy_lock", _lock(tmp_path, token=OTHER, owner="failed run", run="ctl:42:9000"), tmp_path)
    refused = run_module("deploy_lock", _lock(tmp_path, owner="bob"), tmp_path)
    assert (refused["failed"], refused["held_by"], refused["held_run"]) == (True, "failed run", "ctl:42:9000")

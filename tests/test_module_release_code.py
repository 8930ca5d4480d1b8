"""djstack.stack.release_code: RELEASE files and bytecode (prepared), venv key and ownership (sealed)."""

from __future__ import annotations

import grp
import os
import stat
import sys
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils.venv import KEY_FILE
from tests.modrun import run_module

# Another group than the test's own where one exists (tests run as root in CI), to see the chown.
GROUP = next((g.gr_name for g in grp.getgrall() if g.gr_gid != os.getgid()), grp.getgrgid(os.getgid()).gr_name)
GID = grp.getgrnam(GROUP).gr_gid


@pytest.fixture
def release_dir(tmp_path: Path) -> Path:
    release = tmp_path / "releases" / "r1"
    (release / "src" / "demo").mkdir(parents=True)
    (release / "src" / "manage.py").write_text("print('manage')\n")
    (release / "src" / "manage.py").chmod(0o755)
    (release / "src" / "demo" / "settings.py").write_text("DEBUG = False\n")
    (release / "src" / "demo" / "broken.py").write_text("{{ a template, not python }}\n")
    (release / "venv" / "bin").mkdir(parents=True)
    (release / "venv" / "bin" / "python").symlink_to(sys.executable)
    return release


def _prepared(release: Path, **extra: object) -> dict:
    return {"path": str(release), "state": "prepared", "release_id": "r1", "project_dir": "src",
            "python": sys.executable, **extra}


def test_prepared_writes_both_release_files_and_bytecode(release_dir: Path, tmp_path: Path):
    result = run_module("release_code", _prepared(release_dir), tmp_path, diff=True)
    assert (result["changed"], result["compile_errors"]) == (True, True)
    assert (release_dir / "RELEASE").read_text() == "r1\n"
    assert (release_dir / "src" / "RELEASE").read_text() == "r1\n"
    assert result["diff"]["after"] == {str(release_dir / "RELEASE"): "r1\n", str(release_dir / "src" / "RELEASE"): "r1\n"}
    assert list((release_dir / "src" / "demo" / "__pycache__").glob("settings.*.pyc"))
    again = run_module("release_code", _prepared(release_dir), tmp_path)
    assert (again["changed"], again["compiled"]) == (False, 0)


def test_prepared_in_check_mode_writes_nothing(release_dir: Path, tmp_path: Path):
    result = run_module("release_code", _prepared(release_dir), tmp_path, check=True)
    assert result["changed"] is True
    assert result["compiled"] == 3
    assert not (release_dir / "RELEASE").exists()
    assert not (release_dir / "src" / "demo" / "__pycache__").exists()


def test_prepared_without_manage_py_points_at_the_project_dir(release_dir: Path, tmp_path: Path):
    result = run_module("release_code", _prepared(release_dir, project_dir=""), tmp_path)
    assert result["failed"] is True
    assert result["msg"] == f"no manage.py in {release_dir}: check django_app_project_dir"


def _sealed(release: Path, **extra: object) -> dict:
    return {"path": str(release), "state": "sealed", "group": GROUP, "venv_key": "k1", **extra}


def _modes(release: Path) -> dict[str, int]:
    return {str(p.relative_to(release)): stat.S_IMODE(p.lstat().st_mode) for p in release.rglob("*")
            if not p.is_symlink()}


def test_sealed_marks_the_venv_and_closes_the_release(release_dir: Path, tmp_path: Path):
    (release_dir / "src" / "demo" / "settings.py").chmod(0o666)
    result = run_module("release_code", _sealed(release_dir), tmp_path, diff=True)
    assert result["changed"] is True
    assert (release_dir / "venv" / KEY_FILE).read_text() == "k1\n"
    modes = _modes(release_dir)
    assert modes["src/demo/settings.py"] == 0o640
    assert modes["src/manage.py"] == 0o750
    assert modes["src"] == 0o750
    assert stat.S_IMODE(release_dir.stat().st_mode) == 0o750
    assert {(p.lstat().st_uid, p.lstat().st_gid) for p in release_dir.rglob("*")} == {(0, GID)}
    assert (result["diff"]["before"]["venv_key"], result["diff"]["after"]["venv_key"]) == ("", "k1")
    assert run_module("release_code", _sealed(release_dir), tmp_path)["changed"] is False


def test_sealed_in_check_mode_changes_nothing(release_dir: Path, tmp_path: Path):
    before = _modes(release_dir)
    result = run_module("release_code", _sealed(release_dir), tmp_path, check=True)
    assert result["changed"] is True
    assert result["fixed"] > 0
    assert _modes(release_dir) == before
    assert not (release_dir / "venv" / KEY_FILE).exists()


def test_sealed_reports_and_repairs_a_chown_and_chmod_of_the_live_release(release_dir: Path, tmp_path: Path):
    run_module("release_code", _sealed(release_dir), tmp_path)
    settings = release_dir / "src" / "demo" / "settings.py"
    os.lchown(settings, 0, 0)  # chown root:root and chmod 0700, as by hand
    settings.chmod(0o700)
    check = run_module("release_code", _sealed(release_dir), tmp_path, check=True, diff=True)
    assert (check["changed"], check["fixed"]) == (True, 1)
    # 0700 has the owner-execute bit: the seal's executable mode is what it wants then.
    group = grp.getgrgid(0).gr_name
    assert check["paths"] == [f"{settings} root:{group} 0700 -> root:{GROUP} 0750"]
    assert check["diff"]["before"]["ownership"] == f"1 of 10 paths to set to root:{GID} with mode 0750/0640"
    assert (settings.lstat().st_gid, stat.S_IMODE(settings.lstat().st_mode)) == (0, 0o700)
    run_module("release_code", _sealed(release_dir), tmp_path)
    assert (settings.lstat().st_gid, stat.S_IMODE(settings.lstat().st_mode)) == (GID, 0o750)
    assert run_module("release_code", _sealed(release_dir), tmp_path)["fixed"] == 0


def test_sealed_changes_the_owner_of_the_venv_symlinks_not_their_targets(release_dir: Path, tmp_path: Path):
    python = release_dir / "venv" / "bin" / "python"
    target = os.stat(python)
    run_module("release_code", _sealed(release_dir), tmp_path)
    assert (python.lstat().st_uid, python.lstat().st_gid) == (0, GID)
    after = os.stat(python)
    assert (after.st_uid, after.st_gid, after.st_mode) == (target.st_uid, target.st_gid, target.st_mode)


def test_sealed_with_an_unknown_group_says_so(release_dir: Path, tmp_path: Path):
    result = run_module("release_code", _sealed(release_dir, group="no-such-group-x"), tmp_path)
    assert result["msg"] == "group no-such-group-x does not exist: create the app account first"

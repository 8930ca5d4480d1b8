"""djstack.stack.release_code: RELEASE files and bytecode (prepared), the venv key (complete)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils.venv import KEY_FILE
from tests.modrun import run_module



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


def _complete(release: Path, **extra: object) -> dict:
    return {"path": str(release), "state": "complete", "venv_key": "k1", **extra}


def test_complete_writes_the_venv_key_once(release_dir: Path, tmp_path: Path):
    result = run_module("release_code", _complete(release_dir), tmp_path, diff=True)
    assert result["changed"] is True
    assert (release_dir / "venv" / KEY_FILE).read_text() == "k1\n"
    assert (result["diff"]["before"]["venv_key"], result["diff"]["after"]["venv_key"]) == ("", "k1")
    assert run_module("release_code", _complete(release_dir), tmp_path)["changed"] is False


def test_complete_in_check_mode_writes_no_key(release_dir: Path, tmp_path: Path):
    result = run_module("release_code", _complete(release_dir), tmp_path, check=True)
    assert result["changed"] is True
    assert not (release_dir / "venv" / KEY_FILE).exists()


def test_complete_leaves_owners_and_modes_to_owned_tree(release_dir: Path, tmp_path: Path):
    settings = release_dir / "src" / "demo" / "settings.py"
    settings.chmod(0o666)
    run_module("release_code", _complete(release_dir), tmp_path)
    assert stat.S_IMODE(settings.stat().st_mode) == 0o666


def test_complete_without_a_venv_key_names_it(release_dir: Path, tmp_path: Path):
    result = run_module("release_code", {"path": str(release_dir), "state": "complete"}, tmp_path)
    assert result["msg"] == "state is complete but all of the following are missing: venv_key"

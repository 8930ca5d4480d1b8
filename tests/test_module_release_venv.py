"""djstack.stack.release_venv and module_utils/venv.py: the venv key, finding and cloning a venv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ansible_collections.djstack.stack.plugins.module_utils import venv as release
from tests.modrun import run_module


def test_venv_key_follows_included_requirement_files(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("-r base.txt\ngunicorn\n")
    (tmp_path / "base.txt").write_text("Django==5.2\n")
    key = release.venv_key("/usr/bin/python3", tmp_path / "requirements.txt", [], python_tag="cpython-311")
    same = release.venv_key("/usr/bin/python3", tmp_path / "requirements.txt", [], python_tag="cpython-311")
    (tmp_path / "base.txt").write_text("Django==5.2.1\n")
    changed = release.venv_key("/usr/bin/python3", tmp_path / "requirements.txt", [], python_tag="cpython-311")
    assert key == same != changed


def test_venv_key_follows_python_and_extras(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("Django\n")
    base = release.venv_key("/usr/bin/python3", tmp_path / "requirements.txt", [], python_tag="cpython-311")
    assert base != release.venv_key("/usr/bin/python3", tmp_path / "requirements.txt", [],
                                    python_tag="cpython-313")
    assert base != release.venv_key("/usr/bin/python3", tmp_path / "requirements.txt", ["gunicorn"],
                                    python_tag="cpython-311")


def _fake_venv(venv: Path) -> None:
    (venv / "bin").mkdir(parents=True)
    (venv / "lib" / "site-packages" / "pkg").mkdir(parents=True)
    (venv / "lib" / "site-packages" / "pkg" / "__init__.py").write_text("x = 1\n")
    (venv / "bin" / "python").symlink_to("/usr/bin/python3")
    (venv / "bin" / "gunicorn").write_text(f"#!{venv}/bin/python\nimport gunicorn\n")
    (venv / "bin" / "gunicorn").chmod(0o755)
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\ncommand = /usr/bin/python3 -m venv {venv}\n")


def test_cloned_venv_shares_package_files(tmp_path: Path):
    src, dst = tmp_path / "r1" / "venv", tmp_path / "r2" / "venv"
    _fake_venv(src)
    dst.parent.mkdir()
    release.clone_venv(src, dst)
    package = Path("lib/site-packages/pkg/__init__.py")
    assert (src / package).stat().st_ino == (dst / package).stat().st_ino


def test_cloned_venv_scripts_point_to_the_clone(tmp_path: Path):
    src, dst = tmp_path / "r1" / "venv", tmp_path / "r2" / "venv"
    _fake_venv(src)
    dst.parent.mkdir()
    release.clone_venv(src, dst)
    assert (dst / "bin" / "gunicorn").read_text().startswith(f"#!{dst}/bin/python\n")
    assert os.access(dst / "bin" / "gunicorn", os.X_OK)
    # The source keeps its own script: rewriting made a new file, not an in-place edit.
    assert (src / "bin" / "gunicorn").read_text().startswith(f"#!{src}/bin/python\n")
    assert os.readlink(dst / "bin" / "python") == "/usr/bin/python3"


def test_find_venv_prefers_the_current_release(tmp_path: Path):
    for release_id in ("r1", "r2", "r3"):
        (tmp_path / "releases" / release_id / "venv").mkdir(parents=True)
        (tmp_path / "releases" / release_id / "venv" / release.KEY_FILE).write_text("k\n")
    (tmp_path / "current").symlink_to("releases/r1")
    assert release.find_venv(tmp_path, "k", exclude="r3") == "r1"
    assert release.find_venv(tmp_path, "other", exclude="r3") == ""


# --- the module ----------------------------------------------------------------------


def _root(tmp_path: Path) -> Path:
    """r1 with a finished venv, and a new r2 with the same requirements and no venv yet."""
    root = tmp_path / "srv"
    for release_id in ("r1", "r2"):
        (root / "releases" / release_id).mkdir(parents=True)
        (root / "releases" / release_id / "requirements.txt").write_text("Django==5.2\n")
    _fake_venv(root / "releases" / "r1" / "venv")
    key = release.plan_venv(root, "r1", sys.executable, "requirements.txt", ["gunicorn"])["key"]
    (root / "releases" / "r1" / "venv" / release.KEY_FILE).write_text(f"{key}\n")
    (root / "current").symlink_to("releases/r1")
    return root


def _args(root: Path, **extra: object) -> dict:
    return {"root": str(root), "release": "r2", "python": sys.executable, "requirements": "requirements.txt",
            "extra_packages": ["gunicorn"], **extra}


def test_module_clones_the_venv_with_the_same_key_once(tmp_path: Path):
    root = _root(tmp_path)
    result = run_module("release_venv", _args(root), tmp_path, diff=True)
    assert (result["changed"], result["source"], result["rewritten"]) == (True, "r1", ["gunicorn", "pyvenv.cfg"])
    assert result["key"] == (root / "releases" / "r1" / "venv" / release.KEY_FILE).read_text().strip()
    assert result["diff"] == {"before": {"venv": "absent"}, "after": {"venv": "hard-linked from releases/r1/venv"}}
    assert (root / "releases" / "r2" / "venv" / "bin" / "gunicorn").read_text().startswith(
        f"#!{root}/releases/r2/venv/bin/python")
    again = run_module("release_venv", _args(root), tmp_path)
    assert (again["changed"], again["key"]) == (False, result["key"])


def test_module_check_mode_plans_without_cloning(tmp_path: Path):
    root = _root(tmp_path)
    result = run_module("release_venv", _args(root), tmp_path, check=True)
    assert (result["changed"], result["source"]) == (True, "r1")
    assert not (root / "releases" / "r2" / "venv").exists()


def test_module_finds_nothing_for_other_requirements_or_without_reuse(tmp_path: Path):
    root = _root(tmp_path)
    other = run_module("release_venv", _args(root, extra_packages=["gunicorn", "whitenoise"]), tmp_path)
    assert (other["changed"], other["source"]) == (False, "")
    off = run_module("release_venv", _args(root, reuse=False), tmp_path)
    assert (off["changed"], off["source"]) == (False, "")
    assert not (root / "releases" / "r2" / "venv").exists()


def test_module_names_a_missing_requirements_file(tmp_path: Path):
    root = _root(tmp_path)
    result = run_module("release_venv", _args(root, requirements="reqs/prod.txt"), tmp_path)
    assert result["failed"] is True
    assert result["msg"] == "requirements file reqs/prod.txt is missing from the release"

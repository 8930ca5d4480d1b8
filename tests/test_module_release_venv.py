"""djstack.stack.release_venv and module_utils/venv.py: the venv key, finding and cloning a venv."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

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


GUNICORN = {"names": ["gunicorn"], "install": "gunicorn==27.0.1", "minimum": "22.0.0", "reason": "CVE-2024-1135"}
PSYCOPG = {"names": ["psycopg", "psycopg-binary", "psycopg2", "psycopg2-binary"], "install": "psycopg[binary]==3.3.9"}


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text)
    return path


def test_the_projects_own_gunicorn_pin_is_kept(tmp_path: Path):
    plan = release.stack_packages(_requirements(tmp_path, "Django==5.2.19\ngunicorn==22.0.0\n"), [GUNICORN])
    assert plan == {"added": [], "provided": ["gunicorn==22.0.0"], "problems": []}


def test_a_stack_package_the_project_lacks_is_added(tmp_path: Path):
    plan = release.stack_packages(_requirements(tmp_path, "Django==5.2.19\n"), [GUNICORN])
    assert plan["added"] == ["gunicorn==27.0.1"]


def test_any_provider_and_any_spelling_counts(tmp_path: Path):
    # psycopg2-binary provides the driver psycopg would; Psycopg2_Binary is the same name.
    plan = release.stack_packages(_requirements(tmp_path, "Psycopg2_Binary==2.9.10  # the driver\n"), [PSYCOPG])
    assert (plan["added"], plan["provided"]) == ([], ["psycopg2-binary==2.9.10"])


def test_requirements_pulled_in_by_an_include_count(tmp_path: Path):
    (tmp_path / "base.txt").write_text("gunicorn>=23\n")
    plan = release.stack_packages(_requirements(tmp_path, "-r base.txt\nDjango==5.2.19\n"), [GUNICORN])
    assert (plan["added"], plan["provided"]) == ([], ["gunicorn>=23"])


def test_a_pin_below_the_minimum_names_both_versions(tmp_path: Path):
    plan = release.stack_packages(_requirements(tmp_path, "gunicorn==20.1.0\n"), [GUNICORN], source="requirements.txt")
    assert plan["problems"] == ["requirements.txt pin gunicorn==20.1.0, but the stack needs gunicorn>=22.0.0 "
                                "(CVE-2024-1135): raise the pin"]


def test_compatible_and_ranged_pins_are_judged_by_what_they_allow(tmp_path: Path):
    assert release.too_old("~=22.0", "22.0.0") == ""
    assert release.too_old("==22.*", "22.0.0") == ""
    assert release.too_old(">=19,<22", "22.0.0") == "<22"
    assert release.too_old("<=21.2.0", "22.0.0") == "<=21.2.0"
    assert release.too_old(">=19", "22.0.0") == ""


def test_module_installs_the_stack_packages_the_project_lacks(tmp_path: Path):
    root = _root(tmp_path)
    result = run_module("release_venv", _args(root, extra_packages=[], stack_packages=[GUNICORN, PSYCOPG]), tmp_path)
    assert result["packages"] == result["added"] == ["gunicorn==27.0.1", "psycopg[binary]==3.3.9"]


def test_module_refuses_a_pin_too_old_for_the_stack(tmp_path: Path):
    root = _root(tmp_path)
    (root / "releases" / "r2" / "requirements.txt").write_text("gunicorn==19.9.0\n")
    result = run_module("release_venv", _args(root, stack_packages=[GUNICORN]), tmp_path)
    assert result["failed"] is True
    assert "gunicorn==19.9.0" in result["msg"] and "gunicorn>=22.0.0" in result["msg"]


# --- a project that installs itself (pyproject.toml) ---------------------------------

PYPROJECT = '[project]\nname = "shop"\nversion = "1.0"\ndependencies = ["Django==5.2.19", "gunicorn==23.0.0"]\n'


def _packaged(tmp_path: Path, *releases: str) -> Path:
    root = tmp_path / "srv"
    for release_id in releases:
        (root / "releases" / release_id).mkdir(parents=True)
        (root / "releases" / release_id / "pyproject.toml").write_text(PYPROJECT)
    return root


def test_pyproject_dependencies_count_as_the_projects(tmp_path: Path):
    plan = release.plan_venv(_packaged(tmp_path, "r1"), "r1", sys.executable, "", [], [GUNICORN], project=True)
    assert (plan["added"], plan["provided"]) == ([], ["gunicorn==23.0.0"])


def test_a_pyproject_pin_below_the_minimum_is_refused_naming_it(tmp_path: Path):
    root = _packaged(tmp_path, "r1")
    (root / "releases" / "r1" / "pyproject.toml").write_text(PYPROJECT.replace("23.0.0", "21.2.0"))
    with pytest.raises(release.ReleaseError, match=r"^pyproject.toml pin gunicorn==21.2.0, but the stack needs gunicorn>=22.0.0"):
        release.plan_venv(root, "r1", sys.executable, "", [], [GUNICORN], project=True)


def test_a_project_that_installs_itself_reuses_no_venv(tmp_path: Path):
    root = _packaged(tmp_path, "r1", "r2")
    one = release.plan_venv(root, "r1", sys.executable, "", [], [GUNICORN], project=True)["key"]
    two = release.plan_venv(root, "r2", sys.executable, "", [], [GUNICORN], project=True)["key"]
    assert one != two


def test_installing_a_project_without_pyproject_fails_saying_so(tmp_path: Path):
    root = tmp_path / "srv"
    (root / "releases" / "r1").mkdir(parents=True)
    with pytest.raises(release.ReleaseError, match=r"django_app_install_project.*no pyproject.toml"):
        release.plan_venv(root, "r1", sys.executable, "", [], [], project=True)

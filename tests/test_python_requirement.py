"""Which Python a project needs (module_utils/python_requirement.py), refused before any
change: by the preflight for a local source (lookup djstack.stack.python_requirement) and
by release_venv before a release's venv is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils.python_requirement import allows, python_problems
from tests.modrun import run_module
from tests.test_preflight import _preflight

PY311 = (3, 11, 2)
PY313 = (3, 13, 5)


def _project(tmp_path: Path, requirements: str = "", pyproject: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    if requirements:
        (tmp_path / "requirements.txt").write_text(requirements)
    if pyproject:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    return tmp_path


@pytest.mark.parametrize(("specifiers", "version", "expected"), [
    (">=3.12", (3, 11, 2), False),
    (">=3.12", (3, 12), True),
    (">=3.10,<3.13", (3, 13, 0), False),
    ("!=3.11.*", (3, 11, 9), False),
    ("!=3.11.*", (3, 12, 0), True),
    ("==6.0.*", (6, 0, 3), True),
    ("~=6.0.1", (6, 0, 0), False),
    ("~=6.0.1", (6, 0, 4), True),
    ("~=6.0", (6, 1, 0), True),
    (">5.2", (5, 2, 0), False),
    ("", (1,), True),
])
def test_specifiers_are_read_like_pip(specifiers, version, expected):
    assert allows(specifiers, version) is expected


def test_django_6_on_python_3_11_names_both_versions_and_the_way_out(tmp_path: Path):
    root = _project(tmp_path, "Django==6.0.1\ngunicorn==23.0.0\n")
    assert python_problems(root, "requirements.txt", "/usr/bin/python3", PY311) == [
        "requirements.txt allows Django==6.0.1 and Django 6.0 needs Python >= 3.12, but the host's "
        "/usr/bin/python3 is Python 3.11.2: pin Django 5.2 (or older), or use a host with "
        "Python >= 3.12 (Debian 13 has 3.13)."]


def test_django_6_on_python_3_13_is_fine(tmp_path: Path):
    root = _project(tmp_path, "Django==6.0.1\n")
    assert python_problems(root, "requirements.txt", "/usr/bin/python3", PY313) == []


@pytest.mark.parametrize("django", ["Django>=6.0,<6.1", "django~=6.0.0", "Django==6.0.*", "Django>5.2.99"])
def test_any_spelling_that_allows_only_django_6_is_refused_on_3_11(tmp_path: Path, django: str):
    root = _project(tmp_path, f"{django}\n")
    assert len(python_problems(root, "requirements.txt", "python3", PY311)) == 1


@pytest.mark.parametrize("django", ["Django", "Django>=5.2", "Django<7", "Django==5.2.19", "Django==7.0"])
def test_a_range_pip_can_satisfy_on_3_11_passes(tmp_path: Path, django: str):
    # Django 7 is not known here: pip, which knows it, decides.
    root = _project(tmp_path, f"{django}\n")
    assert python_problems(root, "requirements.txt", "python3", PY311) == []


def test_an_included_requirements_file_counts(tmp_path: Path):
    root = _project(tmp_path, "-r requirements/base.txt\n")
    (root / "requirements").mkdir()
    (root / "requirements" / "base.txt").write_text("Django==6.0\n")
    assert "Django==6.0" in python_problems(root, "requirements.txt", "python3", PY311)[0]


def test_pyproject_requires_python_is_honoured(tmp_path: Path):
    root = _project(tmp_path, pyproject='[project]\nname = "site"\nrequires-python = ">=3.12"\n')
    assert python_problems(root, "", "/usr/bin/python3", PY311) == [
        'pyproject.toml says requires-python = ">=3.12", but the host\'s /usr/bin/python3 is Python 3.11.2: '
        "use a host whose Python matches (Debian 13 has 3.13), or point django_app_python at one that does."]
    assert python_problems(root, "", "/usr/bin/python3", PY313) == []


def test_release_venv_refuses_before_building(tmp_path: Path):
    root = tmp_path / "srv"
    _project(root / "releases" / "r1", "Django==6.0.1\n")
    # A stand-in interpreter that is Python 3.11.2, whatever runs the tests.
    python = tmp_path / "python3.11"
    python.write_text("#!/bin/sh\necho 3.11.2\n")
    python.chmod(0o755)
    result = run_module("release_venv", {"root": str(root), "release": "r1", "python": str(python),
                                         "requirements": "requirements.txt"}, tmp_path)
    assert result["failed"] is True
    assert f"the host's {python} is Python 3.11.2: pin Django 5.2" in result["msg"]
    assert not (root / "releases" / "r1" / "venv").exists()


def test_preflight_refuses_a_local_project_the_host_python_cannot_run(tmp_path: Path):
    project = _project(tmp_path / "project", "Django==6.0.1\n")
    # A project otherwise fine: its settings and WSGI modules are where the variables say.
    (project / "demo").mkdir()
    (project / "demo" / "settings.py").write_text("")
    (project / "demo" / "wsgi.py").write_text("")
    run = _preflight(tmp_path, django_app_local_path=str(project), django_app_python="/usr/bin/python3")
    assert run.returncode != 0
    assert "Django 6.0 needs Python >= 3.12, but the host's /usr/bin/python3 is Python 3.11" in run.stdout
    assert "Check that the host's Python can run the project" in run.stdout


def test_a_django_of_pyprojects_dependencies_is_checked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\ndependencies = ["Django>=6.0"]\n')
    problems = python_problems(tmp_path, "", "/usr/bin/python3", PY311)
    assert len(problems) == 1
    assert problems[0].startswith("pyproject.toml allows Django>=6.0 and Django 6.0 needs Python >= 3.12")

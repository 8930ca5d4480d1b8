"""Unit tests, on the controller, of the scripts the django_app role ships in files/."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

FILES = Path(__file__).resolve().parents[1] / "roles" / "django_app" / "files"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FILES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


archive = _load("source_archive")
release = _load("django_app_release")


# --- source_archive ------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "demo" / "__pycache__").mkdir(parents=True)
    (src / "demo" / "settings.py").write_text("DEBUG = False\n")
    (src / "demo" / "__pycache__" / "settings.cpython-311.pyc").write_bytes(b"\0")
    (src / "manage.py").write_text("#!/usr/bin/env python\n")
    (src / "manage.py").chmod(0o755)
    (src / "media").mkdir()
    (src / "media" / "upload.png").write_bytes(b"png")
    (src / "catalog" / "media").mkdir(parents=True)
    (src / "catalog" / "media" / "kept.txt").write_text("app code named media\n")
    (src / "db.sqlite3").write_bytes(b"sqlite")
    return src


def _pack(src: Path, out: Path, excludes: list[str] | None = None) -> str:
    patterns = ["__pycache__", "*.pyc", "db.sqlite3", "/media"] if excludes is None else excludes
    return archive.build(src, out, patterns)["revision"]


def test_archive_is_byte_identical_for_the_same_tree(project: Path, tmp_path: Path):
    assert _pack(project, tmp_path / "a.tar.gz") == _pack(project, tmp_path / "b.tar.gz")
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()


def test_revision_ignores_timestamps(project: Path, tmp_path: Path):
    before = _pack(project, tmp_path / "a.tar.gz")
    os.utime(project / "manage.py", (1, 1))
    assert _pack(project, tmp_path / "b.tar.gz") == before


def test_revision_follows_content(project: Path, tmp_path: Path):
    before = _pack(project, tmp_path / "a.tar.gz")
    (project / "demo" / "settings.py").write_text("DEBUG = True\n")
    assert _pack(project, tmp_path / "b.tar.gz") != before


def test_revision_follows_the_executable_bit(project: Path, tmp_path: Path):
    before = _pack(project, tmp_path / "a.tar.gz")
    (project / "manage.py").chmod(0o644)
    assert _pack(project, tmp_path / "b.tar.gz") != before


def test_excluded_files_do_not_change_the_revision(project: Path, tmp_path: Path):
    before = _pack(project, tmp_path / "a.tar.gz")
    (project / "db.sqlite3").write_bytes(b"more rows")
    (project / "media" / "another.png").write_bytes(b"png")
    assert _pack(project, tmp_path / "b.tar.gz") == before


def test_excludes_match_names_anywhere_and_anchored_paths_at_the_top(project: Path, tmp_path: Path):
    import tarfile

    _pack(project, tmp_path / "a.tar.gz")
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        names = set(tar.getnames())
    assert "demo/settings.py" in names
    assert "catalog/media/kept.txt" in names
    assert not {n for n in names if "__pycache__" in n or n.startswith("media") or n == "db.sqlite3"}


def test_symlink_out_of_the_tree_is_refused(project: Path, tmp_path: Path):
    (project / "escape").symlink_to("/etc/passwd")
    with pytest.raises(ValueError, match="leaves the source tree"):
        _pack(project, tmp_path / "a.tar.gz")


# --- environment file ------------------------------------------------------------


def test_env_parser_reads_systemd_quoting():
    text = "\n".join([
        "# comment",
        "; another",
        "PLAIN=a,b:c/d",
        'QUOTED="a \\"b\\" c\\\\d $HOME #x"',
        "SINGLE='no \\escapes'",
        "  SPACED  =  trimmed value  ",
        "EMPTY=",
    ])
    assert release.parse_env(text) == {
        "PLAIN": "a,b:c/d",
        "QUOTED": 'a "b" c\\d $HOME #x',
        "SINGLE": "no \\escapes",
        "SPACED": "trimmed value",
        "EMPTY": "",
    }


@pytest.mark.parametrize("line", ["NO_EQUALS", "1BAD=x", 'OPEN="unterminated', 'ESC="ends with \\"'])
def test_env_parser_refuses_malformed_lines(line: str):
    with pytest.raises(release.ReleaseError):
        release.parse_env(line)


# --- history and pruning ---------------------------------------------------------


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


def _fields(release_id: str) -> dict[str, str]:
    return {"id": release_id, "revision": f"rev-{release_id}", "build": "b", "venv_key": "k"}


def _tree(root: Path, *ids: str) -> None:
    for release_id in ids:
        (root / "releases" / release_id).mkdir(parents=True)


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


def _statuses(root: Path) -> dict[str, str]:
    return {e["id"]: e["status"] for e in release.load_history(root)}


def _deployed(root: Path, *ids: str) -> None:
    _tree(root, *ids)
    for release_id in ids:
        release.activate(root, _fields(release_id))


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


# --- venvs -----------------------------------------------------------------------


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


# --- manage ------------------------------------------------------------------------


def test_manage_command_runs_the_chosen_release_with_the_env_file(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "env").write_text('DJANGO_SECRET_KEY="s e c"\nPATH=/evil\n')
    command = release.manage_command(tmp_path, "demo", "src", ["--release", "r2", "--as-root", "migrate"])
    assert command["argv"] == [f"{tmp_path}/releases/r2/venv/bin/python", f"{tmp_path}/releases/r2/src/manage.py",
                               "migrate"]
    assert command["cwd"] == f"{tmp_path}/releases/r2/src"
    assert command["env"]["DJANGO_SECRET_KEY"] == "s e c"
    assert command["user"] is None


def test_manage_command_defaults_to_current_as_the_app_user(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "env").write_text("A=1\n")
    command = release.manage_command(tmp_path, "demo", "", ["check"])
    assert command["argv"][1] == f"{tmp_path}/current/manage.py"
    assert command["user"] == "demo"

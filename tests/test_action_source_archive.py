"""The controller-side source archive: the packing logic (plugin_utils) on real trees,
and the action plugin djstack.stack.source_archive through a real ansible-playbook run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.djstack.stack.plugins.plugin_utils.source_archive import SourceArchiveError, build
from tools.collection import COLLECTIONS, ROOT

APP = ROOT / "app"
DEFAULT_EXCLUDES: list[str] = yaml.safe_load(
    (ROOT / "roles" / "django_app" / "defaults" / "main.yml").read_text())["django_app_local_excludes"]


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
    return str(build(src, out, patterns)["revision"])


def _names(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return set(tar.getnames())


# --- packing -----------------------------------------------------------------------


def test_archive_is_byte_identical_for_the_same_tree(project: Path, tmp_path: Path) -> None:
    assert _pack(project, tmp_path / "a.tar.gz") == _pack(project, tmp_path / "b.tar.gz")
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()


def test_sample_app_packs_identically_twice(tmp_path: Path) -> None:
    first = build(APP, tmp_path / "a.tar.gz", DEFAULT_EXCLUDES)
    second = build(APP, tmp_path / "b.tar.gz", DEFAULT_EXCLUDES)
    assert first == second
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    assert first["size"] == (tmp_path / "a.tar.gz").stat().st_size
    names = _names(tmp_path / "a.tar.gz")
    assert first["files"] == len(names)
    assert "manage.py" in names
    # The role's default excludes keep local secrets and byte code out of the release.
    assert not {n for n in names if n.endswith(".env") or "__pycache__" in n or n.endswith(".pyc")}


def test_archive_entries_carry_no_owner_or_time(project: Path, tmp_path: Path) -> None:
    _pack(project, tmp_path / "a.tar.gz", [])
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        members = tar.getmembers()
    # Top level first, each directory's entries sorted by name.
    assert [m.name for m in members][:4] == ["catalog", "db.sqlite3", "demo", "manage.py"]
    assert {(m.mtime, m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, 0, "", "")}
    modes = {m.name: m.mode for m in members}
    assert (modes["manage.py"], modes["demo/settings.py"], modes["demo"]) == (0o755, 0o644, 0o755)


def test_revision_ignores_timestamps(project: Path, tmp_path: Path) -> None:
    before = _pack(project, tmp_path / "a.tar.gz")
    os.utime(project / "manage.py", (1, 1))
    os.utime(project / "demo", (2, 2))
    assert _pack(project, tmp_path / "b.tar.gz") == before
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()


def test_revision_follows_content(project: Path, tmp_path: Path) -> None:
    before = _pack(project, tmp_path / "a.tar.gz")
    (project / "demo" / "settings.py").write_text("DEBUG = True\n")
    assert _pack(project, tmp_path / "b.tar.gz") != before


def test_revision_follows_a_new_file(project: Path, tmp_path: Path) -> None:
    before = _pack(project, tmp_path / "a.tar.gz")
    (project / "demo" / "urls.py").write_text("urlpatterns = []\n")
    assert _pack(project, tmp_path / "b.tar.gz") != before


def test_revision_follows_the_executable_bit(project: Path, tmp_path: Path) -> None:
    before = _pack(project, tmp_path / "a.tar.gz")
    (project / "manage.py").chmod(0o644)
    assert _pack(project, tmp_path / "b.tar.gz") != before


def test_excluded_files_do_not_change_the_revision(project: Path, tmp_path: Path) -> None:
    before = _pack(project, tmp_path / "a.tar.gz")
    (project / "db.sqlite3").write_bytes(b"more rows")
    (project / "media" / "another.png").write_bytes(b"png")
    assert _pack(project, tmp_path / "b.tar.gz") == before


def test_excludes_match_names_anywhere_and_anchored_paths_at_the_top(project: Path, tmp_path: Path) -> None:
    _pack(project, tmp_path / "a.tar.gz")
    names = _names(tmp_path / "a.tar.gz")
    assert "demo/settings.py" in names
    assert "catalog/media/kept.txt" in names
    assert not {n for n in names if "__pycache__" in n or n.startswith("media") or n == "db.sqlite3"}


def test_symlinks_inside_the_tree_are_packed_as_links(project: Path, tmp_path: Path) -> None:
    (project / "settings.py").symlink_to("demo/settings.py")
    (project / "code").symlink_to("demo", target_is_directory=True)
    _pack(project, tmp_path / "a.tar.gz")
    with tarfile.open(tmp_path / "a.tar.gz") as tar:
        links = {m.name: m.linkname for m in tar.getmembers() if m.issym()}
    assert links == {"settings.py": "demo/settings.py", "code": "demo"}


def test_symlink_out_of_the_tree_is_refused(project: Path, tmp_path: Path) -> None:
    (project / "escape").symlink_to("/etc/passwd")
    with pytest.raises(SourceArchiveError, match="leaves the source tree"):
        _pack(project, tmp_path / "a.tar.gz")
    # No half-written archive is left for a later task to unpack.
    assert list(tmp_path.glob("*.tar.gz*")) == []


def test_a_missing_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceArchiveError, match="is not a directory"):
        build(tmp_path / "nope", tmp_path / "a.tar.gz", [])


def test_an_archive_inside_the_source_is_refused(project: Path) -> None:
    with pytest.raises(SourceArchiveError, match="outside the tree it packs"):
        build(project, project / "a.tar.gz", [])


# --- the action plugin through ansible-playbook ----------------------------------------


def _playbook(tmp_path: Path, args: dict[str, Any], *, check: bool = False) -> tuple[int, dict[str, Any], str]:
    """Run the action on localhost; return rc, the registered result, and the run's output."""
    result_file = tmp_path / "result.json"
    result_file.unlink(missing_ok=True)
    play = [{
        "name": "Pack a tree",
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {"name": "Pack", "djstack.stack.source_archive": args, "register": "packed", "ignore_errors": True},
            # check_mode false: the result is written in --check runs too.
            {"name": "Save the result", "check_mode": False,
             "ansible.builtin.copy": {"content": "{{ packed | to_json }}", "dest": str(result_file)}},
        ],
    }]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    # Its own empty config: neither the repository's nor the user's settings take part.
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    # The copy module runs on localhost with this Python, not whatever discovery finds.
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,",
               "-e", f"ansible_python_interpreter={sys.executable}", str(tmp_path / "play.yml")]
    done = subprocess.run(command + (["--check"] if check else []), capture_output=True, text=True,
                          env=env, cwd=tmp_path, check=False)
    output = done.stdout + done.stderr
    assert result_file.exists(), output
    return done.returncode, json.loads(result_file.read_text()), output


def test_playbook_packs_the_sample_app(tmp_path: Path) -> None:
    dest = tmp_path / "scratch" / "source.tar.gz"
    dest.parent.mkdir()
    rc, packed, output = _playbook(tmp_path, {"src": str(APP), "dest": str(dest), "excludes": DEFAULT_EXCLUDES})
    assert rc == 0, output
    expected = build(APP, tmp_path / "expected.tar.gz", DEFAULT_EXCLUDES)
    assert packed["revision"] == expected["revision"]
    assert packed["dest"] == str(dest)
    assert packed["src"] == str(APP)
    assert (packed["files"], packed["size"]) == (expected["files"], expected["size"])
    assert packed["changed"] is False
    assert dest.read_bytes() == (tmp_path / "expected.tar.gz").read_bytes()


def test_playbook_check_mode_still_packs_relative_paths_from_the_playbook(project: Path, tmp_path: Path) -> None:
    rc, packed, output = _playbook(tmp_path, {"src": "src", "dest": "out.tar.gz", "excludes": ["/media"]},
                                   check=True)
    assert rc == 0, output
    assert packed["changed"] is False
    assert packed["dest"] == str(tmp_path / "out.tar.gz")
    assert packed["revision"] == _pack(project, tmp_path / "expected.tar.gz", ["/media"])


def test_playbook_reports_what_is_wrong(project: Path, tmp_path: Path) -> None:
    (project / "escape").symlink_to("/etc/passwd")
    _, packed, _ = _playbook(tmp_path, {"src": str(project), "dest": str(tmp_path / "out.tar.gz")})
    assert packed["failed"] is True
    assert packed["msg"] == "escape: symlink to '/etc/passwd' leaves the source tree"
    assert not (tmp_path / "out.tar.gz").exists()


def test_documentation_matches_the_argument_spec() -> None:
    """What validate-modules checks for modules, which it cannot do for an action plugin."""
    from ansible_collections.djstack.stack.plugins.action.source_archive import ARGUMENT_SPEC
    from ansible_collections.djstack.stack.plugins.modules import source_archive as docs

    options = yaml.safe_load(docs.DOCUMENTATION)["options"]
    documented = {name: {k: v for k, v in option.items() if k in ("type", "required", "default", "elements")}
                  for name, option in options.items()}
    assert documented == ARGUMENT_SPEC
    assert set(yaml.safe_load(docs.RETURN)) == {"revision", "src", "dest", "files", "size"}

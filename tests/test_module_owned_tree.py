"""djstack.stack.owned_tree: owners and modes of a whole tree are desired state: check mode
lists what differs and changes nothing, a run sets it, the next run finds nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils.ownership import own_tree
from tests.modrun import run_module

# Real accounts of every Debian system, so chown works for root without creating any.
OWNER, GROUP = "daemon", "nogroup"
UID, GID = 1, 65534

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="chown to other accounts needs root")


def _tree(tmp_path: Path) -> Path:
    """root:root, 0755 directories, an 0644 module and an 0755 script: all wrong for _args."""
    top = tmp_path / "release"
    (top / "pkg").mkdir(parents=True)
    (top / "pkg" / "app.py").write_text("x = 1\n")
    (top / "manage.py").write_text("#!/usr/bin/env python3\n")
    (top / "manage.py").chmod(0o755)
    (top / "pkg" / "app.py").chmod(0o644)
    for path in (top, top / "pkg"):
        path.chmod(0o755)
    return top


def _args(top: Path, **extra: object) -> dict:
    return {"path": str(top), "owner": OWNER, "group": GROUP, "dir_mode": "0750", "file_mode": "0640",
            "exec_mode": "0750", **extra}


def _state(top: Path) -> list[tuple[str, int, int, int]]:
    found = []
    for path in [top, *sorted(top.rglob("*"))]:
        st = os.lstat(path)
        found.append((str(path.relative_to(top.parent)), st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)))
    return found


def test_a_tree_already_right_is_not_changed(tmp_path: Path):
    top = _tree(tmp_path)
    for path, mode in [(top, 0o750), (top / "pkg", 0o750), (top / "manage.py", 0o750), (top / "pkg" / "app.py", 0o640)]:
        os.chown(path, UID, GID)
        path.chmod(mode)
    result = run_module("owned_tree", _args(top), tmp_path, check=True, diff=True)
    assert (result["rc"], result["changed"], result["fixed"], result["total"]) == (0, False, 0, 4)
    assert (result["paths"], "diff" in result) == ([], False)


def test_check_mode_lists_wrong_owners_and_modes_and_changes_nothing(tmp_path: Path):
    top = _tree(tmp_path)
    before = _state(top)
    result = run_module("owned_tree", _args(top), tmp_path, check=True, diff=True)
    assert (result["changed"], result["fixed"], result["total"]) == (True, 4, 4)
    assert result["paths"] == [
        f"{top} root:root 0755 -> {OWNER}:{GROUP} 0750",
        f"{top}/manage.py root:root 0755 -> {OWNER}:{GROUP} 0750",
        f"{top}/pkg root:root 0755 -> {OWNER}:{GROUP} 0750",
        f"{top}/pkg/app.py root:root 0644 -> {OWNER}:{GROUP} 0640",
    ]
    assert result["diff"]["before"].splitlines()[3] == f"{top}/pkg/app.py root:root 0644"
    assert result["diff"]["after"].splitlines()[3] == f"{top}/pkg/app.py {OWNER}:{GROUP} 0640"
    assert _state(top) == before


def test_a_run_sets_them_and_the_next_finds_nothing(tmp_path: Path):
    top = _tree(tmp_path)
    first = run_module("owned_tree", _args(top), tmp_path)
    assert (first["changed"], first["fixed"]) == (True, 4)
    assert _state(top) == [("release", UID, GID, 0o750), ("release/manage.py", UID, GID, 0o750),
                           ("release/pkg", UID, GID, 0o750), ("release/pkg/app.py", UID, GID, 0o640)]
    again = run_module("owned_tree", _args(top), tmp_path, diff=True)
    assert (again["changed"], again["fixed"], again["paths"], "diff" in again) == (False, 0, [], False)


def test_without_file_mode_files_keep_theirs_and_get_the_owner(tmp_path: Path):
    top = _tree(tmp_path)
    (top / "pkg" / "app.py").chmod(0o604)  # a mode the app chose, however odd
    result = run_module("owned_tree", _args(top, file_mode=None, exec_mode=None), tmp_path)
    assert f"{top}/pkg/app.py root:root 0604 -> {OWNER}:{GROUP} 0604" in result["paths"]
    state = _state(top)
    assert ("release/pkg/app.py", UID, GID, 0o604) in state
    assert ("release/manage.py", UID, GID, 0o755) in state
    assert ("release/pkg", UID, GID, 0o750) in state


def test_exec_mode_is_for_files_with_the_owner_execute_bit(tmp_path: Path):
    top = _tree(tmp_path)
    run_module("owned_tree", _args(top, file_mode="0600", exec_mode="0700"), tmp_path)
    state = _state(top)
    assert ("release/manage.py", UID, GID, 0o700) in state
    assert ("release/pkg/app.py", UID, GID, 0o600) in state


def test_without_exec_mode_executables_get_the_file_mode(tmp_path: Path):
    top = _tree(tmp_path)
    run_module("owned_tree", _args(top, exec_mode=None), tmp_path)
    assert ("release/manage.py", UID, GID, 0o640) in _state(top)


def test_setgid_directories_are_compared_exactly(tmp_path: Path):
    top = _tree(tmp_path)
    args = _args(top, dir_mode="2750")
    run_module("owned_tree", args, tmp_path)
    assert stat.S_IMODE(os.lstat(top / "pkg").st_mode) == 0o2750
    (top / "pkg").chmod(0o750)  # the same permissions, without setgid
    result = run_module("owned_tree", args, tmp_path, check=True)
    assert result["paths"] == [f"{top}/pkg {OWNER}:{GROUP} 0750 -> {OWNER}:{GROUP} 2750"]
    run_module("owned_tree", args, tmp_path)
    assert stat.S_IMODE(os.lstat(top / "pkg").st_mode) == 0o2750


def test_symlinks_are_lchowned_never_followed_nor_chmodded(tmp_path: Path):
    top = _tree(tmp_path)
    outside_file = tmp_path / "outside.txt"
    outside_file.write_text("not ours\n")
    outside_file.chmod(0o600)
    outside_dir = tmp_path / "outside"
    outside_dir.mkdir(mode=0o700)
    (outside_dir / "secret").write_text("not ours either\n")
    (top / "file-link").symlink_to(outside_file)
    (top / "dir-link").symlink_to(outside_dir)
    result = run_module("owned_tree", _args(top), tmp_path)
    assert result["total"] == 6  # the links themselves; nothing behind dir-link
    for link in ("file-link", "dir-link"):
        st = os.lstat(top / link)
        assert (st.st_uid, st.st_gid, stat.S_ISLNK(st.st_mode)) == (UID, GID, True)
    for path, mode in [(outside_file, 0o600), (outside_dir, 0o700), (outside_dir / "secret", 0o644)]:
        st = os.lstat(path)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0, mode), path
    assert run_module("owned_tree", _args(top), tmp_path)["changed"] is False


def test_recurse_false_owns_the_top_alone(tmp_path: Path):
    top = _tree(tmp_path)
    result = run_module("owned_tree", _args(top, recurse=False), tmp_path)
    assert (result["fixed"], result["total"]) == (1, 1)
    state = _state(top)
    assert state[0] == ("release", UID, GID, 0o750)
    assert ("release/pkg", 0, 0, 0o755) in state
    assert ("release/pkg/app.py", 0, 0, 0o644) in state


def test_an_unknown_group_fails_naming_it(tmp_path: Path):
    result = run_module("owned_tree", _args(_tree(tmp_path), group="no-such-group"), tmp_path)
    assert (result["rc"], result["msg"]) == (1, "group no-such-group does not exist: create the app account first")


def test_an_unknown_user_fails_naming_it(tmp_path: Path):
    result = run_module("owned_tree", _args(_tree(tmp_path), owner="no-such-user"), tmp_path)
    assert (result["rc"], result["msg"]) == (1, "user no-such-user does not exist: create the app account first")


def test_a_missing_tree_fails_naming_it(tmp_path: Path):
    result = run_module("owned_tree", _args(tmp_path / "not-yet"), tmp_path)
    assert (result["rc"], result["msg"]) == (1, f"{tmp_path / 'not-yet'} does not exist: create it before owning it")


def test_a_missing_tree_has_nothing_to_own_in_check_mode(tmp_path: Path):
    """On a fresh host the task creating it only reported that it would."""
    result = run_module("owned_tree", _args(tmp_path / "not-yet"), tmp_path, check=True)
    assert (result["rc"], result["changed"], result["total"]) == (0, False, 0)


def test_an_account_not_yet_created_has_a_missing_tree_nothing_to_own_in_check_mode(tmp_path: Path):
    """A fresh host's check run: neither the app user nor its media directory exist yet."""
    result = run_module("owned_tree", _args(tmp_path / "not-yet", owner="no-such-user"), tmp_path, check=True)
    assert (result["rc"], result["changed"], result["total"]) == (0, False, 0)


def test_an_account_not_yet_created_changes_an_existing_tree_in_check_mode(tmp_path: Path):
    """The app user removed by hand: its tree will change owner once the run recreates it."""
    top = _tree(tmp_path)
    before = _state(top)
    result = run_module("owned_tree", _args(top, owner="no-such-user"), tmp_path, check=True)
    assert (result["rc"], result["changed"]) == (0, True)
    assert result["msg"] == "user no-such-user does not exist: create the app account first: in a run, the account comes first"
    assert _state(top) == before


@pytest.mark.parametrize("value", ["750x", "0800", 488])
def test_a_mode_that_is_no_quoted_octal_string_fails(tmp_path: Path, value: object):
    result = run_module("owned_tree", _args(_tree(tmp_path), dir_mode=value), tmp_path)
    assert result["rc"] == 1 and result["msg"].startswith("dir_mode must be a quoted octal string"), result


def test_a_large_fix_shows_twenty_paths_and_counts_the_rest(tmp_path: Path):
    top = _tree(tmp_path)
    for number in range(30):
        (top / f"file{number:02}.txt").write_text("x")
    result = run_module("owned_tree", _args(top), tmp_path, check=True, diff=True)
    assert (result["fixed"], result["total"], len(result["paths"])) == (34, 34, 20)
    for side in ("before", "after"):
        lines = result["diff"][side].splitlines()
        assert (len(lines), lines[-1]) == (21, "... and 14 more")


# --- the shared function, called directly ------------------------------------------


def test_own_tree_in_check_mode_counts_and_changes_nothing(tmp_path: Path):
    top = _tree(tmp_path)
    before = _state(top)
    fix = own_tree(top, UID, GID, 0o750, 0o640, 0o750, check=True)
    assert (fix.total, fix.fixed, len(fix.before), len(fix.after)) == (4, 4, 4, 4)
    assert _state(top) == before


def test_own_tree_fixes_only_the_mode_where_the_owner_is_right(tmp_path: Path):
    top = _tree(tmp_path)
    own_tree(top, UID, GID, 0o750, 0o640, 0o750)
    (top / "pkg" / "app.py").chmod(0o666)
    fix = own_tree(top, UID, GID, 0o750, 0o640, 0o750)
    assert fix.paths == [f"{top}/pkg/app.py {OWNER}:{GROUP} 0666 -> {OWNER}:{GROUP} 0640"]
    assert ("release/pkg/app.py", UID, GID, 0o640) in _state(top)


def test_own_tree_keeps_a_setuid_bit_chown_would_clear(tmp_path: Path):
    top = _tree(tmp_path)
    (top / "manage.py").chmod(0o4755)
    own_tree(top, UID, GID, 0o750)  # no file_mode: the file's mode is its writer's
    assert ("release/manage.py", UID, GID, 0o4755) in _state(top)


def test_own_tree_on_a_missing_top_raises(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        own_tree(tmp_path / "not-yet", UID, GID, 0o750)

"""djstack.stack.owned_directory: what the role did not write into a directory it owns is
reported in check mode and removed (or moved aside) by a run; what it wrote and what the
user allowed stays."""

from __future__ import annotations

from pathlib import Path

from tests.modrun import run_module


def _sites(tmp_path: Path) -> Path:
    sites = tmp_path / "sites-enabled"
    sites.mkdir()
    (sites / "demo.conf").write_text("server { listen 443; }\n")
    (sites / "stray.conf").write_text("server { listen 8080; }\n")
    (sites / "local-tuning.conf").write_text("# the user's\n")
    (tmp_path / "available.conf").write_text("server {}\n")
    (sites / "linked.conf").symlink_to(tmp_path / "available.conf")
    (sites / "leftover.d").mkdir()
    (sites / "leftover.d" / "x").write_text("x")
    return sites


def _args(path: Path, **extra: object) -> dict:
    return {"path": str(path), "managed": ["demo.conf"], "allowed": ["local-*.conf"], **extra}


def test_check_mode_reports_the_unmanaged_entries_and_keeps_them(tmp_path: Path):
    sites = _sites(tmp_path)
    result = run_module("owned_directory", _args(sites), tmp_path, check=True, diff=True)
    assert (result["changed"], result["unmanaged"]) == (True, ["leftover.d", "linked.conf", "stray.conf"])
    assert result["diff"]["before"] == "demo.conf\nleftover.d\nlinked.conf\nlocal-tuning.conf\nstray.conf\n"
    assert result["diff"]["after"] == "demo.conf\nlocal-tuning.conf\n"
    assert (sites / "stray.conf").exists() and (sites / "leftover.d").is_dir()


def test_a_run_removes_them_and_keeps_managed_and_allowed(tmp_path: Path):
    sites = _sites(tmp_path)
    result = run_module("owned_directory", _args(sites), tmp_path)
    assert result["changed"] is True
    assert sorted(p.name for p in sites.iterdir()) == ["demo.conf", "local-tuning.conf"]


def test_a_symlink_goes_but_not_its_target(tmp_path: Path):
    sites = _sites(tmp_path)
    run_module("owned_directory", _args(sites), tmp_path)
    assert (tmp_path / "available.conf").read_text() == "server {}\n"


def test_backup_moves_them_aside_owner_only(tmp_path: Path):
    sites = _sites(tmp_path)
    backups = tmp_path / "backups"
    result = run_module("owned_directory", _args(sites, unmanaged="backup", backup_dir=str(backups)), tmp_path)
    moved = Path(result["backup"])
    assert moved.parent == backups / str(sites).lstrip("/")
    assert (moved / "stray.conf").read_text() == "server { listen 8080; }\n"
    assert (backups.stat().st_mode & 0o777) == 0o700
    assert not (sites / "stray.conf").exists()


def test_a_clean_directory_is_unchanged(tmp_path: Path):
    sites = _sites(tmp_path)
    run_module("owned_directory", _args(sites), tmp_path)
    again = run_module("owned_directory", _args(sites), tmp_path, diff=True)
    assert (again["changed"], again["unmanaged"]) == (False, [])
    assert again["diff"]["before"] == again["diff"]["after"]


def test_a_missing_directory_has_nothing_to_own(tmp_path: Path):
    result = run_module("owned_directory", _args(tmp_path / "absent"), tmp_path)
    assert (result["changed"], result["unmanaged"]) == (False, [])


def test_a_file_in_place_of_the_directory_fails(tmp_path: Path):
    (tmp_path / "file").write_text("")
    result = run_module("owned_directory", _args(tmp_path / "file"), tmp_path)
    assert result["failed"] is True and "is not a directory" in result["msg"]

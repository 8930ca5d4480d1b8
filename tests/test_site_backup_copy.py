"""The copy of the site's backups to another host (module_utils/site_backup.py, rsync over
SSH): the commands built, the other host's prune, and a failed copy keeping the backup here."""

from __future__ import annotations

import calendar
import json
import os
import pwd
import sqlite3
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils import site_backup as sb
from tests.modrun import run_module

ME = pwd.getpwuid(os.getuid()).pw_name
TARGET = sb.CopyTarget(host="backup.example.com", user="djbackup", path="copies/demo", port=2222,
                       key="/var/backups/djstack/demo/.copy/id",
                       known_hosts="/var/backups/djstack/demo/.copy/known_hosts")
# `rsync --list-only` of the other host: two whole copies, one cut off before its manifest,
# a pre-migrate one and a stray file.
LISTING = """\
drwx------          4,096 2026/12/03 03:00:00 .
-rw-------             12 2026/12/03 03:00:00 notes.txt
drwx------          4,096 2026/12/01 03:00:00 20261201T030000Z-scheduled
-rw-------            321 2026/12/01 03:00:00 20261201T030000Z-scheduled/manifest.json
drwx------          4,096 2026/12/02 03:00:00 20261202T030000Z-scheduled
drwx------          4,096 2026/12/03 03:00:00 20261203T030000Z-scheduled
-rw-------            321 2026/12/03 03:00:00 20261203T030000Z-scheduled/manifest.json
drwx------          4,096 2026/12/02 10:00:00 20261202T100000Z-pre-migrate-r2
-rw-------            321 2026/12/02 10:00:00 20261202T100000Z-pre-migrate-r2/manifest.json
"""


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    db = tmp_path / "db.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE product (name TEXT)")
    return {"db": db, "root": tmp_path / "backups"}


def _settings(root: Path, **overrides) -> None:
    (root / ".copy").mkdir(parents=True, exist_ok=True)
    settings = {"host": "backup.invalid", "port": 1, "user": "djbackup", "path": "copies/demo",
                "key": str(root / ".copy" / "id"), "known_hosts": str(root / ".copy" / "known_hosts"), **overrides}
    (root / sb.COPY_SETTINGS).write_text(json.dumps(settings))


def _ssh(argv: list[str]) -> str:
    return argv[argv.index("--rsh") + 1]


def test_ssh_accepts_only_the_pinned_host_key_and_the_one_key():
    ssh = sb.ssh_command(TARGET)
    options = [ssh[i + 1] for i, arg in enumerate(ssh) if arg == "-o"]
    assert "StrictHostKeyChecking=yes" in options and "BatchMode=yes" in options and "IdentitiesOnly=yes" in options
    assert f"UserKnownHostsFile={TARGET.known_hosts}" in options and "GlobalKnownHostsFile=/dev/null" in options
    assert not [o for o in options if o.lower().startswith("stricthostkeychecking=no")]
    assert ssh[ssh.index("-i") + 1] == TARGET.key and ssh[ssh.index("-p") + 1] == "2222"
    assert ssh[:3] == ["ssh", "-F", "/dev/null"]


def test_the_files_go_first_and_the_manifests_last_owner_only(tmp_path):
    files, manifests = sb.send_commands(tmp_path, ["20261203T030000Z-scheduled"], TARGET)
    for argv in (files, manifests):
        assert argv[0] == "rsync" and "--chmod=D0700,F0600" in argv and "--perms" in argv
        assert argv[-2:] == [f"{tmp_path}/", "djbackup@backup.example.com:copies/demo/"]
        assert argv[-3] == "--exclude=*"
        assert "--delete" not in argv and "--owner" not in argv
    assert files.index("--exclude=/20261203T030000Z-scheduled/manifest.json") < files.index(
        "--include=/20261203T030000Z-scheduled/***")
    assert "--include=/20261203T030000Z-scheduled/manifest.json" in manifests
    assert not [arg for arg in manifests if arg.endswith("/***")]


def test_the_ssh_command_reaches_rsync_as_one_argument():
    argv = sb.list_command(TARGET)
    assert _ssh(argv).split() == sb.ssh_command(TARGET)


def test_an_ipv6_target_is_bracketed():
    target = sb.CopyTarget(host="2001:db8::7", user="b", path="/srv/copies", key="k", known_hosts="h")
    assert target.destination == "b@[2001:db8::7]:/srv/copies/"


def test_the_listing_tells_whole_copies_from_cut_off_ones():
    assert sb.parse_listing(LISTING) == {
        "20261201T030000Z-scheduled": True,
        "20261202T030000Z-scheduled": False,
        "20261203T030000Z-scheduled": True,
        "20261202T100000Z-pre-migrate-r2": True,
    }


def test_the_other_host_keeps_the_newest_whole_copies_of_the_kind_only():
    listing = sb.parse_listing(LISTING)
    assert sb.plan_remote_prune(listing, "scheduled", 1) == ["20261201T030000Z-scheduled",
                                                             "20261202T030000Z-scheduled"]
    assert sb.plan_remote_prune(listing, "scheduled", 2) == ["20261202T030000Z-scheduled"]
    assert sb.plan_remote_prune(listing, "pre-migrate", 1) == []
    with pytest.raises(sb.BackupError, match="at least 1"):
        sb.plan_remote_prune(listing, "scheduled", 0)


def test_the_prune_deletes_only_the_named_copies(tmp_path):
    argv = sb.prune_command(tmp_path, ["20261201T030000Z-scheduled"], TARGET)
    assert "--delete" in argv and argv[-2:] == [f"{tmp_path}/", TARGET.destination]
    rules = [arg for arg in argv if arg.startswith(("--include", "--exclude"))]
    assert rules == ["--include=/20261201T030000Z-scheduled/***", "--exclude=*"]


def test_a_copy_sends_the_kind_then_lists_then_prunes(site, monkeypatch):
    calls: list[list[str]] = []
    arrived: list[str] = []

    def fake_rsync(argv, what):
        calls.append(argv)
        if "--list-only" not in argv:
            return ""
        return LISTING + "".join(f"drwx------ 4,096 2026/12/04 03:00:00 {name}\n"
                                 f"-rw------- 321 2026/12/04 03:00:00 {name}/manifest.json\n" for name in arrived)

    for day in (4, 5):  # newer than every copy in the listing
        sb.create(site["root"], kind="scheduled", database_url=f"sqlite:///{site['db']}", user=ME, keep=5,
                  now=calendar.timegm((2026, 12, day, 3, 0, 0)))
    monkeypatch.setattr(sb, "_rsync", fake_rsync)
    names = [b["name"] for b in sb.backups(site["root"])]
    with pytest.raises(sb.BackupError, match="does not list the copies"):
        sb.copy_to(site["root"], TARGET, "scheduled", 2)
    calls.clear()
    arrived.extend(names)
    done = sb.copy_to(site["root"], TARGET, "scheduled", 2)
    assert done == {"target": TARGET.label, "sent": names, "removed": [
        "20261201T030000Z-scheduled", "20261202T030000Z-scheduled", "20261203T030000Z-scheduled"]}
    assert [("--list-only" in c, "--delete" in c) for c in calls] == [(False, False), (False, False), (True, False),
                                                                     (False, True)]
    assert all(f"--include=/{name}/***" in calls[0] for name in names)
    assert "--include=/20261202T100000Z-pre-migrate-r2/***" not in calls[3]
    assert (site["root"] / names[0]).is_dir()


def test_a_failed_copy_keeps_the_backup_and_says_so(site, monkeypatch):
    _settings(site["root"])

    def refused(argv, what):
        raise sb.BackupError(f"{what} failed (rsync exit 255): Host key verification failed.")

    monkeypatch.setattr(sb, "_rsync", refused)
    done = sb.create(site["root"], kind="scheduled", database_url=f"sqlite:///{site['db']}", user=ME, keep=1)
    assert (site["root"] / done["backup"] / "manifest.json").is_file()
    assert f"backup {done['backup']} is kept" in done["copy_error"] and "Host key verification failed" in done["copy_error"]
    assert [b["name"] for b in sb.backups(site["root"])] == [done["backup"]]


def test_the_timers_program_exits_1_on_a_failed_copy(site, monkeypatch, capsys):
    _settings(site["root"])
    monkeypatch.setattr(sb, "_rsync", lambda argv, what: (_ for _ in ()).throw(sb.BackupError("no route")))
    monkeypatch.setenv("DJANGO_DATABASE_URL", f"sqlite:///{site['db']}")
    code = sb.main(["create", "--root", str(site["root"]), "--kind", "scheduled", "--user", ME])
    assert code == 1
    assert "its copy failed: no route" in capsys.readouterr().err
    assert len(sb.backups(site["root"])) == 1


def test_without_settings_nothing_is_copied(site, monkeypatch):
    monkeypatch.setattr(sb, "_rsync", lambda argv, what: pytest.fail("rsync ran without copy settings"))
    done = sb.create(site["root"], kind="scheduled", database_url=f"sqlite:///{site['db']}", user=ME)
    assert (done["copy"], done["copy_error"]) == ({}, "")


def test_incomplete_settings_are_refused(tmp_path):
    _settings(tmp_path, known_hosts="")
    with pytest.raises(sb.BackupError, match="needs host, user, path, key and known_hosts"):
        sb.read_copy_target(tmp_path)


def test_the_module_fails_a_copy_it_cannot_make_and_keeps_the_backup(site, tmp_path):
    _settings(site["root"])
    result = run_module("site_backup", {"root": str(site["root"]), "database_url": f"sqlite:///{site['db']}",
                                        "user": ME, "kind": "scheduled"}, tmp_path)
    assert result["rc"] == 1 and result.get("failed")
    assert f"backup {result['backup']} is kept" in result["msg"]
    assert (site["root"] / result["backup"] / "manifest.json").is_file()


def test_check_mode_names_the_copy_and_contacts_nobody(site, tmp_path):
    _settings(site["root"])
    result = run_module("site_backup", {"root": str(site["root"]), "database_url": f"sqlite:///{site['db']}",
                                        "user": ME, "kind": "scheduled"}, tmp_path, check=True, diff=True)
    assert result["rc"] == 0 and result["changed"]
    assert result["copy"]["target"] == "djbackup@backup.invalid:copies/demo (port 1)"
    assert result["copy"]["sent"] == [result["backup"]]
    assert "copied to djbackup@backup.invalid:copies/demo (port 1)\n" in result["diff"]["after"]
    assert sb.backups(site["root"]) == []

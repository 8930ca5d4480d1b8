"""The site's scheduled backups on the converged host: the timer, what a backup holds, who may read it."""

from __future__ import annotations

import json

import pytest

BACKUPS = "/var/backups/djstack/demo"
LIST = f"python3 -I /usr/local/lib/djstack/site_backup.py list --root {BACKUPS}"


def _scheduled(host) -> list[dict]:
    return [b for b in json.loads(host.check_output(LIST)) if b["kind"] == "scheduled"]


@pytest.fixture(scope="module")
def three_runs(host) -> list[dict]:
    """The timer's service started three times by hand (the scenario keeps 2)."""
    for _ in range(3):
        host.check_output("systemctl start demo-backup.service")
    return _scheduled(host)


def test_the_backup_timer_is_enabled_and_waiting(host):
    timer = host.service("demo-backup.timer")
    assert timer.is_enabled and timer.is_running


def test_a_scheduled_backup_holds_the_database_and_the_media(three_runs, host):
    newest = three_runs[-1]
    assert newest["database"]["engine"] == "sqlite" and newest["database"]["bytes"] > 0
    assert newest["media"]["file"] == "media.tar"
    current = host.check_output("readlink -f /srv/demo/current").rsplit("/", 1)[-1]
    assert newest["serving"] == current


def test_a_scheduled_backup_is_a_readable_database(three_runs, host):
    path = f"{BACKUPS}/{three_runs[-1]['name']}/database.sqlite3"
    count = host.check_output(f"python3 -c \"import sqlite3; print(sqlite3.connect('file:{path}?mode=ro', uri=True)"
                              ".execute('select count(*) from django_migrations').fetchone()[0])\"")
    assert int(count) > 0


def test_scheduled_backups_are_kept_two_deep(three_runs):
    assert len(three_runs) == 2


def test_backups_are_roots_alone(three_runs, host):
    backup = f"{BACKUPS}/{three_runs[-1]['name']}"
    assert host.file(BACKUPS).mode == 0o700 and host.file(BACKUPS).user == "root"
    assert host.file(f"{backup}/database.sqlite3").mode == 0o600
    assert host.run(f"runuser -u demo -- ls {BACKUPS}").rc != 0


def test_a_failed_backup_fails_its_unit_and_leaves_no_backup(three_runs, host):
    host.check_output("mv /srv/demo/shared/db/db.sqlite3 /srv/demo/shared/db/moved.sqlite3")
    try:
        failed = host.run("systemctl start demo-backup.service")
        journal = host.check_output("journalctl -u demo-backup.service -n 5 --no-pager -o cat")
    finally:
        host.check_output("mv /srv/demo/shared/db/moved.sqlite3 /srv/demo/shared/db/db.sqlite3")
    assert failed.rc != 0
    assert "the SQLite database /srv/demo/shared/db/db.sqlite3 does not exist" in journal
    assert _scheduled(host) == three_runs

"""The backup role's copy to another host: each backup the app host's timer writes goes to
the target with rsync over SSH, owner-only and whole, kept there as deep as on the app host;
a host key other than the pinned one fails the backup's unit and the local backup stays."""

from __future__ import annotations

import json
import os

import pytest
import testinfra
from testinfra.host import Host

BACKUPS = "/var/backups/djstack/demo"
COPIES = "/home/djbackup/copies/demo"
LIST = f"python3 -I /usr/local/lib/djstack/site_backup.py list --root {BACKUPS}"
FILES = ("manifest.json", "database.sqlite3", "media.tar")


def _member(group: str) -> Host:
    return testinfra.get_hosts([f"ansible://{group}"], ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"],
                               sudo=False)[0]


@pytest.fixture(scope="module")
def app() -> Host:
    return _member("app")


@pytest.fixture(scope="module")
def target() -> Host:
    return _member("backup_target")


def _local(app: Host) -> list[str]:
    return [b["name"] for b in json.loads(app.check_output(LIST)) if b["kind"] == "scheduled"]


def _copies(target: Host) -> list[str]:
    listed = target.run(f"ls -1 {COPIES}")
    return sorted(name for name in listed.stdout.split() if name.endswith("-scheduled")) if listed.rc == 0 else []


@pytest.fixture(scope="module")
def three_runs(app: Host) -> list[str]:
    """The timer's service started three times by hand (the scenario keeps 2)."""
    for _ in range(3):
        app.check_output("systemctl start demo-backup.service")
    return _local(app)


def test_a_backup_appears_on_the_target_owner_only(three_runs, target):
    newest = f"{COPIES}/{three_runs[-1]}"
    assert target.file(COPIES).mode == 0o700 and target.file(COPIES).user == "djbackup"
    assert target.file(newest).is_directory and target.file(newest).mode == 0o700
    for name in FILES:
        copy = target.file(f"{newest}/{name}")
        assert (copy.user, copy.mode) == ("djbackup", 0o600), name


def test_the_copy_has_the_checksums_of_the_backup(three_runs, app, target):
    newest = three_runs[-1]
    local = app.check_output(f"cd {BACKUPS}/{newest} && sha256sum {' '.join(FILES)}")
    remote = target.check_output(f"cd {COPIES}/{newest} && sha256sum {' '.join(FILES)}")
    assert remote == local
    manifest = json.loads(target.file(f"{COPIES}/{newest}/manifest.json").content_string)
    assert remote.split()[2] == manifest["database"]["sha256"]


def test_the_target_keeps_only_as_many_as_the_app_host(three_runs, target):
    assert len(three_runs) == 2
    assert _copies(target) == three_runs


def test_the_copy_key_is_roots_and_owner_only(app):
    key = app.file(f"{BACKUPS}/.copy/id")
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert app.file(f"{BACKUPS}/.copy").mode == 0o700


def test_a_wrong_host_key_fails_the_backup_and_keeps_it_here(three_runs, app, target):
    known = f"{BACKUPS}/.copy/known_hosts"
    app.check_output(f"cp -p {known} {known}.good && rm -f /tmp/other && ssh-keygen -q -t ed25519 -N '' -f /tmp/other"
                     f" && printf 'target %s\\n' \"$(cat /tmp/other.pub)\" > {known}")
    try:
        failed = app.run("systemctl start demo-backup.service")
        journal = app.check_output("journalctl -u demo-backup.service -n 20 --no-pager -o cat")
        state = app.check_output("systemctl show -P Result demo-backup.service")
    finally:
        app.check_output(f"mv {known}.good {known}")
    after = _local(app)
    assert failed.rc != 0 and state == "exit-code"
    assert "Host key verification failed" in journal
    assert after[-1] not in three_runs and app.file(f"{BACKUPS}/{after[-1]}/manifest.json").exists
    assert after[-1] not in _copies(target)

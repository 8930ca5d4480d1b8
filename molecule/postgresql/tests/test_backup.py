"""djstack.stack.site_backup against the converged PostgreSQL server: a backup of the app's
database (pg_dump as the app's OS account, password from the database URL) and media, then
a restore of it (one psql transaction: DROP OWNED, then pg_restore's SQL) over a dropped table,
a table created after the backup and changed media, a restore refused for a wrong password, and a check-mode backup.
Then what a DBA adds beside the app's role: an extension the superuser installed, used by the app's
table (the restore leaves it and brings the rows back), and a table of another role the backup
holds (the restore is refused before any change, naming it).

The module runs from the controller through Ansible's ad-hoc command, with the inventory
and the collection path (.cache/collections) Molecule's provisioner environment gives the
verifier. Everything made here (a table, a backup directory, a media directory) is removed
when this file's tests end, so test_postgresql.py sees the converged server only."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

VARS = yaml.safe_load((Path(__file__).resolve().parents[1] / "vars.yml").read_text())
DATABASE = VARS["postgresql_database"]
USER = VARS["postgresql_user"]
PASSWORD = VARS["postgresql_password"]
WRONG_PASSWORD = PASSWORD + "-wrong"
PORT = 5432
SOCKET_DIR = "/var/run/postgresql"
# The app's OS account (prepare.yml). The role's rules authenticate the app's role by password
# (SCRAM) on the socket and from 127.0.0.1, never by peer, so any OS account's tools get in with
# the password; the backup's tools run as this one.
APP_OS_USER = "appclient"
# The backup over TCP from the configured client address, the restore over the unix socket
# (the URL the role's README gives Django): both of the role's ways in.
TCP_URL = f"postgresql://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{PORT}/{DATABASE}"
SOCKET_URL = f"postgresql://{USER}:{quote(PASSWORD, safe='')}@/{DATABASE}?host={SOCKET_DIR}"
WRONG_URL = f"postgresql://{USER}:{quote(WRONG_PASSWORD, safe='')}@/{DATABASE}?host={SOCKET_DIR}"

ROOT = "/var/backups/djstack-molecule-postgresql"
WORK = "/var/lib/djstack-molecule-postgresql"
MEDIA = f"{WORK}/media"
TABLE = "backup_probe"
# Made after the backup, as by a later migration: the restore must drop it.
LATER = "backup_probe_later"
ROWS = f"SELECT * FROM {TABLE} ORDER BY id"
# The DBA's additions: an extension the superuser installs (in Debian's server package) and a
# role of its own, owning a table the app's role may read (so pg_dump as the app puts it in).
EXTENSION = "citext"
EXTENSION_TABLE = "backup_probe_citext"
OTHER_ROLE = "reporting"
OTHER_TABLE = "backup_probe_report"


def _sql(host, *statements: str):
    """psql as the app's OS account, as the app's role over the unix socket, never prompting."""
    commands = [arg for statement in statements for arg in ("-c", statement)]
    argv = ["runuser", "-u", APP_OS_USER, "--", "env", f"PGPASSWORD={PASSWORD}",
            "psql", "-X", "-q", "-w", "-At", "-v", "ON_ERROR_STOP=1",
            f"host={SOCKET_DIR} port={PORT} dbname={DATABASE} user={USER}", *commands]
    return host.run(shlex.join(argv))


def _superuser(host, *statements: str):
    """psql as PostgreSQL's superuser (the postgres account, by peer) in the app's database."""
    commands = [arg for statement in statements for arg in ("-c", statement)]
    return host.run(shlex.join(["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                                "-d", DATABASE, *commands]))


def _rows(host) -> str:
    result = _sql(host, ROWS)
    assert result.rc == 0, result.stderr
    return result.stdout


def _site_backup(host, check: bool = False, **args) -> dict:
    """The module's result on the host, `failed` included, its args as JSON (no key=value quoting).

    Ansible's own ad-hoc run, with the inventory and the environment (ANSIBLE_CONFIG, the
    collections path) Molecule gives the verifier, as testinfra's host.ansible runs it, but
    read through the json callback: host.ansible reads the tree callback's files, which
    ansible-core 2.19 writes without `failed`, so a failed module would pass as a success."""
    name = host.backend.host
    argv = ["ansible", name, "-m", "djstack.stack.site_backup", "--args", json.dumps(args), "--become"]
    if host.backend.ansible_inventory:
        argv += ["-i", host.backend.ansible_inventory]
    if check:
        argv.append("--check")
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
           # Only the json callback prints: the scenario's profile_tasks would write to stdout too.
           "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    try:
        result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"][name]
    except (ValueError, LookupError):
        raise AssertionError(f"ansible exit {done.returncode}: {done.stdout[-2000:]} {done.stderr[-2000:]}") from None
    assert done.returncode == (2 if result.get("failed") else 0), done.stderr
    return result


def _ok(result: dict) -> dict:
    assert not result.get("failed"), result.get("msg")
    return result


def _media(host) -> str:
    """Every entry under the media directory: path, owner, group, mode, and a file's checksum."""
    return host.check_output(
        f"cd {MEDIA} && find . -mindepth 1 -printf '%P %u %g %m %y\\n' | sort"
        " && find . -type f -print0 | sort -z | xargs -0 -r sha256sum")


def _tree(host, path: str) -> str:
    return host.check_output(f"find {path} -printf '%P %u %m %s %T@\\n' | sort")


@pytest.fixture(scope="module")
def app_account(host) -> str:
    """The app's OS account: the scenario's, made here only if a scenario has none."""
    made = not host.user(APP_OS_USER).exists
    if made:
        host.check_output(f"useradd --system --no-create-home --shell /usr/sbin/nologin {APP_OS_USER}")
    yield APP_OS_USER
    if made:
        host.check_output(f"userdel {APP_OS_USER}")


@pytest.fixture(scope="module")
def site(host, app_account):
    """A table with rows the app's role owns, and a media directory the app owns."""
    created = _sql(host, f"CREATE TABLE {TABLE} (id serial PRIMARY KEY, label text, price numeric(8,2),"
                         " seen timestamptz)",
                   f"INSERT INTO {TABLE} (label, price, seen) VALUES"
                   " ('plain', 1.50, '2026-01-02 03:04:05+00'),"
                   " ('ünïcödé ✓ | with a pipe', NULL, NULL),"
                   " ('it''s \\ a backslash', 0, '1999-12-31 23:59:59.123456+00')")
    assert created.rc == 0, created.stderr
    host.check_output(f"install -d -m 0755 {WORK}"
                      f" && install -d -o {app_account} -g {app_account} -m 2775 {MEDIA} {MEDIA}/uploads"
                      f" && printf 'original photo\\n' > {MEDIA}/uploads/photo.txt"
                      f" && printf 'notes\\n' > {MEDIA}/notes.txt"
                      f" && chown {app_account}:{app_account} {MEDIA}/uploads/photo.txt {MEDIA}/notes.txt"
                      f" && chmod 0640 {MEDIA}/uploads/photo.txt")
    yield {"rows": _rows(host), "media": _media(host)}
    dropped = _sql(host, f"DROP TABLE IF EXISTS {TABLE}", f"DROP TABLE IF EXISTS {LATER}")
    host.run(f"rm -rf {ROOT} {WORK}")
    assert dropped.rc == 0, dropped.stderr


@pytest.fixture(scope="module")
def backup(host, site, app_account) -> dict:
    """A manual backup of the site, with the database reached over TCP."""
    return _ok(_site_backup(host, root=ROOT, state="present", database_url=TCP_URL, user=app_account,
                            media=MEDIA, kind="manual"))


@pytest.fixture(scope="module")
def restored(host, site, backup, app_account) -> dict:
    """The table dropped and the media changed, then the backup restored over the unix socket."""
    dropped = _sql(host, f"DROP TABLE {TABLE}", f"CREATE TABLE {LATER} (id int)")
    assert dropped.rc == 0, dropped.stderr
    host.check_output(f"printf 'overwritten\\n' > {MEDIA}/uploads/photo.txt && rm {MEDIA}/notes.txt"
                      f" && printf 'stray\\n' > {MEDIA}/stray.txt")
    assert _media(host) != site["media"]
    result = _ok(_site_backup(host, root=ROOT, state="restored", database_url=SOCKET_URL, user=app_account,
                              media=MEDIA, name=backup["backup"]))
    later = _sql(host, f"SELECT count(*) FROM pg_tables WHERE tablename = '{LATER}'")
    return {"result": result, "rows": _rows(host), "media": _media(host), "later": later.stdout.strip()}


@pytest.fixture(scope="module")
def refused(host, restored, backup, app_account) -> dict:
    """A restore of the same backup with a wrong password in the database URL."""
    return _site_backup(host, root=ROOT, state="restored", database_url=WRONG_URL, user=app_account,
                        media=MEDIA, name=backup["backup"])


def test_backup_is_written_with_a_postgresql_manifest(host, backup):
    assert backup["changed"] is True
    manifest = json.loads(host.file(f"{ROOT}/{backup['backup']}/manifest.json").content_string)
    assert manifest == backup["manifest"]
    assert manifest["name"] == backup["backup"] and manifest["kind"] == "manual"
    assert manifest["database"]["engine"] == "postgresql"
    assert manifest["database"]["file"] == "database.pgdump"
    assert manifest["media"]["file"] == "media.tar"


def test_database_dump_is_a_custom_format_archive_listing_the_table(host, backup):
    listing = host.check_output(f"pg_restore --list {ROOT}/{backup['backup']}/database.pgdump")
    assert "Format: CUSTOM" in listing
    assert f"dbname: {DATABASE}\n" in listing
    entries = [line.split(None, 3)[-1] for line in listing.splitlines() if line and not line.startswith(";")]
    assert f"TABLE public {TABLE} {USER}" in entries
    assert f"TABLE DATA public {TABLE} {USER}" in entries


def test_backup_is_roots_and_owner_only(host, backup):
    directory = f"{ROOT}/{backup['backup']}"
    for path in (ROOT, directory):
        assert (host.file(path).user, host.file(path).group, host.file(path).mode) == ("root", "root", 0o700)
    files = host.check_output(f"find {directory} -mindepth 1 -printf '%f %y %u %m\\n' | sort").splitlines()
    assert files == ["database.pgdump f root 600", "manifest.json f root 600", "media.tar f root 600"]
    assert host.run(f"runuser -u {APP_OS_USER} -- ls {ROOT}").rc != 0


def test_backup_output_and_manifest_hold_no_password(host, backup):
    manifest = host.file(f"{ROOT}/{backup['backup']}/manifest.json").content_string
    for text in (json.dumps(backup), manifest):
        assert PASSWORD not in text and quote(PASSWORD, safe="") not in text


def test_restore_reports_the_backup_it_restored(restored, backup):
    assert restored["result"]["changed"] is True
    assert restored["result"]["backup"] == backup["backup"]
    assert restored["result"]["manifest"] == backup["manifest"]


def test_restore_brings_the_rows_back_exactly(restored, site):
    assert restored["rows"] == site["rows"]
    assert len(site["rows"].splitlines()) == 3


def test_restore_drops_a_table_made_after_the_backup(restored):
    assert restored["later"] == "0"


def test_restored_table_is_the_app_roles(host, restored):
    owner = _sql(host, f"SELECT tableowner FROM pg_tables WHERE tablename = '{TABLE}'")
    assert owner.rc == 0, owner.stderr
    assert owner.stdout.strip() == USER


def test_restored_sequence_goes_on_after_the_rows(host, restored):
    # The serial's sequence comes back at its value: the next row gets the next id, no collision.
    inserted = _sql(host, f"INSERT INTO {TABLE} (label) VALUES ('after the restore') RETURNING id")
    try:
        assert inserted.rc == 0, inserted.stderr
        assert inserted.stdout.strip() == "4"
    finally:
        _sql(host, f"DELETE FROM {TABLE} WHERE label = 'after the restore'")


def test_restore_brings_the_media_back_exactly(restored, site):
    assert restored["media"] == site["media"]
    assert "uploads/photo.txt appclient appclient 640 f" in site["media"]


def test_restore_with_a_wrong_password_fails_naming_pg_restore_and_the_database(refused):
    assert refused["failed"] is True
    assert f"pg_restore into the database {DATABASE} failed" in refused["msg"]
    assert f'password authentication failed for user "{USER}"' in refused["msg"]


def test_failed_restore_output_never_holds_the_password(refused):
    text = json.dumps(refused)
    for secret in (PASSWORD, WRONG_PASSWORD, quote(PASSWORD, safe=""), quote(WRONG_PASSWORD, safe="")):
        assert secret not in text


def test_failed_restore_leaves_the_database_and_media_as_they_were(host, refused, site):
    assert _rows(host) == site["rows"]
    assert _media(host) == site["media"]


def test_check_mode_backup_writes_nothing(host, backup, app_account):
    before = _tree(host, ROOT)
    result = _ok(_site_backup(host, check=True, root=ROOT, state="present", database_url=TCP_URL,
                              user=app_account, media=MEDIA, kind="manual"))
    assert result["changed"] is True and result["manifest"]["kind"] == "manual"
    assert _tree(host, ROOT) == before


@pytest.fixture(scope="module")
def extension_restored(host, refused, app_account) -> dict:
    """The superuser's extension, a table of the app's using it, a backup, its rows changed, the restore."""
    installed = _superuser(host, f"CREATE EXTENSION {EXTENSION}")
    assert installed.rc == 0, installed.stderr
    made = _sql(host, f"CREATE TABLE {EXTENSION_TABLE} (id int PRIMARY KEY, email {EXTENSION} UNIQUE)",
                f"INSERT INTO {EXTENSION_TABLE} VALUES (1, 'Ann@Example.org'), (2, 'bob@example.org')")
    assert made.rc == 0, made.stderr
    try:
        taken = _ok(_site_backup(host, root=ROOT, state="present", database_url=SOCKET_URL, user=app_account,
                                 kind="manual"))
        changed = _sql(host, f"DELETE FROM {EXTENSION_TABLE} WHERE id = 2")
        assert changed.rc == 0, changed.stderr
        result = _site_backup(host, root=ROOT, state="restored", database_url=SOCKET_URL, user=app_account,
                              name=taken["backup"])
        rows = _sql(host, f"SELECT id, email FROM {EXTENSION_TABLE} WHERE email = 'ann@EXAMPLE.org' OR id = 2"
                          " ORDER BY id")
        owner = _superuser(host, f"SELECT pg_get_userbyid(extowner) FROM pg_extension WHERE extname = '{EXTENSION}'")
        yield {"result": result, "rows": rows.stdout, "owner": owner.stdout.strip()}
    finally:
        _sql(host, f"DROP TABLE IF EXISTS {EXTENSION_TABLE}")
        dropped = _superuser(host, f"DROP EXTENSION IF EXISTS {EXTENSION}")
        assert dropped.rc == 0, dropped.stderr


@pytest.fixture(scope="module")
def foreign_refused(host, extension_restored, app_account) -> dict:
    """Another role's table the app's role may read, a backup holding it, a row of the app's added,
    then the restore."""
    made = _superuser(host, f"CREATE ROLE {OTHER_ROLE}", f"CREATE TABLE public.{OTHER_TABLE} (id int)",
                      f"ALTER TABLE public.{OTHER_TABLE} OWNER TO {OTHER_ROLE}",
                      f"GRANT SELECT ON public.{OTHER_TABLE} TO {USER}")
    assert made.rc == 0, made.stderr
    try:
        taken = _ok(_site_backup(host, root=ROOT, state="present", database_url=SOCKET_URL, user=app_account,
                                 kind="manual"))
        added = _sql(host, f"INSERT INTO {TABLE} (label) VALUES ('after the backup')")
        assert added.rc == 0, added.stderr
        before = _rows(host)
        result = _site_backup(host, root=ROOT, state="restored", database_url=SOCKET_URL, user=app_account,
                              name=taken["backup"])
        yield {"result": result, "before": before, "after": _rows(host)}
    finally:
        _sql(host, f"DELETE FROM {TABLE} WHERE label = 'after the backup'")
        dropped = _superuser(host, f"DROP TABLE IF EXISTS public.{OTHER_TABLE}", f"DROP OWNED BY {OTHER_ROLE}",
                             f"DROP ROLE {OTHER_ROLE}")
        assert dropped.rc == 0, dropped.stderr


def test_restore_leaves_an_extension_the_superuser_installed_and_succeeds(extension_restored):
    assert not extension_restored["result"].get("failed"), extension_restored["result"].get("msg")
    assert extension_restored["owner"] == "postgres"


def test_restore_brings_back_rows_of_a_column_typed_by_that_extension(extension_restored):
    # Both rows back, and the column still compares case-insensitively: it is citext again.
    assert extension_restored["rows"].splitlines() == ["1|Ann@Example.org", "2|bob@example.org"]


def test_restore_over_another_roles_table_in_the_backup_is_refused_naming_it(foreign_refused):
    result = foreign_refused["result"]
    assert result["failed"] is True
    assert "refused before any change" in result["msg"]
    assert f"table public.{OTHER_TABLE} (owner {OTHER_ROLE}) is in the backup" in result["msg"]
    assert f"ALTER TABLE public.{OTHER_TABLE} OWNER TO {USER}" in result["msg"]


def test_a_refused_restore_leaves_the_database_as_it_was(foreign_refused):
    assert foreign_refused["after"] == foreign_refused["before"]
    assert "after the backup" in foreign_refused["after"]

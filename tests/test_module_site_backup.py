"""djstack.stack.site_backup and module_utils/site_backup.py: the site's backups and their restore."""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils import site_backup as sb
from tests.modrun import run_module

ME = pwd.getpwuid(os.getuid()).pw_name
SECRET = "s3cr/t p@ss"


@pytest.fixture
def site(tmp_path: Path) -> dict[str, Path]:
    db = tmp_path / "db" / "db.sqlite3"
    db.parent.mkdir()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=wal")
        conn.execute("CREATE TABLE product (name TEXT)")
        conn.executemany("INSERT INTO product VALUES (?)", [("tea",), ("coffee",)])
    media = tmp_path / "media"
    (media / "photos").mkdir(parents=True)
    (media / "photos" / "tea.jpg").write_bytes(b"jpeg")
    os.chmod(media / "photos", 0o2750)
    os.chmod(media / "photos" / "tea.jpg", 0o640)
    app_root = tmp_path / "app"
    (app_root / "releases" / "r1").mkdir(parents=True)
    (app_root / "current").symlink_to("releases/r1")
    return {"db": db, "media": media, "root": tmp_path / "backups", "app_root": app_root}


def _url(db: Path) -> str:
    return f"sqlite:///{db}"


def _create(site, **kwargs):
    args = {"kind": "scheduled", "database_url": _url(site["db"]), "user": ME, "media": str(site["media"]),
            "app_root": str(site["app_root"]), "keep": 7}
    args.update(kwargs)
    return sb.create(site["root"], **args)


def _names(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return sorted(row[0] for row in conn.execute("SELECT name FROM product"))


def test_backup_holds_the_committed_rows(site):
    done = _create(site)
    copy = site["root"] / done["backup"] / "database.sqlite3"
    assert _names(copy) == ["coffee", "tea"]


def test_backup_leaves_out_a_transaction_still_open(site):
    writer = sqlite3.connect(site["db"], isolation_level=None)
    writer.execute("BEGIN")
    writer.execute("INSERT INTO product VALUES ('half-written')")
    try:
        done = _create(site)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert _names(site["root"] / done["backup"] / "database.sqlite3") == ["coffee", "tea"]


def test_manifest_records_the_serving_release_and_checksums(site):
    manifest = _create(site, kind="pre-migrate", release="r2")["manifest"]
    assert (manifest["kind"], manifest["release"], manifest["serving"]) == ("pre-migrate", "r2", "r1")
    assert manifest["database"]["engine"] == "sqlite" and len(manifest["database"]["sha256"]) == 64
    assert manifest["media"]["file"] == "media.tar"


def test_backup_is_owner_only(site):
    done = _create(site)
    backup = site["root"] / done["backup"]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [site["root"], backup, *backup.iterdir()]}
    assert modes == {"backups": 0o700, done["backup"]: 0o700, "manifest.json": 0o600,
                     "database.sqlite3": 0o600, "media.tar": 0o600}


def test_name_says_when_and_for_what(site):
    name = _create(site, kind="pre-migrate", release="20261203T101500Z-3f2a", now=1764756000.0)["backup"]
    assert name == "20251203T100000Z-pre-migrate-20261203T101500Z-3f2a"


def test_two_backups_in_one_second_get_two_names(site):
    first = _create(site, now=1764756000.0)["backup"]
    second = _create(site, now=1764756000.0)["backup"]
    assert first != second and sorted([first, second]) == [first, second]


def test_keep_drops_the_oldest_of_the_same_kind_only(site):
    pre = _create(site, kind="pre-migrate", release="r2", now=1764756000.0)["backup"]
    made = [_create(site, now=1764756000.0 + 60 * i) for i in range(1, 5)]
    last = _create(site, keep=2, now=1764756000.0 + 600)
    assert last["removed"] == [made[0]["backup"], made[1]["backup"], made[2]["backup"]]
    assert [b["name"] for b in sb.backups(site["root"])] == [pre, made[3]["backup"], last["backup"]]


def test_a_killed_backup_leaves_no_listed_backup_and_is_cleared(site):
    site["root"].mkdir(mode=0o700)
    (site["root"] / "20251203T100000Z-scheduled.partial").mkdir()
    assert sb.backups(site["root"]) == []
    _create(site)
    assert not list(site["root"].glob("*.partial"))


def test_a_failed_backup_writes_nothing(site):
    site["db"].unlink()
    with pytest.raises(sb.BackupError, match="does not exist"):
        _create(site)
    assert list(site["root"].iterdir()) == [site["root"] / ".lock"]


def test_restore_brings_back_rows_and_open_connections_see_them(site):
    done = _create(site)
    reader = sqlite3.connect(site["db"])
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("DELETE FROM product")
    assert reader.execute("SELECT count(*) FROM product").fetchone()[0] == 0
    sb.restore(site["root"], sb.find(site["root"], name=done["backup"]), database_url=_url(site["db"]),
               user=ME, media=str(site["media"]))
    assert reader.execute("SELECT count(*) FROM product").fetchone()[0] == 2
    reader.close()


def test_restore_undoes_a_dropped_table(site):
    done = _create(site)
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("DROP TABLE product")
        conn.execute("CREATE TABLE newer (x INT)")
    sb.restore(site["root"], done["manifest"], database_url=_url(site["db"]), user=ME)
    with sqlite3.connect(site["db"]) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["product"]


def test_restore_makes_the_media_exactly_the_backups(site):
    done = _create(site)
    (site["media"] / "photos" / "tea.jpg").unlink()
    (site["media"] / "uploaded-later.txt").write_text("new")
    sb.restore(site["root"], done["manifest"], database_url=_url(site["db"]), user=ME, media=str(site["media"]))
    files = sorted(str(p.relative_to(site["media"])) for p in site["media"].rglob("*"))
    assert files == ["photos", "photos/tea.jpg"]
    assert (site["media"] / "photos" / "tea.jpg").read_bytes() == b"jpeg"


def test_restore_keeps_modes_and_the_setgid_bit(site):
    done = _create(site)
    sb.restore(site["root"], done["manifest"], database_url=_url(site["db"]), user=ME, media=str(site["media"]))
    assert stat.S_IMODE((site["media"] / "photos").stat().st_mode) == 0o2750
    assert stat.S_IMODE((site["media"] / "photos" / "tea.jpg").stat().st_mode) == 0o640


def test_damaged_backup_is_refused_before_anything_changes(site):
    done = _create(site)
    with (site["root"] / done["backup"] / "database.sqlite3").open("r+b") as handle:
        handle.seek(200)
        handle.write(b"\xff" * 16)
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("DELETE FROM product WHERE name = 'tea'")
    with pytest.raises(sb.BackupError, match="differs from its checksum"):
        sb.restore(site["root"], done["manifest"], database_url=_url(site["db"]), user=ME)
    assert _names(site["db"]) == ["coffee"]


def test_restore_refuses_another_engine(site):
    done = _create(site)
    with pytest.raises(sb.BackupError, match="holds a sqlite database; the site's database URL is postgresql"):
        sb.restore(site["root"], done["manifest"], database_url="postgresql://u:p@db/shop", user=ME)


def test_find_takes_the_newest_pre_migrate_backup_of_a_release(site):
    _create(site, kind="pre-migrate", release="r2", now=1764756000.0)
    newest = _create(site, kind="pre-migrate", release="r2", now=1764756060.0)["backup"]
    _create(site, kind="pre-migrate", release="r3", now=1764756120.0)
    assert sb.find(site["root"], release="r2")["name"] == newest


def test_find_names_the_backups_there_are(site):
    made = _create(site, now=1764756000.0)["backup"]
    with pytest.raises(sb.BackupError, match=f"no backup 'nope' in .* \\(newest: {made}\\)"):
        sb.find(site["root"], name="nope")


def test_find_says_why_a_release_has_no_backup(site):
    with pytest.raises(sb.BackupError, match="no pre-migrate backup of release 'r9'"):
        sb.find(site["root"], release="r9")


def test_postgresql_url_becomes_libpq_environment():
    db = sb.parse_database_url("postgresql://shop:s3cr%2Ft%20p%40ss@/shop?host=/var/run/postgresql")
    assert db.env == {"PGDATABASE": "shop", "PGUSER": "shop", "PGPASSWORD": SECRET, "PGHOST": "/var/run/postgresql"}


def test_postgresql_url_with_host_port_and_sslmode():
    db = sb.parse_database_url("postgres://shop:pw@10.0.0.5:5433/shop?sslmode=require")
    assert (db.env["PGHOST"], db.env["PGPORT"], db.env["PGSSLMODE"]) == ("10.0.0.5", "5433", "require")


@pytest.mark.parametrize("url, message", [
    ("mysql://u:p@h/db", "scheme is 'mysql'"),
    ("sqlite:///relative.db", "absolute path"),
    ("postgresql://u:p@h/", "names no database"),
])
def test_unusable_database_urls_say_what_is_wrong(url, message):
    with pytest.raises(sb.BackupError, match=message):
        sb.parse_database_url(url)


@pytest.fixture
def fake_pg(tmp_path: Path, monkeypatch) -> Path:
    """pg_dump and pg_restore stand-ins that record their argv and libpq environment."""
    bin_dir = tmp_path / "pgbin"
    bin_dir.mkdir()
    log = tmp_path / "pg.log"
    for tool in ("pg_dump", "pg_restore", "psql"):
        script = bin_dir / tool
        script.write_text(
            f"#!{sys.executable}\nimport json, os, sys\n"
            f"open({str(log)!r}, 'a').write(json.dumps({{'argv': sys.argv, "
            "'env': {k: v for k, v in os.environ.items() if k.startswith('PG')}, "
            "'stdin': '' if sys.stdin.isatty() or '--list' in sys.argv or sys.argv[0].endswith('pg_dump') "
            "else sys.stdin.read()}) + '\\n')\n"
            "if sys.argv[0].endswith('pg_dump'):\n    sys.stdout.write('PGDMP-archive')\n"
            "if sys.argv[0].endswith('pg_restore') and '--file=-' in sys.argv:\n    sys.stdout.write('SQL-script')\n")
        script.chmod(0o755)
    monkeypatch.setattr(sb, "_PATH", f"{bin_dir}:{sb._PATH}")
    return log


def _pg_calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_pg_dump_gets_the_password_in_its_environment_only(tmp_path, fake_pg):
    url = "postgresql://shop:s3cr%2Ft%20p%40ss@/shop?host=/var/run/postgresql"
    done = sb.create(tmp_path / "b", kind="manual", database_url=url, user=ME)
    dump = _pg_calls(fake_pg)[0]
    assert dump["argv"][1:] == ["--format=custom", "--no-owner", "--no-privileges"]
    assert dump["env"]["PGPASSWORD"] == SECRET and all(SECRET not in arg for arg in dump["argv"])
    assert (tmp_path / "b" / done["backup"] / "database.pgdump").read_text() == "PGDMP-archive"


def test_pg_restore_replays_the_archive_after_dropping_the_roles_objects_in_one_transaction(tmp_path, fake_pg):
    url = "postgresql://shop:pw@/shop?host=/var/run/postgresql"
    done = sb.create(tmp_path / "b", kind="manual", database_url=url, user=ME)
    sb.restore(tmp_path / "b", done["manifest"], database_url=url, user=ME)
    inspect, script, load = _pg_calls(fake_pg)[-3:]
    assert inspect["argv"][0].endswith("psql") and "DROP OWNED" not in json.dumps(inspect)
    assert script["argv"][1:3] == ["--no-owner", "--no-privileges"] and script["argv"][-1] == "--file=-"
    assert script["argv"][3].startswith("--use-list=")
    assert script["stdin"] == "PGDMP-archive"
    assert load["argv"][1:] == ["-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                                "-c", "DROP OWNED BY CURRENT_USER", "-f", "-"]
    assert load["stdin"] == "SQL-script" and load["env"]["PGDATABASE"] == "shop"


def test_unknown_account_is_named(site):
    with pytest.raises(sb.BackupError, match="the app account 'no-such-app' does not exist"):
        _create(site, user="no-such-app")


# --- the module -------------------------------------------------------------


def _module_args(site, **extra):
    return {"root": str(site["root"]), "database_url": _url(site["db"]), "user": ME,
            "media": str(site["media"]), **extra}


def test_module_writes_a_backup_and_reports_a_change(site, tmp_path):
    result = run_module("site_backup", _module_args(site, kind="scheduled"), tmp_path)
    assert result["changed"] and (site["root"] / result["backup"] / "manifest.json").is_file()


def test_module_check_mode_writes_nothing(site, tmp_path):
    result = run_module("site_backup", _module_args(site, kind="scheduled"), tmp_path, check=True, diff=True)
    assert result["changed"] and result["backup"].endswith("-scheduled")
    assert not site["root"].exists()
    assert result["diff"]["after"].startswith(f"backup {result['backup']}")


def test_the_predicted_name_is_the_one_a_backup_in_the_same_second_gets(site):
    # Check mode reports free_name's answer: a taken second moves the next backup on by one.
    now = 1_800_000_000.0
    first = _create(site, now=now)["backup"]
    predicted, _ = sb.free_name(site["root"], "scheduled", "", now)
    assert predicted != first and _create(site, now=now)["backup"] == predicted


def test_module_restore_by_release(site, tmp_path):
    made = run_module("site_backup", _module_args(site, kind="pre-migrate", release="r2"), tmp_path)
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("DELETE FROM product")
    result = run_module("site_backup", _module_args(site, state="restored", release="r2"), tmp_path)
    assert (result["backup"], result["serving"]) == (made["backup"], "")
    assert _names(site["db"]) == ["coffee", "tea"]


def test_module_check_mode_restore_fails_on_an_unknown_backup(site, tmp_path):
    result = run_module("site_backup", _module_args(site, state="restored", name="20990101T000000Z-manual"),
                        tmp_path, check=True)
    assert result["rc"] == 1 and "no backup '20990101T000000Z-manual'" in result["msg"]


def test_module_restore_needs_a_name_or_a_release(site, tmp_path):
    result = run_module("site_backup", _module_args(site, state="restored"), tmp_path)
    assert result["rc"] == 1 and "needs name (a backup) or release" in result["msg"]


def test_module_never_shows_the_database_password(tmp_path):
    result = run_module("site_backup", {"root": str(tmp_path / "b"), "user": ME,
                                        "database_url": "postgresql://shop:hunter2secret@/shop"}, tmp_path,
                        check=True)
    assert "hunter2secret" not in json.dumps(result)


# --- the timer's command line -------------------------------------------------


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(Path(sb.__file__)), *args], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], **env}, check=False)


def test_cli_reads_the_database_and_media_from_the_env_file_variables(site):
    done = _cli(["create", "--root", str(site["root"]), "--kind", "scheduled", "--user", ME],
                {"DJANGO_DATABASE_URL": _url(site["db"]), "DJANGO_MEDIA_ROOT": str(site["media"])})
    assert done.returncode == 0, done.stderr
    (backup,) = sb.backups(site["root"])
    assert backup["media"] and done.stdout.startswith(f"backup {backup['name']} written")


def test_cli_without_the_env_file_says_so(site):
    done = _cli(["create", "--root", str(site["root"]), "--user", ME], {})
    assert done.returncode == 1
    assert "DJANGO_DATABASE_URL is not set: run with the app's env file" in done.stderr


def test_restore_keeps_the_live_database_in_wal_mode(site):
    done = _create(site)
    sb.restore(site["root"], done["manifest"], database_url=_url(site["db"]), user=ME)
    with sqlite3.connect(site["db"]) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_module_pre_migrate_backup_of_a_first_deploy_has_nothing_to_save(site, tmp_path):
    site["db"].unlink()
    result = run_module("site_backup", _module_args(site, kind="pre-migrate", release="r1"), tmp_path)
    assert result["rc"] == 0 and not result["changed"] and result["backup"] == ""


# --- the release a restore switches back to -------------------------------------


def _history(app_root: Path, entries: list[tuple[str, str]]) -> None:
    (app_root / "releases.json").write_text(json.dumps([{"id": rid, "status": status} for rid, status in entries]))


def test_a_backup_whose_release_is_still_on_the_host_may_be_restored():
    manifest = {"name": "20261203T101502Z-scheduled", "serving": "r1"}
    assert sb.serving_problem(manifest, present={"r1"}, good={"r1"}, existing=[manifest], app_root="/srv/a") == ""


def test_a_backup_that_names_no_serving_release_may_be_restored():
    manifest = {"name": "20261203T101502Z-scheduled", "serving": ""}
    assert sb.serving_problem(manifest, present=set(), good=set(), existing=[], app_root="/srv/a") == ""


def test_a_backup_whose_release_was_pruned_is_refused_naming_it_and_the_backups_that_would_do():
    old = {"name": "20261201T000000Z-scheduled", "serving": "r0"}
    newer = {"name": "20261202T000000Z-scheduled", "serving": "r1"}
    message = sb.serving_problem(old, present={"r1"}, good={"r1"}, existing=[old, newer], app_root="/srv/a")
    assert "backup 20261201T000000Z-scheduled was taken while release r0 served" in message
    assert "that release was pruned from the host (/srv/a/releases)" in message
    assert "nothing was touched" in message
    assert "(newest: 20261202T000000Z-scheduled;" in message


def test_a_backup_whose_release_failed_since_is_refused():
    manifest = {"name": "20261203T101502Z-scheduled", "serving": "r1"}
    message = sb.serving_problem(manifest, present={"r1"}, good=set(), existing=[manifest], app_root="/srv/a")
    assert "that release is not a good release in the release history" in message
    assert "(newest: none;" in message


def test_module_refuses_a_restore_whose_release_was_pruned_and_touches_nothing(site, tmp_path):
    _history(site["app_root"], [("r1", "active")])
    made = run_module("site_backup", _module_args(site, kind="manual", app_root=str(site["app_root"])), tmp_path)
    assert made["manifest"]["serving"] == "r1"
    # r1 pruned: r2 serves now, and the data changed since the backup.
    (site["app_root"] / "releases" / "r2").mkdir()
    (site["app_root"] / "current").unlink()
    (site["app_root"] / "current").symlink_to("releases/r2")
    (site["app_root"] / "releases" / "r1").rmdir()
    _history(site["app_root"], [("r2", "active")])
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("DELETE FROM product WHERE name = 'tea'")
    for check in (True, False):
        result = run_module("site_backup", _module_args(site, state="restored", name=made["backup"],
                                                        app_root=str(site["app_root"])), tmp_path, check=check)
        assert result["rc"] == 1
        assert "release r1 served, and that release was pruned from the host" in result["msg"]
        assert _names(site["db"]) == ["coffee"]


def test_module_restores_a_backup_whose_release_is_on_the_host(site, tmp_path):
    _history(site["app_root"], [("r1", "active")])
    made = run_module("site_backup", _module_args(site, kind="manual", app_root=str(site["app_root"])), tmp_path)
    with sqlite3.connect(site["db"]) as conn:
        conn.execute("DELETE FROM product")
    result = run_module("site_backup", _module_args(site, state="restored", name=made["backup"],
                                                    app_root=str(site["app_root"])), tmp_path)
    assert (result["backup"], result["serving"]) == (made["backup"], "r1")
    assert _names(site["db"]) == ["coffee", "tea"]

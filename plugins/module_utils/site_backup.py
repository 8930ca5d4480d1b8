# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups of a Django site's data: its database (SQLite or PostgreSQL) and its media.

The logic of the module djstack.stack.site_backup, and the program the backup role's timer
runs on the host (only the standard library, Debian's python3):

  python3 -I site_backup.py create --root DIR --kind scheduled --keep 7 --user APP [--app-root R]
  python3 -I site_backup.py list --root DIR

`create` reads the database URL and the media directory from DJANGO_DATABASE_URL and
DJANGO_MEDIA_ROOT, the app's env file as systemd's EnvironmentFile= passes it.

Under DIR, one directory per backup, named <UTC time>-<kind>[-<release>]: manifest.json,
database.sqlite3 or database.pgdump (pg_dump's custom format), media.tar. It is written as
<name>.partial and renamed when whole, so every listed backup is complete; everything is
root's and owner-only. The database tools run as the app's account (SQLite's WAL files and
PostgreSQL's peer authentication are the app's), and their output reaches the backup file
through a pipe, so the app never sees the backup directory.

With DIR/.copy/settings.json (written by the backup role), each new backup is then copied to
another host with rsync over SSH (the key and the pinned known_hosts beside it), owner-only,
and the copies there are kept as deep as here. A failed copy keeps the local backup and
makes `create` exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

FORMAT = 1
KINDS = ("scheduled", "pre-migrate", "manual")
MANIFEST = "manifest.json"
_NAME = re.compile(r"^\d{8}T\d{6}Z-(scheduled|pre-migrate|manual)(?:-([A-Za-z0-9._-]+))?$")
_RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
COPY_SETTINGS = ".copy/settings.json"
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Run as the app's account: the live database read through SQLite's online backup API
# (consistent while the app writes, WAL included) into memory, its bytes to stdout. The
# header's format bytes (18, 19) are set to the rollback journal's: a WAL-mode file cannot be
# loaded into memory, and opening the copy must not create -wal files beside it.
_SQLITE_DUMP = r"""
import sqlite3, sys
source = sqlite3.connect(sys.argv[1], timeout=30)
copy = sqlite3.connect(":memory:")
source.backup(copy)
source.close()
data = bytearray(copy.serialize())
data[18:20] = b"\x01\x01"
sys.stdout.buffer.write(data)
"""

# Run as the app's account: a backup's bytes from stdin copied into the live database by
# the same API, in one step under SQLite's lock; the app's open connections see the result.
_SQLITE_LOAD = r"""
import sqlite3, sys
copy = sqlite3.connect(":memory:")
copy.deserialize(sys.stdin.buffer.read())
live = sqlite3.connect(sys.argv[1], timeout=30)
copy.backup(live)
live.close()
"""


class BackupError(Exception):
    """A problem the operator must fix, said in one sentence."""


@dataclass(frozen=True)
class Database:
    engine: str
    path: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return "database.sqlite3" if self.engine == "sqlite" else "database.pgdump"


def parse_database_url(url: str) -> Database:
    """The database behind a Django database URL as the settings overlay reads it."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:])
        if not path.startswith("/"):
            raise BackupError(f"the SQLite database URL needs an absolute path (sqlite:////...), got {parts.path!r}")
        return Database("sqlite", path=path)
    if parts.scheme in ("postgres", "postgresql"):
        query = dict(parse_qsl(parts.query))
        env = {
            "PGDATABASE": unquote(parts.path.lstrip("/")),
            "PGUSER": unquote(parts.username or ""),
            "PGPASSWORD": unquote(parts.password or ""),
            "PGHOST": query.pop("host", "") or parts.hostname or "",
            "PGPORT": str(parts.port or query.pop("port", "") or ""),
        }
        if "sslmode" in query:
            env["PGSSLMODE"] = query["sslmode"]
        if not env["PGDATABASE"]:
            raise BackupError("the PostgreSQL database URL names no database (postgresql://user:password@host/NAME)")
        return Database("postgresql", env={key: value for key, value in env.items() if value})
    raise BackupError(f"backups know SQLite and PostgreSQL databases; the database URL's scheme is {parts.scheme!r}")


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str


def account(name: str) -> Account:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise BackupError(f"the app account {name!r} does not exist") from None
    return Account(name, entry.pw_uid, entry.pw_gid, entry.pw_dir)


def _as_account(user: Account, env: dict[str, str]) -> dict[str, Any]:
    """subprocess arguments running a tool as the app's account, with only these variables."""
    # Secrets travel in the environment, never in argv (visible to every user in ps).
    full_env = {"PATH": _PATH, "HOME": user.home, "LC_ALL": "C.UTF-8", **env}
    ids: dict[str, Any] = {"user": user.uid, "group": user.gid, "extra_groups": []} if os.geteuid() == 0 else {}
    return {"env": full_env, "cwd": "/", **ids}


def _failure(what: str, code: int, stderr: bytes, tool: str = "") -> BackupError:
    exit_of = f"{tool} exit" if tool else "exit"
    return BackupError(f"{what} failed ({exit_of} {code}): {stderr.decode(errors='replace').strip()[-1500:]}")


def _run_as(user: Account, argv: list[str], env: dict[str, str], *, stdin: Any = None,
            stdout: Any = subprocess.PIPE, what: str, input_bytes: bytes | None = None) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=False,
                              input=input_bytes, **_as_account(user, env))
    except FileNotFoundError:
        raise BackupError(f"{what}: {argv[0]} is not installed") from None
    if done.returncode != 0:
        raise _failure(what, done.returncode, done.stderr)
    return done


# What the restore must know of the live database before it changes anything, read as the app's
# role: "extension" rows for the extensions another role owns (DROP OWNED leaves them, so the
# archive's entries for them are skipped), "foreign" rows for the objects other roles own
# (outside the system schemas, extensions' members and internal parts left out), "dependent"
# rows for those of them that depend on an object the app's role owns (DROP OWNED refuses to
# drop it under them). Fields: kind, schema ("-" for a schema), name as pg_dump's TOC writes
# it, owner, identity (quoted, qualified), and for a dependent what it depends on.
_PG_INSPECT = r"""
WITH me AS (
  SELECT oid FROM pg_roles WHERE rolname = current_user
), mine AS (
  SELECT classid, objid FROM pg_shdepend
  WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND refclassid = 'pg_authid'::regclass AND refobjid = (SELECT oid FROM me) AND deptype = 'o'
), members AS (
  SELECT classid, objid FROM pg_depend WHERE deptype IN ('e', 'i')
), foreign_objects AS (
  SELECT 'pg_class'::regclass AS classid, c.oid AS objid, c.relowner AS owner,
         CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                        WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
         n.nspname AS schema, c.relname::text AS name
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'pg_type'::regclass, t.oid, t.typowner, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
         n.nspname, t.typname::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype IN ('b', 'd', 'e', 'r', 'm') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  UNION ALL
  SELECT 'pg_proc'::regclass, p.oid, p.proowner,
         CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
         n.nspname, p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  UNION ALL
  SELECT 'pg_namespace'::regclass, n.oid, n.nspowner, 'SCHEMA', '-', n.nspname::text
  FROM pg_namespace n
), candidates AS (
  SELECT o.* FROM foreign_objects o
  WHERE o.owner <> (SELECT oid FROM me)
    AND (o.schema = '-' OR (o.schema NOT IN ('pg_catalog', 'information_schema') AND o.schema NOT LIKE 'pg\_%'))
    AND NOT (o.schema = '-' AND (o.name IN ('pg_catalog', 'information_schema', 'public') OR o.name LIKE 'pg\_%'))
    AND (o.classid, o.objid) NOT IN (SELECT classid, objid FROM members)
), dependents AS (
  SELECT DISTINCT
         CASE d.classid WHEN 'pg_rewrite'::regclass THEN 'pg_class'::regclass
                        WHEN 'pg_trigger'::regclass THEN 'pg_class'::regclass
                        WHEN 'pg_attrdef'::regclass THEN 'pg_class'::regclass
                        WHEN 'pg_policy'::regclass THEN 'pg_class'::regclass
                        WHEN 'pg_constraint'::regclass THEN
                          CASE WHEN con.conrelid <> 0 THEN 'pg_class'::regclass ELSE 'pg_type'::regclass END
                        ELSE d.classid END AS classid,
         CASE d.classid WHEN 'pg_rewrite'::regclass THEN rw.ev_class
                        WHEN 'pg_trigger'::regclass THEN tg.tgrelid
                        WHEN 'pg_attrdef'::regclass THEN ad.adrelid
                        WHEN 'pg_policy'::regclass THEN po.polrelid
                        WHEN 'pg_constraint'::regclass THEN
                          CASE WHEN con.conrelid <> 0 THEN con.conrelid ELSE con.contypid END
                        ELSE d.objid END AS objid,
         d.refclassid, d.refobjid
  FROM pg_depend d
  JOIN mine m ON m.classid = d.refclassid AND m.objid = d.refobjid
  LEFT JOIN pg_rewrite rw ON d.classid = 'pg_rewrite'::regclass AND rw.oid = d.objid
  LEFT JOIN pg_trigger tg ON d.classid = 'pg_trigger'::regclass AND tg.oid = d.objid
  LEFT JOIN pg_attrdef ad ON d.classid = 'pg_attrdef'::regclass AND ad.oid = d.objid
  LEFT JOIN pg_policy po ON d.classid = 'pg_policy'::regclass AND po.oid = d.objid
  LEFT JOIN pg_constraint con ON d.classid = 'pg_constraint'::regclass AND con.oid = d.objid
  WHERE d.deptype IN ('n', 'a')
)
SELECT 'extension', e.extname, pg_get_userbyid(e.extowner), '', '', '' FROM pg_extension e
  WHERE e.extowner <> (SELECT oid FROM me)
UNION ALL
SELECT 'foreign', c.kind, c.schema, c.name, pg_get_userbyid(c.owner),
       (pg_identify_object(c.classid, c.objid, 0)).identity
FROM candidates c
UNION ALL
SELECT DISTINCT 'dependent', c.kind, c.schema, c.name, pg_get_userbyid(c.owner),
       (pg_identify_object(c.classid, c.objid, 0)).identity || E'\x1d' || (pg_identify_object(d.refclassid, d.refobjid, 0)).type
       || ' ' || (pg_identify_object(d.refclassid, d.refobjid, 0)).identity
FROM dependents d JOIN candidates c ON c.classid = d.classid AND c.objid = d.objid
ORDER BY 1, 2, 3, 4;
"""

# The TOC's object types (pg_restore --list) of more than one word, longest first.
_TOC_DESCS = sorted((
    "ACCESS METHOD", "BLOB DATA", "BLOB METADATA", "CHECK CONSTRAINT", "DATABASE PROPERTIES", "DEFAULT ACL",
    "EVENT TRIGGER", "FK CONSTRAINT", "FOREIGN DATA WRAPPER", "FOREIGN SERVER", "FOREIGN TABLE", "INDEX ATTACH",
    "LARGE OBJECT", "MATERIALIZED VIEW", "MATERIALIZED VIEW DATA", "OPERATOR CLASS", "OPERATOR FAMILY",
    "PROCEDURAL LANGUAGE", "PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA", "ROW SECURITY",
    "SECURITY LABEL", "SEQUENCE OWNED BY", "SEQUENCE SET", "SHELL TYPE", "STATISTICS DATA", "TABLE ATTACH",
    "TABLE DATA", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY", "TEXT SEARCH PARSER",
    "TEXT SEARCH TEMPLATE", "USER MAPPING"), key=len, reverse=True)
_TOC_LINE = re.compile(r"^(\d+); \d+ \d+ (.*)$")
# The entries that create an object the restore would have to replace.
_RECREATED = ("TABLE", "VIEW", "MATERIALIZED VIEW", "SEQUENCE", "FOREIGN TABLE", "TYPE", "DOMAIN", "FUNCTION",
              "PROCEDURE", "AGGREGATE", "SCHEMA")
_UNQUOTED = re.compile(r"^[a-z_][a-z0-9_$]*$")


@dataclass(frozen=True)
class TocEntry:
    """One line of `pg_restore --list`: what it creates (desc), where (schema, "-" for none), its tag."""
    dump_id: int
    desc: str
    schema: str
    tag: str
    owner: str


def parse_toc(listing: str) -> list[TocEntry]:
    """The entries of a `pg_restore --list` (its comment lines left out)."""
    entries = []
    for line in listing.splitlines():
        match = _TOC_LINE.match(line)
        if not match:
            continue
        rest = match.group(2)
        desc = next((d for d in _TOC_DESCS if rest.startswith(d + " ")), rest.split(" ", 1)[0])
        schema, _sep, tag_owner = rest[len(desc) + 1:].partition(" ")
        tag, _sep, owner = tag_owner.rpartition(" ") if " " in tag_owner else (tag_owner, "", "")
        entries.append(TocEntry(int(match.group(1)), desc, schema, tag, owner))
    return entries


def kept_extension_ids(entries: list[TocEntry], kept: Collection[str]) -> set[int]:
    """The archive's entries for extensions the database keeps (another role's: DROP OWNED leaves
    them): CREATE EXTENSION IF NOT EXISTS would do nothing, and COMMENT ON EXTENSION needs their owner."""
    return {entry.dump_id for entry in entries
            if (entry.desc == "EXTENSION" and entry.tag in kept)
            or (entry.desc == "COMMENT" and entry.schema == "-" and entry.tag in {f"EXTENSION {name}" for name in kept})}


def filtered_toc(listing: str, skipped: Collection[int]) -> str:
    """The listing for pg_restore --use-list with these entries commented out."""
    out = []
    for line in listing.splitlines():
        match = _TOC_LINE.match(line)
        out.append(f";{line}" if match and int(match.group(1)) in skipped else line)
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class LiveObject:
    """An object of another role in the live database, and why it stands in the restore's way."""
    kind: str
    schema: str
    name: str
    owner: str
    identity: str
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveDatabase:
    kept_extensions: frozenset[str]
    foreign: tuple[LiveObject, ...]
    dependents: tuple[tuple[LiveObject, str], ...]


def parse_inspection(text: str) -> LiveDatabase:
    """_PG_INSPECT's rows, as psql prints them with the unit and record separators."""
    kept: set[str] = set()
    foreign: list[LiveObject] = []
    dependents: list[tuple[LiveObject, str]] = []
    for row in text.split("\x1e"):
        fields = row.strip("\n").split("\x1f")
        if fields[0] == "extension" and len(fields) >= 2:
            kept.add(fields[1])
        elif fields[0] in ("foreign", "dependent") and len(fields) >= 6:
            identity, _sep, depends_on = fields[5].partition("\x1d")
            item = LiveObject(fields[1], fields[2], fields[3], fields[4], identity)
            if fields[0] == "foreign":
                foreign.append(item)
            else:
                dependents.append((item, depends_on))
    return LiveDatabase(frozenset(kept), tuple(foreign), tuple(dependents))


def _ident(name: str) -> str:
    return name if _UNQUOTED.match(name) else '"' + name.replace('"', '""') + '"'


def restore_blockers(entries: list[TocEntry], live: LiveDatabase, role: str) -> list[LiveObject]:
    """Other roles' objects the restore cannot get past, each with why: the archive recreates it
    (DROP OWNED leaves it, so its CREATE would fail), or it depends on the app role's objects
    (so DROP OWNED fails). In the order found, each object once."""
    recreated = {(entry.desc, entry.schema, entry.tag) for entry in entries if entry.desc in _RECREATED}
    reasons: dict[tuple[str, str, str], list[str]] = {}
    objects: dict[tuple[str, str, str], LiveObject] = {}
    for item in live.foreign:
        if (item.kind, item.schema, item.name) in recreated:
            key = (item.kind, item.schema, item.name)
            objects.setdefault(key, item)
            reasons.setdefault(key, []).append(f"is in the backup but not {role}'s, so the restore cannot replace it")
    for item, depends_on in live.dependents:
        key = (item.kind, item.schema, item.name)
        objects.setdefault(key, item)
        reasons.setdefault(key, []).append(f"depends on {depends_on}, which the restore drops first")
    return [LiveObject(o.kind, o.schema, o.name, o.owner, o.identity, tuple(reasons[key])) for key, o in objects.items()]


def refusal_message(database: str, role: str, blockers: list[LiveObject]) -> str:
    """Why a PostgreSQL restore was refused, each object named with its owner, and what to do."""
    described = "; ".join(f"{item.kind.lower()} {item.identity} (owner {item.owner}) {' and '.join(item.reasons)}"
                          for item in blockers)
    fixes = "; ".join(f"ALTER {item.kind} {item.identity} OWNER TO {_ident(role)}" for item in blockers)
    return (f"the restore into the database {database} was refused before any change: it replaces what the "
            f"app's role {role} owns, and objects of other roles are in its way: {described}. Give each to "
            f"{role} ({fixes}; the restore then replaces it with the backup's, or drops it if the backup has "
            "none) or drop it, as its owner or a superuser, then restore again.")


def _pg_load(user: Account, db: Database, archive_path: Path) -> None:
    """The archive in place of everything the app's role owns, in one transaction.

    pg_restore --clean would drop only what the archive holds: a table a later migration
    created would survive and make the next migrate fail. So the role's objects are dropped
    first (DROP OWNED) and the archive's SQL replayed, both inside psql's single transaction:
    any error leaves the database as it was. Other roles' objects are out of DROP OWNED's
    reach, so the live database is read first: extensions another role installed are left as
    they are (their entries skipped), and objects of other roles the archive would recreate, or
    that depend on the role's, refuse the restore before anything changes, naming them."""
    what = f"pg_restore into the database {db.env['PGDATABASE']}"
    listing = subprocess.run(["pg_restore", "--list", str(archive_path)], capture_output=True, check=False,
                             env={"PATH": _PATH, "LC_ALL": "C.UTF-8"})
    if listing.returncode != 0:
        raise _failure(f"listing {archive_path}", listing.returncode, listing.stderr, tool="pg_restore")
    toc = listing.stdout.decode(errors="replace")
    entries = parse_toc(toc)
    inspected = _run_as(user, ["psql", "-X", "-q", "-w", "-At", "-F", "\x1f", "-R", "\x1e", "-v", "ON_ERROR_STOP=1",
                               "-f", "-"], db.env, what=what, input_bytes=_PG_INSPECT.encode())
    live = parse_inspection(inspected.stdout.decode(errors="replace"))
    role = db.env.get("PGUSER") or user.name
    blockers = restore_blockers(entries, live, role)
    if blockers:
        raise BackupError(refusal_message(db.env["PGDATABASE"], role, blockers))
    account_args = _as_account(user, db.env)
    with tempfile.NamedTemporaryFile("w", prefix="djstack-restore-", suffix=".list") as use_list, \
            archive_path.open("rb") as archive:
        use_list.write(filtered_toc(toc, kept_extension_ids(entries, live.kept_extensions)))
        use_list.flush()
        if os.geteuid() == 0:
            os.fchown(use_list.fileno(), user.uid, user.gid)  # pg_restore reads it as the app's account
        try:
            script = subprocess.Popen(["pg_restore", "--no-owner", "--no-privileges", f"--use-list={use_list.name}",
                                       "--file=-"], stdin=archive,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, **account_args)
        except FileNotFoundError:
            raise BackupError(f"{what}: pg_restore is not installed") from None
        try:
            load = subprocess.Popen(["psql", "-X", "-q", "-w", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                                     "-c", "DROP OWNED BY CURRENT_USER", "-f", "-"], stdin=script.stdout,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **account_args)
        except FileNotFoundError:
            script.kill()
            raise BackupError(f"{what}: psql is not installed") from None
        finally:
            script.stdout.close()  # psql holds the pipe now; pg_restore sees it close if psql stops
        load_errors = load.communicate()[1]
        script_errors = script.stderr.read()
        script.stderr.close()
        script.wait()
    if load.returncode != 0:
        raise _failure(what, load.returncode, load_errors, tool="psql")
    if script.returncode != 0:
        raise _failure(what, script.returncode, script_errors)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _owner_only(path: Path) -> None:
    os.chmod(path, 0o700 if path.is_dir() else 0o600)


def dump_database(db: Database, user: Account, dest: Path) -> None:
    """The database's consistent copy at dest (root's, 0600)."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        if db.engine == "sqlite":
            if not Path(db.path).is_file():
                raise BackupError(f"the SQLite database {db.path} does not exist")
            _run_as(user, [sys.executable, "-I", "-c", _SQLITE_DUMP, db.path], {}, stdout=out,
                    what=f"reading the SQLite database {db.path}")
        else:
            _run_as(user, ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"], db.env, stdout=out,
                    what=f"pg_dump of the database {db.env.get('PGDATABASE')}")
    verify_database(db.engine, dest)


def verify_database(engine: str, path: Path) -> None:
    if engine == "sqlite":
        import sqlite3  # pylint: disable=import-outside-toplevel

        copy = sqlite3.connect(":memory:")
        try:
            copy.deserialize(path.read_bytes())
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
        finally:
            copy.close()
        if verdict != "ok":
            raise BackupError(f"{path} fails SQLite's integrity check: {verdict}")
    else:
        done = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, check=False,
                              env={"PATH": _PATH, "LC_ALL": "C.UTF-8"})
        if done.returncode != 0:
            raise BackupError(f"{path} is not a readable pg_dump archive: {done.stderr.decode(errors='replace')}")


def _tar(argv: list[str], what: str) -> None:
    done = subprocess.run(["tar", *argv], capture_output=True, check=False, env={"PATH": _PATH, "LC_ALL": "C.UTF-8"})
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.decode(errors='replace').strip()[-1500:]}")


def dump_media(media: Path, dest: Path) -> None:
    # GNU tar as root keeps owners, modes and the setgid bit of upload directories.
    _tar(["--create", "--file", str(dest), "--numeric-owner", "--directory", str(media), "."], f"archiving {media}")
    _owner_only(dest)


def current_release(app_root: str) -> str:
    if not app_root:
        return ""
    target = os.path.realpath(os.path.join(app_root, "current"))
    return os.path.basename(target) if os.path.isdir(target) and target != os.path.join(app_root, "current") else ""


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """One backup or restore at a time per backup directory (the timer and a deploy may meet)."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _owner_only(root)
    fd = os.open(root / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def backup_name(kind: str, release: str, now: float) -> str:
    if kind not in KINDS:
        raise BackupError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if release and not _RELEASE.match(release):
        raise BackupError(f"release must be a release id (letters, digits, . _ -), got {release!r}")
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)) + f"-{kind}" + (f"-{release}" if release else "")


def free_name(root: Path, kind: str, release: str, now: float) -> tuple[str, float]:
    """The name a backup taken at `now` gets, and its time: two backups within one
    second take the next free second."""
    name = backup_name(kind, release, now)
    while (root / name).exists():
        now += 1
        name = backup_name(kind, release, now)
    return name, now


def read_manifest(backup: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((backup / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{backup} has no readable {MANIFEST}: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{backup}: unknown backup format {manifest.get('format')!r}")
    return manifest


def backups(root: Path) -> list[dict[str, Any]]:
    """Every complete backup, oldest first."""
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        if entry.is_dir() and _NAME.match(entry.name) and (entry / MANIFEST).is_file():
            found.append(read_manifest(entry))
    return found


def plan_prune(existing: list[dict[str, Any]], kind: str, keep: int) -> list[str]:
    """Names of the backups of `kind` beyond the newest `keep`; other kinds are never touched."""
    if keep < 1:
        raise BackupError(f"keep must be at least 1, got {keep}")
    same = [item["name"] for item in existing if item["kind"] == kind]
    return same[:-keep] if len(same) > keep else []


@dataclass(frozen=True)
class CopyTarget:
    """Where the backups are copied: an account on another host, reached with rsync over SSH."""
    host: str
    user: str
    path: str
    key: str
    known_hosts: str
    port: int = 22

    @property
    def label(self) -> str:
        return f"{self.user}@{self.host}:{self.path} (port {self.port})"

    @property
    def destination(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.user}@{host}:{self.path.rstrip('/') or '/'}/"


def read_copy_target(root: Path) -> CopyTarget | None:
    """The copy settings the backup role wrote under `root`, or None: no copy."""
    settings = root / COPY_SETTINGS
    if not settings.is_file():
        return None
    try:
        data = json.loads(settings.read_text())
        target = CopyTarget(host=data["host"], user=data["user"], path=data["path"], key=data["key"],
                            known_hosts=data["known_hosts"], port=int(data.get("port", 22)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{settings} is not readable copy settings: {exc!r}") from None
    if not (target.host and target.user and target.path and target.key and target.known_hosts):
        raise BackupError(f"{settings} needs host, user, path, key and known_hosts")
    return target


def ssh_command(target: CopyTarget) -> list[str]:
    """ssh as rsync runs it: this key only, and the host's key must be the pinned one."""
    return ["ssh", "-F", "/dev/null", "-i", target.key, "-p", str(target.port),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={target.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "UpdateHostKeys=no",
            "-o", "ConnectTimeout=30", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"]


def _rsync_command(target: CopyTarget, *args: str) -> list[str]:
    return ["rsync", "--rsh", shlex.join(ssh_command(target)), "--timeout=300", *args]


# Owner-only on the other host whatever the umask there; the top directory too.
_OWNER_ONLY = ("--recursive", "--times", "--perms", "--chmod=D0700,F0600", "--mkpath")


def send_commands(root: Path, names: list[str], target: CopyTarget) -> list[list[str]]:
    """The two rsync runs sending these backups: their files first, then their manifests, so a
    backup on the other host has its manifest only once it is whole (an interrupted copy lacks it)."""
    files: list[str] = []
    manifests: list[str] = []
    for name in names:
        files += [f"--exclude=/{name}/{MANIFEST}", f"--include=/{name}/***"]
        manifests += [f"--include=/{name}/", f"--include=/{name}/{MANIFEST}"]
    source = f"{root}/"
    return [_rsync_command(target, *_OWNER_ONLY, *files, "--exclude=*", source, target.destination),
            _rsync_command(target, *_OWNER_ONLY, *manifests, "--exclude=*", source, target.destination)]


def list_command(target: CopyTarget) -> list[str]:
    """rsync listing the backup directories on the other host and their manifests."""
    return _rsync_command(target, "--list-only", "--recursive", "--include=/*/", f"--include=/*/{MANIFEST}",
                          "--exclude=*", target.destination)


def parse_listing(text: str) -> dict[str, bool]:
    """Backup name -> whether it is whole (has its manifest), from `rsync --list-only`."""
    found: dict[str, bool] = {}
    for line in text.splitlines():
        fields = line.split(None, 4)
        if len(fields) < 5:
            continue
        path = fields[4]
        name, rest = (path.split("/", 1) + [""])[:2]
        if not _NAME.match(name):
            continue
        found[name] = found.get(name, False) or rest == MANIFEST
    return found


def plan_remote_prune(listing: dict[str, bool], kind: str, keep: int) -> list[str]:
    """The backups of `kind` on the other host beyond the newest `keep` whole ones, and the
    unfinished copies of that kind (an interrupted earlier run; the lock keeps live ones apart)."""
    if keep < 1:
        raise BackupError(f"keep must be at least 1, got {keep}")
    same = sorted(name for name in listing if (match := _NAME.match(name)) and match.group(1) == kind)
    kept = [name for name in same if listing[name]][-keep:]
    return [name for name in same if name not in kept]


def prune_command(empty: Path, names: list[str], target: CopyTarget) -> list[str]:
    """rsync deleting these backups on the other host: an empty source, only they included."""
    rules = [f"--include=/{name}/***" for name in names]
    return _rsync_command(target, "--recursive", "--delete", "--perms", "--chmod=D0700", *rules, "--exclude=*",
                          f"{empty}/", target.destination)


def _rsync(argv: list[str], what: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, check=False, stdin=subprocess.DEVNULL,
                              env={"PATH": _PATH, "LC_ALL": "C.UTF-8"})
    except FileNotFoundError:
        raise BackupError(f"{what}: {argv[0]} is not installed") from None
    if done.returncode != 0:
        raise _failure(what, done.returncode, done.stderr, tool="rsync")
    return done.stdout.decode(errors="replace")


def copy_to(root: Path, target: CopyTarget, kind: str, keep: int) -> dict[str, Any]:
    """The backups of `kind` here sent to the other host (rsync skips those already there), then
    the other host's beyond the newest `keep` removed. Nothing here is ever touched."""
    names = [item["name"] for item in backups(root) if item["kind"] == kind]
    if not names:
        return {"target": target.label, "sent": [], "removed": []}
    for argv in send_commands(root, names, target):
        _rsync(argv, f"copying to {target.label}")
    listing = parse_listing(_rsync(list_command(target), f"listing the copies on {target.label}"))
    missing = [name for name in names if not listing.get(name)]
    if missing:
        raise BackupError(f"{target.label} does not list the copies {', '.join(missing)}")
    removed = plan_remote_prune(listing, kind, keep)
    if removed:
        with tempfile.TemporaryDirectory() as empty:
            _rsync(prune_command(Path(empty), removed, target), f"removing old copies on {target.label}")
    return {"target": target.label, "sent": names, "removed": removed}


def create(root: Path, *, kind: str, database_url: str, user: str, media: str = "", release: str = "",
           app_root: str = "", keep: int = 7, now: float | None = None) -> dict[str, Any]:
    """Write one backup, then drop the oldest of its kind beyond `keep`; then, with copy
    settings under `root`, copy it to the other host. A failed copy is `copy_error` in the
    result: the backup stays here all the same."""
    db = parse_database_url(database_url)
    app = account(user)
    with locked(root):
        for leftover in root.glob("*.partial"):
            shutil.rmtree(leftover)  # a run killed half-way; the lock keeps live ones apart
        name, stamp = free_name(root, kind, release, time.time() if now is None else now)
        work = root / f"{name}.partial"
        work.mkdir(mode=0o700)
        manifest: dict[str, Any] = {
            "format": FORMAT, "name": name, "kind": kind, "release": release,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp)),
            "serving": current_release(app_root), "database": None, "media": None,
        }
        try:
            dump_database(db, app, work / db.file)
            manifest["database"] = {"engine": db.engine, "file": db.file,
                                    "bytes": (work / db.file).stat().st_size, "sha256": _sha256(work / db.file)}
            if media and Path(media).is_dir():
                dump_media(Path(media), work / "media.tar")
                manifest["media"] = {"file": "media.tar", "bytes": (work / "media.tar").stat().st_size,
                                     "sha256": _sha256(work / "media.tar")}
            fd = os.open(work / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                json.dump(manifest, out, indent=2, sort_keys=True)
            os.rename(work, root / name)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        removed = plan_prune(backups(root), kind, keep)
        for old in removed:
            shutil.rmtree(root / old)
        copied: dict[str, Any] = {}
        copy_error = ""
        try:
            target = read_copy_target(root)
            if target:
                copied = copy_to(root, target, kind, keep)
        except BackupError as exc:
            copy_error = f"backup {name} is kept in {root}, but its copy failed: {exc}"
    return {"backup": name, "manifest": manifest, "removed": removed, "copy": copied, "copy_error": copy_error}


def find(root: Path, *, name: str = "", release: str = "") -> dict[str, Any]:
    """The backup called `name`, or the newest pre-migrate backup taken for `release`."""
    existing = backups(root)
    if name:
        match = [item for item in existing if item["name"] == name]
        if not match:
            known = ", ".join(item["name"] for item in existing[-5:]) or "none"
            raise BackupError(f"no backup {name!r} in {root} (newest: {known})")
        return match[0]
    match = [item for item in existing if item["kind"] == "pre-migrate" and item["release"] == release]
    if not match:
        raise BackupError(f"no pre-migrate backup of release {release!r} in {root}: that deploy ran no migration "
                          "backup, or it was pruned")
    return match[-1]


def serving_problem(manifest: dict[str, Any], *, present: Collection[str], good: Collection[str],
                    existing: list[dict[str, Any]], app_root: str) -> str:
    """Why a restore of this backup must be refused for its release ("" when it may go on).

    The restored data has the schema of the release that served when the backup was taken, and
    the restore switches back to it; if that release's code is gone from the host (pruned) or
    never serves again (failed), the data would come back with no code to run it. `present` are
    the release directories on the host, `good` the releases the history lets serve."""
    serving = manifest.get("serving") or ""
    if not serving or (serving in present and serving in good):
        return ""
    why = ("was pruned from the host" if serving not in present
           else "is not a good release in the release history (failed or unknown)")
    usable = [item["name"] for item in existing
              if item.get("serving") in present and item.get("serving") in good][-3:]
    return (f"backup {manifest['name']} was taken while release {serving} served, and that release {why} "
            f"({app_root}/releases), so the restore could not switch back to it; nothing was touched. "
            "Restore a backup taken under a release still on the host "
            f"(newest: {', '.join(usable) or 'none'}; site_backup.py list shows each one's serving), "
            "or keep more releases (django_app_keep_releases) so that backups outlive them.")


def check(root: Path, manifest: dict[str, Any]) -> None:
    """Every file of the backup is there with the checksum it was written with."""
    backup = root / manifest["name"]
    for part in ("database", "media"):
        if manifest.get(part):
            path = backup / manifest[part]["file"]
            if not path.is_file() or _sha256(path) != manifest[part]["sha256"]:
                raise BackupError(f"{path} is missing or differs from its checksum: the backup is damaged")
    verify_database(manifest["database"]["engine"], backup / manifest["database"]["file"])


def restore(root: Path, manifest: dict[str, Any], *, database_url: str, user: str, media: str = "") -> None:
    """Put the backup's database and media back in place of the live ones."""
    db = parse_database_url(database_url)
    if db.engine != manifest["database"]["engine"]:
        raise BackupError(f"backup {manifest['name']} holds a {manifest['database']['engine']} database; "
                          f"the site's database URL is {db.engine}")
    app = account(user)
    with locked(root):
        check(root, manifest)
        backup = root / manifest["name"]
        if db.engine == "sqlite":
            with (backup / manifest["database"]["file"]).open("rb") as data:
                _run_as(app, [sys.executable, "-I", "-c", _SQLITE_LOAD, db.path], {}, stdin=data,
                        what=f"restoring the SQLite database {db.path}")
        else:
            _pg_load(app, db, backup / manifest["database"]["file"])
        if manifest.get("media") and media:
            restore_media(backup / manifest["media"]["file"], Path(media))


def restore_media(archive: Path, media: Path) -> None:
    """The media directory's contents become the archive's, exactly; the directory itself stays."""
    staging = media.parent / f".{media.name}.restore"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        _tar(["--extract", "--file", str(archive), "--same-owner", "--same-permissions", "--numeric-owner",
              "--directory", str(staging)], f"unpacking {archive}")
        media.mkdir(exist_ok=True)
        for entry in list(media.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for entry in staging.iterdir():
            os.rename(entry, media / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="site_backup", description=__doc__.split("\n\n", maxsplit=1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="write a backup of the database and the media")
    made.add_argument("--root", required=True, type=Path)
    made.add_argument("--kind", default="manual", choices=KINDS)
    made.add_argument("--keep", type=int, default=7)
    made.add_argument("--user", required=True, help="the app's account, which the database tools run as")
    made.add_argument("--app-root", default="")
    made.add_argument("--release", default="")
    listed = commands.add_parser("list", help="the complete backups, oldest first, as JSON")
    listed.add_argument("--root", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            sys.stdout.write(json.dumps(backups(args.root), indent=2) + "\n")
            return 0
        url = os.environ.get("DJANGO_DATABASE_URL", "")
        if not url:
            raise BackupError("DJANGO_DATABASE_URL is not set: run with the app's env file (EnvironmentFile=)")
        done = create(args.root, kind=args.kind, database_url=url, user=args.user,
                      media=os.environ.get("DJANGO_MEDIA_ROOT", ""), release=args.release,
                      app_root=args.app_root, keep=args.keep)
    except BackupError as exc:
        sys.stderr.write(f"site_backup: {exc}\n")
        return 1
    sys.stdout.write(f"backup {done['backup']} written to {args.root}"
                     + (f"; removed {', '.join(done['removed'])}" if done["removed"] else "") + "\n")
    if done["copy"]:
        sys.stdout.write(f"copied to {done['copy']['target']}"
                         + (f"; removed there {', '.join(done['copy']['removed'])}" if done["copy"]["removed"] else "")
                         + "\n")
    if done["copy_error"]:
        sys.stderr.write(f"site_backup: {done['copy_error']}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

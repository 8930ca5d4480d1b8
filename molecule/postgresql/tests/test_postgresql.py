"""PostgreSQL for the app: its role, with its password, to its database only; TCP only
from the configured client; sizes from the container's memory limit (molecule.yml).

State: the converge's settings (vars.yml) after side_effect.yml's two changes and
the run that restored them; /root/postgresql-side-effect.json records those changes."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from urllib.parse import quote

import yaml

from djstack_testlib.limits import memory_limit_mb

VARS = yaml.safe_load((Path(__file__).resolve().parents[1] / "vars.yml").read_text())
DATABASE = VARS["postgresql_database"]
USER = VARS["postgresql_user"]
PASSWORD = VARS["postgresql_password"]
SOCKET_DIR = "/var/run/postgresql"
PORT = 5432
# The OS user the app runs as (prepare.yml): not postgres.
APP_OS_USER = "appclient"
VERSIONS = {"bookworm": 15, "trixie": 17}
# The URL the role's README gives Django (DJANGO_DATABASE_URL), password percent-encoded.
DATABASE_URL = f"postgresql://{USER}:{quote(PASSWORD, safe='')}@/{DATABASE}?host={SOCKET_DIR}"

# A PostgreSQL startup message from a chosen source address (psql cannot pick one):
# prints the server's answer, an authentication request or the error it refuses with.
_STARTUP = r"""
import socket, struct, sys
source, user, database = sys.argv[1:4]
sock = socket.create_connection(("127.0.0.1", int(sys.argv[4])), timeout=5, source_address=(source, 0))
params = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
kind = sock.recv(1)
length = struct.unpack("!i", sock.recv(4))[0]
body = b""
while len(body) < length - 4:
    body += sock.recv(length - 4 - len(body))
if kind == b"R":
    print("auth", struct.unpack("!i", body[:4])[0], body[4:].split(b"\0")[0].decode())
else:
    fields = {f[:1].decode(): f[1:].decode() for f in body.split(b"\0") if f}
    print("error", fields.get("C"), fields.get("M"))
"""


def _version(host) -> int:
    return VERSIONS[host.system_info.codename]


def _as_app(host, conninfo: str, *sql: str, password: str | None = PASSWORD):
    """psql as the app's OS user, never prompting: each statement's rows, no status lines."""
    env = ["env", f"PGPASSWORD={password}"] if password is not None else []
    commands = [arg for statement in sql for arg in ("-c", statement)]
    argv = ["runuser", "-u", APP_OS_USER, "--", *env,
            "psql", "-X", "-q", "-w", "-At", "-v", "ON_ERROR_STOP=1", conninfo, *commands]
    return host.run(shlex.join(argv))


def _socket(database: str = DATABASE, user: str = USER) -> str:
    return f"host={SOCKET_DIR} port={PORT} dbname={database} user={user}"


def _superuser(host, sql: str) -> str:
    """psql as the OS user postgres (peer authentication), unaligned rows."""
    return host.check_output(shlex.join(["runuser", "-u", "postgres", "--", "psql", "-X", "-At", "-c", sql]))


def _side_effect(host) -> dict:
    return json.loads(host.file("/root/postgresql-side-effect.json").content_string)


def test_server_is_debians_own_major_version(host):
    assert host.package(f"postgresql-{_version(host)}").is_installed
    assert int(_superuser(host, "SHOW server_version_num")) // 10000 == _version(host)


def test_service_enabled_running_and_started_at_boot(host):
    cluster = f"postgresql@{_version(host)}-main.service"
    assert host.service("postgresql").is_enabled
    assert host.service(cluster).is_running
    # Debian's generator hangs every cluster whose start.conf says auto on postgresql.service.
    wants = host.check_output("systemctl show --property Wants --value postgresql.service").split()
    assert cluster in wants


def test_app_role_creates_a_table_over_the_unix_socket(host):
    result = _as_app(host, _socket(), "CREATE TABLE probe (n int)", "INSERT INTO probe VALUES (42)",
                     "SELECT n FROM probe", "DROP TABLE probe")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "42"


def test_documented_database_url_connects(host):
    result = _as_app(host, DATABASE_URL, "SELECT current_user || '@' || current_database()", password=None)
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == f"{USER}@{DATABASE}"


def test_wrong_password_is_refused(host):
    result = _as_app(host, _socket(), "SELECT 1", password=PASSWORD + "x")
    assert result.rc != 0
    assert f'password authentication failed for user "{USER}"' in result.stderr


def test_no_password_is_refused(host):
    # The server asks for one (no trust, no peer for the app's role).
    result = _as_app(host, _socket(), "SELECT 1", password=None)
    assert result.rc != 0
    assert "no password supplied" in result.stderr


def test_app_role_is_refused_on_another_database(host):
    result = _as_app(host, _socket(database="postgres"), "SELECT 1")
    assert result.rc != 0
    assert f'rejects connection for host "[local]", user "{USER}", database "postgres"' in result.stderr


def test_only_the_os_user_postgres_is_the_superuser(host):
    result = _as_app(host, _socket(database="postgres", user="postgres"), "SELECT 1", password=None)
    assert result.rc != 0
    assert 'Peer authentication failed for user "postgres"' in result.stderr


def test_tcp_listens_only_on_the_configured_address(host):
    listeners = [line.split()[3] for line in host.check_output("ss -H -ltn").splitlines()]
    assert listeners == [f"127.0.0.1:{PORT}"]


def test_tcp_from_the_client_address_with_the_password(host):
    result = _as_app(host, f"host=127.0.0.1 port={PORT} dbname={DATABASE} user={USER}", "SELECT inet_client_addr()")
    assert result.rc == 0, result.stderr
    assert result.stdout.strip() == "127.0.0.1"


def _startup(host, source: str, database: str = DATABASE) -> str:
    return host.check_output(shlex.join(["python3", "-c", _STARTUP, source, USER, database, str(PORT)]))


def test_tcp_client_address_is_asked_for_scram(host):
    assert _startup(host, "127.0.0.1") == "auth 10 SCRAM-SHA-256"


def test_tcp_from_another_address_is_refused(host):
    answer = _startup(host, "127.0.0.2")
    assert answer.startswith("error 28000 ")
    assert f'rejects connection for host "127.0.0.2", user "{USER}", database "{DATABASE}"' in answer


def test_client_authentication_rules_are_exactly_the_roles(host):
    rules = _superuser(host, "SELECT type, database, user_name, address, netmask, auth_method, error"
                             " FROM pg_hba_file_rules ORDER BY line_number")
    assert rules.splitlines() == [
        "local|{all}|{postgres}|||peer|",
        f"local|{{{DATABASE}}}|{{{USER}}}|||scram-sha-256|",
        f"host|{{{DATABASE}}}|{{{USER}}}|127.0.0.1|255.255.255.255|scram-sha-256|",
        "local|{all}|{all}|||reject|",
        "host|{all}|{all}|all||reject|",
    ]


def test_password_is_stored_as_a_scram_verifier(host):
    assert _superuser(host, "SHOW password_encryption") == "scram-sha-256"
    stored = _superuser(host, f"SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = '{USER}'")
    assert stored == "t"


def test_app_role_has_no_server_wide_privileges(host):
    flags = _superuser(host, "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls"
                             f" FROM pg_roles WHERE rolname = '{USER}'")
    assert flags == "f|f|f|f|f"


def test_app_role_owns_its_database(host):
    assert _superuser(host, f"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{DATABASE}'") == USER


def test_memory_settings_follow_the_container_limit(host):
    memory = memory_limit_mb(host)
    # molecule.yml's limit, far below the machine's: the sizes come from the limit.
    assert memory == 1024
    shared_buffers = memory // 4
    expected = {
        "shared_buffers": f"{shared_buffers}MB",
        "effective_cache_size": f"{memory * 3 // 4}MB",
        "maintenance_work_mem": f"{VARS['postgresql_maintenance_work_mem_mb']}MB",
        "work_mem": f"{(memory - shared_buffers) * 1024 // (4 * 100)}kB",
    }
    shown = {name: _superuser(host, f"SHOW {name}") for name in expected}
    assert shown == expected
    written = host.file(f"/etc/postgresql/{_version(host)}/main/conf.d/djstack.conf").content_string
    for name, value in expected.items():
        assert f"\n{name} = {value}\n" in written


def test_configuration_files_are_the_roles(host):
    conf_d = f"/etc/postgresql/{_version(host)}/main/conf.d"
    assert host.check_output(f"ls -A {conf_d}") == "djstack.conf"
    for path in (f"{conf_d}/djstack.conf", f"/etc/postgresql/{_version(host)}/main/pg_hba.conf"):
        assert host.file(path).content_string.startswith("#\n# Ansible managed")


def test_stray_conf_file_is_removed_and_unloaded(host):
    record = _side_effect(host)
    assert record["stray_loaded"]["work_mem"] == "77MB"
    assert not record["stray_left"]
    assert record["reloaded"]["work_mem"] == "3000kB"


def test_reload_only_setting_does_not_restart(host):
    record = _side_effect(host)
    assert record["reloaded"]["started"] == record["initial"]["started"]


def test_configuration_the_server_refuses_is_put_back(host):
    record = _side_effect(host)
    assert "PostgreSQL refused the configuration" in record["refusal"]
    assert "pg_hba.conf line" in record["refusal"] and "invalid CIDR mask" in record["refusal"]
    assert "work_mem = 3000000000kB" in record["refusal"]
    assert record["refused_files_kept"] is True
    assert record["refused_backups_left"] == []


def test_configuration_the_server_refuses_never_goes_live(host):
    record = _side_effect(host)
    assert record["refused"] == record["reloaded"]


def test_listen_addresses_change_restarts(host):
    record = _side_effect(host)
    assert record["restarted"]["started"] > record["refused"]["started"]
    assert record["restarted"]["listen_addresses"] == ""


def test_socket_only_listens_on_no_tcp_address(host):
    assert _side_effect(host)["socket_only_listeners"] == []


def test_socket_only_admits_no_tcp_connection(host):
    assert set(_side_effect(host)["socket_only_admitting_rule_types"]) == {"local"}

"""gunicorn serving the demo app on a systemd-activated unix socket.

Before these tests run, the side effect changed the worker count from 2 to 3,
deployed a new release and changed the app's environment (see side_effect.yml).
Tests that stop, reload or restart the service come last in this file, but none
relies on another having run: each checks the state it needs.
"""

from __future__ import annotations

import json
import re
import shlex
import uuid

import pytest
from testinfra.host import Host

from djstack_testlib.gunicorn import main_pid, processes, wait_for_workers, workers
from djstack_testlib.http import RequestFailed, request, series
from djstack_testlib.memcache import exposure

from tools.sandbox import EXPOSURE_LIMITS

APP = "demo"
SOCKET = f"/run/{APP}/gunicorn.sock"
SERVICE = f"{APP}.service"
CONFIG = f"/etc/{APP}/gunicorn.conf.py"
CURRENT = f"/srv/{APP}/current"
WORKERS = 3  # the side effect's value
# The role's default gunicorn_worker_memory_mb: the budget its worker count assumes.
WORKER_MEMORY_BUDGET_MB = 96
SOCKET_GROUP_MEMBER = "www-data"  # nginx's user


def _side_effect(host: Host, change: str) -> dict:
    """What side_effect.yml recorded around one change: variable, release or environment."""
    return json.loads(host.file("/root/gunicorn-side-effect.json").content_string)[change]


def _journal(host: Host, since: int, until: int) -> str:
    return host.check_output(f"journalctl --unit {SERVICE} --output cat --no-pager "
                             f"--since @{since} --until @{until + 1}")


def test_socket_enabled_and_listening(host):
    socket_unit = host.service(f"{APP}.socket")
    assert socket_unit.is_enabled
    assert socket_unit.is_running
    assert host.socket(f"unix://{SOCKET}").is_listening


def test_socket_open_to_root_and_front_end_group_only(host):
    sock = host.file(SOCKET)
    assert sock.is_socket
    assert (sock.user, sock.group, sock.mode) == ("root", SOCKET_GROUP_MEMBER, 0o660)


def test_healthz_reports_the_current_release(host):
    release = host.file(f"{CURRENT}/RELEASE").content_string.strip()
    response = request(host, SOCKET, "GET", "/healthz")
    assert response.status == 200
    assert release and response.header("X-App-Release") == release


def _private_address(host: Host) -> str:
    """The address of the default route's interface: the facts' default_ipv4 the vars use."""
    return json.loads(host.check_output("ip -4 -json route get 192.0.2.1"))[0]["prefsrc"]


def test_tcp_listener_is_on_the_private_address_alone(host):
    listening = host.check_output("ss -Hltn 'sport = :8000'").split()
    assert [word for word in listening if word.endswith(":8000")] == [f"{_private_address(host)}:8000"]


def test_app_answers_over_the_private_address(host):
    release = host.file(f"{CURRENT}/RELEASE").content_string.strip()
    response = request(host, f"{_private_address(host)}:8000", "GET", "/healthz",
                       headers={"Host": "app.example.test"})
    assert response.status == 200
    assert response.header("X-App-Release") == release


def test_front_end_user_can_connect(host):
    assert request(host, SOCKET, "GET", "/healthz", user=SOCKET_GROUP_MEMBER).status == 200


def test_user_outside_socket_group_is_refused(host):
    with pytest.raises(RequestFailed, match="Permission denied"):
        request(host, SOCKET, "GET", "/healthz", user="nobody")


def test_worker_count_matches_setting(host):
    assert len(wait_for_workers(host, SERVICE, WORKERS)) == WORKERS


def test_master_and_workers_run_as_app_user(host):
    master = main_pid(host, SERVICE)
    uids = {p.uid for p in [processes(host)[master], *workers(host, master)]}
    assert uids == {host.user(APP).uid}


def test_worker_fits_memory_budget(host):
    # Warm the workers up first: RSS grows with the first requests. The header
    # stands in for nginx, so the app serves pages instead of redirecting to HTTPS.
    for path in ("/healthz", "/readyz", "/products/", "/api/products/", "/about/") * 6:
        request(host, SOCKET, "GET", path, headers={"X-Forwarded-Proto": "https"})
    current = wait_for_workers(host, SERVICE, WORKERS)
    assert current and max(p.rss_kb for p in current) <= WORKER_MEMORY_BUDGET_MB * 1024


def test_config_owned_by_root_and_not_writable_by_others(host):
    config = host.file(CONFIG)
    assert (config.user, config.group) == ("root", "root")
    assert config.mode & 0o022 == 0


def test_config_loads_the_app(host):
    # gunicorn's own check (it imports the app), run as the service runs it: same
    # user, directory and environment -- the one systemd gave the running master.
    script = f"""
import os, subprocess, sys
master = {main_pid(host, SERVICE)}
with open(f"/proc/{{master}}/environ", "rb") as f:
    env = dict(item.decode().split("=", 1) for item in f.read().split(b"\\0") if item)
argv = ["runuser", "-u", {APP!r}, "--", {CURRENT!r} + "/venv/bin/python", "-m", "gunicorn",
        "--check-config", "--config", {CONFIG!r}]
sys.exit(subprocess.run(argv, env=env, cwd={CURRENT!r}).returncode)
"""
    result = host.run(shlex.join(["python3", "-c", script]))
    assert result.rc == 0, result.stdout + result.stderr


def test_access_log_records_request_time(host):
    marker = uuid.uuid4().hex
    assert request(host, SOCKET, "GET", f"/healthz?probe={marker}").status == 200
    line = ""
    for _ in range(20):  # journald may lag a moment behind the request
        line = host.run(f"journalctl --unit {SERVICE} --output cat --grep {marker} --no-pager").stdout
        if line:
            break
        host.run("sleep 0.5")
    assert re.search(rf'"GET /healthz\?probe={marker} HTTP/1.1" 200 \d+ .* \d+ms', line), line


def test_sandbox_exposure_within_the_shared_limit(host):
    assert exposure(host, SERVICE) <= EXPOSURE_LIMITS["gunicorn"]


def test_variable_change_kept_the_master(host):
    record = _side_effect(host, "variable")
    assert record["pid_before"] > 0
    assert record["pid_after"] == record["pid_before"]


def test_new_release_is_served_by_the_same_master(host):
    record = _side_effect(host, "release")
    assert record["release_changed"] and not record["venv_changed"]
    assert record["pid_after"] == record["pid_before"] > 0
    assert request(host, SOCKET, "GET", "/healthz").header("X-App-Release") == record["deployed"]


@pytest.mark.parametrize("change", ["variable", "release"])
def test_change_was_applied_by_a_reload_not_a_restart(host, change):
    record = _side_effect(host, change)
    log = _journal(host, record["started"], record["ended"])
    assert "Handling signal: hup" in log
    assert "Starting gunicorn" not in log


def test_environment_change_restarted_the_service(host):
    record = _side_effect(host, "environment")
    assert not record["release_changed"]  # the environment alone changed
    assert record["pid_after"] != record["pid_before"]


def test_service_runs_with_the_current_environment_file(host):
    # The side effect set DJANGO_LOG_LEVEL=WARNING in the file; systemd passes it at start.
    environ = host.file(f"/proc/{main_pid(host, SERVICE)}/environ").content.split(b"\0")
    assert b"DJANGO_LOG_LEVEL=WARNING" in environ


# --- Tests below stop, reload or restart the service. ---------------------------

def test_connection_starts_stopped_service(host):
    host.run_expect([0], f"systemctl stop {SERVICE}")
    assert not host.service(SERVICE).is_running
    assert request(host, SOCKET, "GET", "/healthz").status == 200
    assert host.service(SERVICE).is_running


def test_reload_keeps_master_and_replaces_workers(host):
    master = main_pid(host, SERVICE)
    old = frozenset(p.pid for p in wait_for_workers(host, SERVICE, WORKERS))
    host.run_expect([0], f"systemctl reload {SERVICE}")
    new = wait_for_workers(host, SERVICE, WORKERS, replacing=old)
    assert main_pid(host, SERVICE) == master
    assert len(new) == WORKERS and not {p.pid for p in new} & old


def test_restart_refuses_no_connection(host):
    master = main_pid(host, SERVICE)
    outcome = series(host, SOCKET, "/healthz", count=200, during=["systemctl", "restart", SERVICE],
                     max_seconds=20)
    assert outcome.command_rc == 0, outcome.command_stderr
    assert outcome.errors == []
    assert set(outcome.statuses) == {200}
    assert outcome.after >= 20  # requests kept flowing once the new master was up
    assert main_pid(host, SERVICE) != master

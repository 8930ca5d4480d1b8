"""nginx in front of the app: TLS, redirects, static files, headers, refusals, safe changes.

The app is prepare.yml's echo service on /run/upstream/app.sock: it logs every path it
serves to UPSTREAM_LOG and answers with `X-Upstream: echo` and the headers it received.
"""

from __future__ import annotations

import gzip
import json
import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from testinfra.host import Host

from djstack_testlib import load
from djstack_testlib.memcache import exposure

from tools.sandbox import EXPOSURE_LIMITS
from djstack_testlib.nginx import Response, request, requests, s_client

SERVER = "demo.test"
ALIAS = "www.demo.test"
STATIC = "/srv/demo/shared/static"
HASHED_CSS = "/static/css/site.3f2a1b4c5d6e.css"
PLAIN_CSS = "/static/css/plain.css"
HASHED_JS = "/static/js/app.0123456789ab.js"
CERT = "/etc/nginx/tls/demo.selfsigned.crt"
UPSTREAM_LOG = "/var/log/upstream/requests.log"
ENV_SECRET = "env-file-secret"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
CONVERGE = Path(__file__).resolve().parent.parent / "converge.yml"
DEPLOY_CHECK = Path(__file__).resolve().parent.parent / "deploy_check.yml"
# The README's command for maintenance mode, as users run it: the collection's playbook.
MAINTENANCE = "djstack.stack.maintenance"
# nginx_verify_socket for nginx_site_name demo: where the deploy checks reach the site.
VERIFY_SOCKET = "/run/nginx-verify/demo.sock"
ACCESS_LOG = "/var/log/nginx/access.log"

# `count` requests on one keep-alive HTTPS connection over a unix socket, as the deploy
# check sends them; prints the statuses, or the connection error's name.
_UNIX_CLIENT = r"""
import http.client, json, socket, ssl, sys

path, server_name, sock_path, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
try:
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    raw.settimeout(10)
    raw.connect(sock_path)
    conn = http.client.HTTPConnection(server_name, timeout=10)
    conn.sock = ctx.wrap_socket(raw, server_hostname=server_name)
    statuses = []
    for _ in range(count):
        conn.request("GET", path, headers={"Host": server_name})
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
    print(json.dumps(statuses))
except OSError as exc:
    print(json.dumps(type(exc).__name__))
"""


def _marker() -> str:
    return uuid.uuid4().hex[:12]


def _app_log(host: Host) -> str:
    return host.file(UPSTREAM_LOG).content_string


def _from_app(response: Response) -> bool:
    return response.header("X-Upstream") == "echo"


def _nginx_version(host: Host) -> tuple[int, ...]:
    out = host.run("nginx -v").stderr  # "nginx version: nginx/1.22.1"
    return tuple(int(part) for part in out.strip().rsplit("/", 1)[1].split("."))


def _main_pid(host: Host) -> int:
    return int(host.check_output("systemctl show --property MainPID --value nginx"))


def _workers(host: Host) -> list[int]:
    pid = _main_pid(host)
    return [int(child) for child in host.file(f"/proc/{pid}/task/{pid}/children").content_string.split()]


def _status_field(host: Host, pid: int, field: str) -> str:
    status = host.file(f"/proc/{pid}/status").content_string
    return dict(line.split(":", 1) for line in status.splitlines() if ":" in line)[field].strip()


def _config_checksums(host: Host) -> str:
    return host.check_output("find /etc/nginx -type f -exec sha256sum {} + | sort")


def _eventually(check: Callable[[], bool], attempts: int = 40, pause: float = 0.25) -> bool:
    # A reload returns once nginx got the signal; its new workers follow a moment later.
    for _ in range(attempts):
        if check():
            return True
        time.sleep(pause)
    return False


def _converge(extra_vars: dict | None = None, *args: str, playbook: Path | str = CONVERGE) -> subprocess.CompletedProcess:
    """Run one of the scenario's playbooks (converge.yml by default) from the controller against the instance."""
    argv = [
        str(Path(sys.executable).with_name("ansible-playbook")),
        "-i", os.environ["MOLECULE_INVENTORY_FILE"],
        str(playbook),
        *args,
    ]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)


# --- Service and listeners ------------------------------------------------------


def test_configuration_is_valid(host):
    result = host.run("nginx -t")
    assert result.rc == 0, result.stderr
    assert "test is successful" in result.stderr


def test_service_enabled_and_running(host):
    service = host.service("nginx")
    assert service.is_enabled
    assert service.is_running


def test_listens_on_80_and_443(host):
    listeners = {line.split()[3] for line in host.check_output("ss -H -ltn").splitlines()}
    assert {"0.0.0.0:80", "0.0.0.0:443"} <= listeners


# --- HTTP ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [SERVER, ALIAS])
def test_http_redirects_to_https_on_the_same_name_and_path(host, name):
    response = request(host, "/some/page/?q=1", tls=False, host_header=name)
    assert response.status == 301
    assert response.header("Location") == f"https://{name}:8443/some/page/?q=1"


def test_acme_challenge_hook_is_served_over_plain_http(host):
    response = request(host, "/.well-known/acme-challenge/probe-token", tls=False)
    assert response.status == 200
    assert response.body == b"probe-token.thumbprint\n"


# --- TLS -------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["tls1", "tls1_1"])
def test_old_tls_versions_refused_by_the_server(host, protocol):
    result = s_client(host, protocol)
    assert result.rc != 0
    # The server's alert, not the client's own refusal to offer the version.
    assert "alert protocol version" in result.stdout + result.stderr


@pytest.mark.parametrize(("protocol", "version"), [("tls1_2", "TLSv1.2"), ("tls1_3", "TLSv1.3")])
def test_tls_1_2_and_1_3_accepted(host, protocol, version):
    result = s_client(host, protocol)
    assert result.rc == 0, result.stderr
    assert f"New, {version}, Cipher is" in result.stdout


def test_http2_negotiated(host):
    assert request(host, alpn=("h2", "http/1.1"), handshake_only=True).alpn == "h2"


@pytest.mark.parametrize("name", [SERVER, ALIAS])
def test_certificate_verifies_for_each_server_name(host, name):
    # The generated certificate as the only trusted CA, with host name checking on.
    response = request(host, "/", host_header=name, cafile=CERT)
    assert response.error is None, response.detail
    assert response.status == 200


def test_session_tickets_only_where_nginx_rotates_their_keys(host):
    # nginx before 1.23.2 keeps one ticket key for its whole life, defeating forward secrecy.
    output = s_client(host, "tls1_2").stdout
    assert ("TLS session ticket:" in output) == (_nginx_version(host) >= (1, 23, 2))


# --- Hosts the site does not serve ------------------------------------------------


def test_unknown_host_over_http_gets_no_response(host):
    path = f"/unknown-host-{_marker()}"
    response = request(host, path, tls=False, host_header="evil.test")
    assert response.error == "RemoteDisconnected"
    assert path not in _app_log(host)


@pytest.mark.parametrize("sni", ["evil.test", None])
def test_unknown_or_missing_server_name_refused_in_the_handshake(host, sni):
    response = request(host, "/", host_header="evil.test", sni=sni)
    assert response.error == "SSLError"
    assert "UNRECOGNIZED_NAME" in response.detail


def test_unknown_host_behind_a_known_server_name_gets_no_response(host):
    path = f"/unknown-host-{_marker()}"
    response = request(host, path, host_header="evil.test", sni=SERVER)
    assert response.error == "RemoteDisconnected"
    assert path not in _app_log(host)


# --- Proxying to the app ------------------------------------------------------------


def test_app_answer_comes_through(host):
    path = f"/page-{_marker()}/"
    response = request(host, path)
    assert response.status == 200
    assert _from_app(response)
    assert response.json()["path"] == path
    assert f"GET {path}" in _app_log(host)


def test_app_sees_https_in_x_forwarded_proto(host):
    seen = request(host, "/", headers={"X-Forwarded-Proto": "http"}).json()["headers"]
    assert seen["x-forwarded-proto"] == "https"


def test_app_sees_the_client_address_not_a_spoofed_one(host):
    seen = request(host, "/", headers={"X-Forwarded-For": "203.0.113.9"}).json()["headers"]
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-real-ip"] == "127.0.0.1"


def test_app_sees_the_requested_host(host):
    seen = request(host, "/", host_header=ALIAS).json()["headers"]
    assert seen["host"] == ALIAS
    assert seen["x-forwarded-host"] == ALIAS


def test_app_sees_the_port_the_client_asked_for(host):
    # Behind a port-forward the browser's Origin carries the port; Django's CSRF check compares.
    seen = request(host, "/", host_header=f"{ALIAS}:8443", sni=ALIAS).json()["headers"]
    assert seen["host"] == f"{ALIAS}:8443"
    assert seen["x-forwarded-port"] == "8443"


def test_request_body_reaches_the_app_whole(host):
    response = request(host, "/upload/", method="POST", body_size=500_000)
    assert response.status == 200
    assert response.json()["body_length"] == 500_000


def test_oversized_body_refused_before_the_app(host):
    path = f"/upload-{_marker()}/"
    response = request(host, path, method="POST", body_size=2_000_000)
    assert response.status == 413
    assert path not in _app_log(host)


# --- Headers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/", HASHED_CSS, PLAIN_CSS, "/static/missing.css", "/missing/", "/media/uploads/note.txt", "/static/../env"],
    ids=["proxied", "hashed-static", "plain-static", "static-404", "app-404", "media", "refused-400"],
)
def test_security_headers_on_every_kind_of_response(host, path):
    response = request(host, path)
    for name, value in SECURITY_HEADERS.items():
        assert value in response.all(name), name
    assert "camera=()" in (response.header("Permissions-Policy") or "")


def test_headers_the_app_sets_itself_are_not_duplicated(host):
    response = request(host, "/own-headers/")
    assert response.all("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.all("Referrer-Policy") == ["no-referrer"]
    assert response.all("X-Content-Type-Options") == ["nosniff"]


def test_no_hsts_over_plain_http(host):
    assert request(host, "/", tls=False).header("Strict-Transport-Security") is None


def test_server_version_hidden(host):
    response = request(host, "/static/missing.css")
    assert response.header("Server") == "nginx"
    assert b"nginx/" not in response.body


# --- Static and media files ---------------------------------------------------------


def test_hashed_static_file_cached_for_a_year_as_immutable(host):
    response = request(host, HASHED_CSS)
    assert response.status == 200
    assert response.body.startswith(b"/* hashed */")
    assert response.header("Cache-Control") == "public, max-age=31536000, immutable"


def test_unhashed_static_file_cached_briefly(host):
    response = request(host, PLAIN_CSS)
    assert response.status == 200
    assert response.header("Cache-Control") == "public, max-age=3600"


def test_missing_static_file_is_not_cached(host):
    assert request(host, "/static/css/site.0123456789ab.css").header("Cache-Control") is None


@pytest.mark.parametrize(
    ("path", "types"),
    [(HASHED_CSS, {"text/css"}), (HASHED_JS, {"application/javascript", "text/javascript"})],
)
def test_static_mime_types(host, path, types):
    assert request(host, path).header("Content-Type") in types


def test_static_file_gzipped_when_the_client_accepts_it(host):
    response = request(host, PLAIN_CSS, headers={"Accept-Encoding": "gzip"})
    assert response.header("Content-Encoding") == "gzip"
    assert gzip.decompress(response.body) == host.file(f"{STATIC}/css/plain.css").content


def test_static_file_plain_when_the_client_does_not_accept_gzip(host):
    response = request(host, PLAIN_CSS)
    assert response.header("Content-Encoding") is None
    assert response.body == host.file(f"{STATIC}/css/plain.css").content


def test_precompressed_copy_sent_as_is(host):
    # prepare.yml gave the .gz different content from the file, so it shows which was sent.
    response = request(host, HASHED_JS, headers={"Accept-Encoding": "gzip"})
    assert response.header("Content-Encoding") == "gzip"
    assert response.body == host.file(f"{STATIC}/js/app.0123456789ab.js.gz").content


def test_static_requests_never_reach_the_app(host):
    marker = _marker()
    for path in (HASHED_CSS, PLAIN_CSS, f"/static/missing-{marker}.css", "/static/.secret", "/static/css/"):
        assert not _from_app(request(host, f"{path}?probe={marker}")), path
    assert marker not in _app_log(host)


def test_missing_static_file_is_a_404_from_nginx(host):
    response = request(host, f"/static/missing-{_marker()}.css")
    assert response.status == 404
    assert not _from_app(response)


@pytest.mark.parametrize(("path", "listed"), [
    ("/static/", b"site.3f2a1b4c5d6e"),
    ("/static/css/", b"plain.css"),
    ("/media/uploads/", b"note.txt"),
])
def test_no_directory_listing(host, path, listed):
    response = request(host, path)
    assert response.status in (403, 404)
    assert listed not in response.body


@pytest.mark.parametrize(("path", "secret"), [
    ("/static/.secret", b"static-dotfile-secret"),
    ("/static/css/.hidden", b"nested-dotfile-secret"),
])
def test_dotfiles_refused(host, path, secret):
    response = request(host, path)
    assert response.status == 404
    assert secret not in response.body


@pytest.mark.parametrize("path", ["/.env", "/.git/config"])
def test_dotfile_paths_never_reach_the_app(host, path):
    response = request(host, path)
    assert response.status == 404
    assert not _from_app(response)


@pytest.mark.parametrize("path", [
    "/static/../env",
    "/static/css/../../env",
    "/static/%2e%2e/env",
    "/static/..%2fenv",
    "/static/%2E%2E%2Fenv",
    "/media/../env",
])
def test_traversal_refused(host, path):
    response = request(host, path)
    assert response.status == 400
    assert ENV_SECRET.encode() not in response.body
    assert not _from_app(response)


def test_prefix_without_slash_does_not_reach_neighbour_files(host):
    # The classic alias mistake (location /static) would serve /srv/demo/shared/env here.
    response = request(host, "/static../env")
    assert ENV_SECRET.encode() not in response.body


def test_media_served_sandboxed(host):
    response = request(host, "/media/uploads/note.txt")
    assert response.status == 200
    assert response.body == b"an uploaded file\n"
    assert "default-src 'none'; sandbox" in response.all("Content-Security-Policy")


# --- Rate limiting ------------------------------------------------------------------


def test_app_requests_beyond_the_burst_get_429_and_never_reach_the_app(host):
    # Its own client address (a bucket of its own); 60 back-to-back requests on one
    # connection far outrun 10 r/s, so the 21 of rate + burst pass and the rest are 429.
    path = f"/rate-{_marker()}/"
    statuses = [r.status for r in requests(host, path, source="127.0.0.5", count=60)]
    assert statuses[:21] == [200] * 21
    assert 429 in statuses
    assert _app_log(host).count(f"GET {path}") == statuses.count(200)


def _over_unix_socket(host: Host, path: str, count: int = 1, user: str = "root") -> list[int] | str:
    """Statuses of `count` requests over the deploy checks' socket as `user`, or the error's name."""
    command = f"python3 -c {shlex.quote(_UNIX_CLIENT)} {shlex.quote(path)} {SERVER} {VERIFY_SOCKET} {count}"
    return json.loads(host.check_output(f"runuser -u {user} -- {command}"))


def _loopback_unlimited_again(host: Host) -> None:
    # Leave 127.0.0.1's budget as found: the bucket drains at the site's rate.
    assert _eventually(lambda: request(host, f"/settle-{_marker()}/").status == 200, attempts=120)


def test_loopback_requests_beyond_the_burst_get_429(host):
    # A local TLS terminator or an SSH tunnel brings everyone's requests from 127.0.0.1:
    # it is limited like any address, so 60 back-to-back requests outrun 10 r/s + 20.
    path = f"/rate-{_marker()}/"
    try:
        statuses = [r.status for r in requests(host, path, source="127.0.0.1", count=60)]
    finally:
        _loopback_unlimited_again(host)
    assert 429 in statuses
    assert _app_log(host).count(f"GET {path}") == statuses.count(200)


def test_the_deploy_checks_socket_is_never_rate_limited(host):
    path = f"/rate-{_marker()}/"
    statuses = _over_unix_socket(host, path, count=60)
    assert statuses == [200] * 60
    assert _app_log(host).count(f"GET {path}") == 60


def test_the_deploy_check_passes_while_loopback_is_rate_limited(host):
    # Users flood the site from 127.0.0.1 (as through a local TLS terminator) while a
    # deploy checks it: the check goes to the root-only socket and gets through.
    marker = _marker()
    load.start(host, SERVER, [f"/flood-{marker}/"], connections=1, pause=0.01, sources=["127.0.0.1"])
    try:
        result = _converge({"nginx_verify_path": f"/readyz?check={marker}"}, playbook=DEPLOY_CHECK)
    finally:
        flood = load.stop(host)
        _loopback_unlimited_again(host)
    assert result.returncode == 0, result.stdout[-3000:]
    assert flood.statuses.get("429", 0) > 0, flood
    checks = [line for line in host.file(ACCESS_LOG).content_string.splitlines() if f"check={marker}" in line]
    assert checks
    assert all(line.startswith("unix: ") and '" 200 ' in line for line in checks), checks


@pytest.mark.parametrize("user", ["www-data", "nobody"])
def test_only_root_may_connect_to_the_deploy_checks_socket(host, user):
    # www-data: nginx's own workers, or a local proxy running as a service user.
    assert _over_unix_socket(host, "/", user=user) == "PermissionError"


def test_static_files_not_rate_limited(host):
    statuses = [r.status for r in requests(host, HASHED_CSS, source="127.0.0.6", count=60)]
    assert statuses == [200] * 60


# --- Processes and sandbox ------------------------------------------------------------


def test_workers_run_as_www_data_without_capabilities(host):
    workers = _workers(host)
    assert workers
    for pid in workers:
        assert int(_status_field(host, pid, "Uid").split()[0]) == host.user("www-data").uid
        assert int(_status_field(host, pid, "CapEff"), 16) == 0


def test_workers_may_open_two_files_per_connection(host):
    for pid in _workers(host):
        limits = host.file(f"/proc/{pid}/limits").content_string
        line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
        assert line.split()[3] == "2048"


def _in_nginx_namespace(host, command: str):
    master = host.check_output("systemctl show -p MainPID --value nginx.service")
    return host.run(f"nsenter -t {master} -m {command}")


def test_nginx_cannot_write_the_rest_of_run(host):
    # The root master sees /run read-only: not systemd's state, not the deploy lock.
    for probe in ("/run/djstack-sandbox-probe", "/run/systemd/djstack-sandbox-probe"):
        result = _in_nginx_namespace(host, f"touch {probe}")
        host.run(f"rm -f {probe}")
        assert result.rc != 0 and "Read-only file system" in result.stderr, (probe, result.stderr)


def test_nginx_writes_its_pid_file(host):
    master = host.check_output("systemctl show -p MainPID --value nginx.service")
    assert host.file("/run/nginx.pid").content_string.strip() == master
    assert _in_nginx_namespace(host, "sh -c ': >> /run/nginx.pid'").rc == 0


def test_hardening_exposure_within_the_shared_limit(host):
    assert exposure(host, "nginx.service") <= EXPOSURE_LIMITS["nginx"]


def test_the_deploy_checks_socket_comes_back_after_nginx_was_killed(host):
    # A killed master leaves its socket file behind; nginx could not bind it again.
    assert host.run("systemctl kill --signal=KILL nginx.service").rc == 0
    assert _eventually(lambda: host.run("systemctl is-active nginx.service").stdout.strip() != "active")
    start = host.run("systemctl start nginx.service")
    assert start.rc == 0, host.run("journalctl -u nginx.service -n 20 -o cat").stdout
    assert _over_unix_socket(host, "/") == [200]


def test_logs_keep_flowing_after_rotation_and_restart(host):
    # Debian's logrotate hands new log files to www-data:adm 0640; the sandboxed master
    # must still reopen them, and open them again after a restart.
    marker = _marker()
    request(host, f"/before-rotation-{marker}")
    rotate = host.run("logrotate --force /etc/logrotate.d/nginx")
    assert rotate.rc == 0, rotate.stderr
    assert host.file("/var/log/nginx/access.log.1").exists
    request(host, f"/after-rotation-{marker}")
    assert _eventually(lambda: f"/after-rotation-{marker}" in host.file("/var/log/nginx/access.log").content_string)
    assert host.run("systemctl restart nginx").rc == 0
    assert request(host, f"/after-restart-{marker}").status == 200
    assert _eventually(lambda: f"/after-restart-{marker}" in host.file("/var/log/nginx/access.log").content_string)


def test_logs_beyond_the_days_kept_are_removed(host):
    # vars.yml keeps 3: each forced rotation of a non-empty log adds one, the oldest goes.
    for _ in range(5):
        request(host, f"/rotation-{_marker()}")
        assert _eventually(lambda: host.file("/var/log/nginx/access.log").size > 0)
        assert host.run("logrotate --force /etc/logrotate.d/nginx").rc == 0
    kept = host.check_output("ls /var/log/nginx | grep '^access\\.log\\.' || true").split()
    assert sorted(kept) == ["access.log.1", "access.log.2.gz", "access.log.3.gz"]


def test_a_log_past_the_size_limit_is_rotated_before_its_day(host):
    # A state file that has just seen the log: only the size (vars.yml: 64k) can rotate it.
    state = "/root/logrotate.size-test.status"
    host.run(f"rm -f {state}")
    assert host.run(f"logrotate --state {state} /etc/logrotate.d/nginx").rc == 0
    request(host, f"/small-{_marker()}")
    assert host.run(f"logrotate --state {state} /etc/logrotate.d/nginx").rc == 0
    assert "/small-" in host.file("/var/log/nginx/access.log").content_string
    host.check_output("head -c 70000 /dev/zero | tr '\\0' x >> /var/log/nginx/access.log")
    assert host.run(f"logrotate --state {state} /etc/logrotate.d/nginx").rc == 0
    assert host.file("/var/log/nginx/access.log").size < 65536
    request(host, f"/after-size-rotation-{_marker()}")
    assert _eventually(lambda: "/after-size-rotation-" in host.file("/var/log/nginx/access.log").content_string)


# --- Maintenance mode (playbooks/maintenance.yml) ------------------------------------------


def _switch_maintenance(state: str) -> None:
    result = _converge({"maintenance": state}, playbook=MAINTENANCE)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


class TestMaintenance:
    """While the switch is on (vars.yml: Retry-After 120, 127.0.0.2 allowed)."""

    @pytest.fixture(scope="class", autouse=True)
    def maintenance(self, host):
        before = _config_checksums(host)
        _switch_maintenance("on")
        yield before
        _switch_maintenance("off")

    def test_pages_answer_503_with_retry_after_and_the_page(self, host):
        response = request(host, f"/shop/{_marker()}/")
        assert (response.status, response.header("Retry-After")) == (503, "120")
        assert response.header("Cache-Control") == "no-store"
        assert b"<h1>Down for maintenance</h1>" in response.body
        assert not _from_app(response)

    def test_a_post_answers_503_and_never_reaches_the_app(self, host):
        marker = _marker()
        response = request(host, f"/upload/{marker}/", method="POST", body="a=1")
        assert (response.status, response.header("Retry-After")) == (503, "120")
        assert marker not in host.file(UPSTREAM_LOG).content_string

    def test_static_files_answer_503_too(self, host):
        assert request(host, HASHED_CSS).status == 503

    def test_the_503_carries_the_security_headers(self, host):
        response = request(host, "/")
        assert {name: response.header(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS

    @pytest.mark.parametrize("path", ["/healthz", "/readyz"])
    def test_the_probes_still_reach_the_app(self, host, path):
        response = request(host, path)
        assert (response.status, _from_app(response)) == (200, True)

    def test_an_allowed_address_sees_the_site(self, host):
        response = request(host, "/", source="127.0.0.2")
        assert (response.status, _from_app(response)) == (200, True)

    def test_the_deploy_checks_socket_sees_the_site(self, host):
        assert _over_unix_socket(host, "/") == [200]

    def test_switching_needs_no_reload(self, host):
        # A reload would start new workers: the same ones answer before and after.
        workers = _workers(host)
        _switch_maintenance("off")
        assert request(host, "/").status == 200
        _switch_maintenance("on")
        assert request(host, "/").status == 503
        assert _workers(host) == workers

    def test_switching_twice_changes_nothing(self, host):
        result = _converge({"maintenance": "on"}, playbook=MAINTENANCE)
        assert "changed=0" in result.stdout, result.stdout[-3000:]


def test_after_maintenance_the_site_serves_and_no_config_change_is_left(host):
    """Runs after TestMaintenance switched the site off again."""
    assert not host.file("/etc/nginx/djstack-maintenance/demo.on").exists
    response = request(host, "/")
    assert (response.status, _from_app(response)) == (200, True)
    result = _converge()
    assert result.returncode == 0 and "changed=0" in result.stdout, result.stdout[-3000:]


def test_an_unknown_switch_value_fails_naming_the_choices(host):
    result = _converge({"maintenance": "maybe"}, playbook=MAINTENANCE)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "nginx_maintenance_state must be one of: on, off, got: maybe" in output, output[-3000:]


# --- Configuration changes (ansible-playbook from the controller) ------------------------


def test_broken_value_fails_the_run_and_the_old_site_keeps_serving(host):
    before = _config_checksums(host)
    result = _converge({"nginx_site_extra_directives": ["djstack_bogus_directive on;"]})
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "unknown directive" in output and "djstack_bogus_directive" in output
    assert _config_checksums(host) == before
    assert host.check_output("find /tmp -maxdepth 1 -name '*.nginx'") == ""
    assert request(host, HASHED_CSS).status == 200
    assert _from_app(request(host, "/after-broken-run/"))


def test_config_change_reloads_without_restart(host):
    pid = _main_pid(host)
    assert request(host, "/upload/", method="POST", body_size=1_500_000).status == 413
    try:
        result = _converge({"nginx_client_max_body_size": "2m"})
        assert result.returncode == 0, result.stdout[-3000:]
        assert "RUNNING HANDLER [djstack.stack.nginx : Reload nginx]" in result.stdout
        assert "RUNNING HANDLER [djstack.stack.nginx : Restart nginx]" not in result.stdout
        assert _eventually(
            lambda: request(host, "/upload/", method="POST", body_size=1_500_000).status == 200
        )
        assert _main_pid(host) == pid
    finally:
        assert _converge().returncode == 0


def test_check_run_tests_a_cluster_and_a_given_certificate_without_changing_anything(host):
    # A certificate of our own (as from vault), and two app servers instead of the socket.
    host.check_output(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=demo.test "
        "-addext subjectAltName=DNS:demo.test,DNS:www.demo.test "
        "-keyout /root/given.key -out /root/given.crt 2>/dev/null"
    )
    extra = {
        "nginx_upstream_servers": ["127.0.0.1:8001", "127.0.0.1:8002"],
        "nginx_tls_certificate": host.file("/root/given.crt").content_string,
        "nginx_tls_certificate_key": host.file("/root/given.key").content_string,
    }
    before = _config_checksums(host)
    result = _converge(extra, "--check", "--diff")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "server 127.0.0.1:8001 max_fails=3 fail_timeout=10s;" in result.stdout
    assert "keepalive 16;" in result.stdout
    assert "ssl_certificate tls/demo.crt;" in result.stdout
    # The key is neither logged nor diffed.
    assert "PRIVATE KEY" not in result.stdout
    assert _config_checksums(host) == before

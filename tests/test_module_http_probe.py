"""djstack.stack.http_probe against real servers run by the test process: HTTPS with a
throwaway self-signed certificate (SNI and Host as nginx sees them) and plain HTTP on
a unix socket, as gunicorn serves."""

from __future__ import annotations

import datetime
import http.server
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.djstack.stack.plugins.module_utils.http_probe import (
    Answer, Target, expected, failure_message, probe, target_from_url)
from tests.modrun import run_module

NAME = "site.example"


class Site:
    """What the server saw, and what it answers: `releases` in turn, then the last one for good."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        # Every header of every request, names lower-cased.
        self.headers: list[dict[str, str]] = []
        self.sni: list[str | None] = []
        self.releases = ["r1"]
        self.status = 200

    def answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        self.requests.append({"path": handler.path, "host": handler.headers.get("Host", ""),
                              "user-agent": handler.headers.get("User-Agent", "")})
        self.headers.append({name.lower(): value for name, value in handler.headers.items()})
        release = self.releases[min(len(self.requests), len(self.releases)) - 1]
        body = b"ready\n"
        handler.send_response(self.status)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("X-App-Release", release)
        handler.send_header("Vary", "Accept")
        handler.send_header("Vary", "Cookie")
        handler.end_headers()
        handler.wfile.write(body)


def _handler(site: Site) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            site.answer(self)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _serve(server: socketserver.BaseServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[Site, int, Path]]:
    """A TLS server on 127.0.0.1 that, like nginx, refuses a handshake without SNI."""
    site = Site()
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def sni(_sock: ssl.SSLSocket, server_name: str | None, _context: ssl.SSLContext) -> int | None:
        site.sni.append(server_name)
        return None if server_name else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    context.sni_callback = sni
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield from ((site, server.server_address[1], cert) for _ in _serve(server))


class _UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@pytest.fixture
def unix(tmp_path: Path) -> Iterator[tuple[Site, Path]]:
    site = Site()
    path = tmp_path / "gunicorn.sock"
    server = _UnixServer(str(path), _handler(site))
    yield from ((site, path) for _ in _serve(server))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sni_and_host_carry_the_server_name_to_the_address(https: tuple[Site, int, Path], tmp_path: Path) -> None:
    site, port, _ = https
    result = run_module("http_probe", {"server_name": NAME, "path": "/readyz?x=1", "port": port,
                                       "user_agent": "djstack-deploy-check"}, tmp_path)
    assert result["rc"] == 0, result
    assert (result["changed"], result["status"], result["attempts"], result["error"]) == (False, 200, 1, "")
    assert result["url"] == f"https://{NAME}:{port}/readyz?x=1"
    assert result["headers"]["x-app-release"] == "r1"
    assert result["headers"]["vary"] == "Accept, Cookie"
    assert site.sni == [NAME]
    assert site.requests == [{"path": "/readyz?x=1", "host": f"{NAME}:{port}", "user-agent": "djstack-deploy-check"}]


def test_a_url_names_the_site_and_the_address_is_still_this_host(https: tuple[Site, int, Path],
                                                                  tmp_path: Path) -> None:
    site, port, _ = https
    result = run_module("http_probe", {"url": f"https://{NAME}:{port}/"}, tmp_path)
    assert result["rc"] == 0, result
    assert site.sni == [NAME] and site.requests[0]["host"] == f"{NAME}:{port}"


def test_certificates_are_verified_only_when_asked(https: tuple[Site, int, Path], tmp_path: Path) -> None:
    _, port, cert = https
    args = {"server_name": NAME, "port": port, "validate_certs": True}
    refused = run_module("http_probe", args, tmp_path)
    assert refused["rc"] == 1 and refused["status"] == 0
    assert "CERTIFICATE_VERIFY_FAILED" in refused["error"] and "CERTIFICATE_VERIFY_FAILED" in refused["msg"]
    trusted = run_module("http_probe", dict(args, ca_path=str(cert)), tmp_path)
    assert trusted["rc"] == 0, trusted
    wrong_name = run_module("http_probe", {"server_name": "other.example", "port": port, "validate_certs": True,
                                           "ca_path": str(cert)}, tmp_path)
    assert wrong_name["rc"] == 1 and "other.example" in wrong_name["error"]


def test_retries_until_the_expected_header_answers(unix: tuple[Site, Path], tmp_path: Path) -> None:
    site, path = unix
    site.releases = ["old", "old", "new"]
    result = run_module("http_probe", {"url": "http://localhost/readyz", "unix_socket": str(path),
                                       "expect_headers": {"X-App-Release": "new"}, "retries": 5, "delay": 0},
                        tmp_path)
    assert result["rc"] == 0, result
    assert (result["attempts"], result["headers"]["x-app-release"]) == (3, "new")
    assert [r["host"] for r in site.requests] == ["localhost"] * 3
    assert result["url"] == "http://localhost/readyz"


def test_an_empty_expected_value_is_not_checked(unix: tuple[Site, Path], tmp_path: Path) -> None:
    _, path = unix
    result = run_module("http_probe", {"server_name": "localhost", "unix_socket": str(path),
                                       "expect_headers": {"X-App-Release": ""}}, tmp_path)
    assert (result["rc"], result["attempts"]) == (0, 1)


def test_a_wrong_answer_fails_saying_what_answered_and_what_was_expected(unix: tuple[Site, Path],
                                                                          tmp_path: Path) -> None:
    site, path = unix
    site.status, site.releases = 404, ["r1"]
    result = run_module("http_probe", {"url": "http://localhost/no-such-page", "unix_socket": str(path),
                                       "expect_headers": {"X-App-Release": "r2", "X-Other": "1"},
                                       "retries": 2, "delay": 0}, tmp_path)
    assert result["rc"] == 1 and result["failed"] is True and result["changed"] is False
    assert (result["status"], result["attempts"], len(site.requests)) == (404, 3, 3)
    assert result["msg"] == (
        f"GET http://localhost/no-such-page on {path} answered 404 with X-App-Release: r1, without X-Other "
        "after 3 attempts; expected status 200 with X-App-Release: r2, X-Other: 1.")


def test_nothing_answering_fails_with_the_connection_error(tmp_path: Path) -> None:
    port = _free_port()
    result = run_module("http_probe", {"server_name": NAME, "path": "/readyz", "port": port,
                                       "expect_status": [200, 204], "retries": 1, "delay": 0}, tmp_path)
    assert result["rc"] == 1 and (result["status"], result["attempts"], result["headers"]) == (0, 2, {})
    assert result["error"].startswith("ConnectionRefusedError")
    assert result["msg"] == (f"GET https://{NAME}:{port}/readyz on 127.0.0.1:{port} did not answer "
                             f"({result['error']}) after 2 attempts; expected status 200 or 204.")


def test_request_headers_reach_the_service_beside_host_and_user_agent(unix: tuple[Site, Path],
                                                                      tmp_path: Path) -> None:
    site, path = unix
    result = run_module("http_probe", {"url": f"http://{NAME}/products/", "unix_socket": str(path),
                                       "request_headers": {"X-Forwarded-Proto": "https", "X-Forwarded-Port": 443}},
                        tmp_path)
    assert result["rc"] == 0, result
    seen = site.headers[0]
    assert (seen["x-forwarded-proto"], seen["x-forwarded-port"]) == ("https", "443")
    assert (seen["host"], seen["user-agent"]) == (NAME, "djstack-http-probe")


@pytest.mark.parametrize("status", [200, 302, 404])
def test_a_status_below_the_limit_is_expected_whatever_it_is(unix: tuple[Site, Path], tmp_path: Path,
                                                             status: int) -> None:
    site, path = unix
    site.status = status
    result = run_module("http_probe", {"url": "http://localhost/", "unix_socket": str(path),
                                       "expect_status_below": 500}, tmp_path)
    assert (result["rc"], result["status"]) == (0, status), result


def test_a_server_error_is_refused_when_a_status_below_500_is_expected(unix: tuple[Site, Path],
                                                                        tmp_path: Path) -> None:
    site, path = unix
    site.status = 500
    result = run_module("http_probe", {"url": "http://localhost/", "unix_socket": str(path),
                                       "expect_status_below": 500}, tmp_path)
    assert (result["rc"], result["status"], result["attempts"]) == (1, 500, 1)
    assert result["msg"] == (f"GET http://localhost/ on {path} answered 500 after 1 attempt; "
                             "expected a status below 500.")


def test_nothing_answering_is_refused_when_a_status_below_500_is_expected(tmp_path: Path) -> None:
    result = run_module("http_probe", {"url": "http://localhost/", "unix_socket": str(tmp_path / "none.sock"),
                                       "expect_status_below": 500}, tmp_path)
    assert (result["rc"], result["status"]) == (1, 0)
    assert result["msg"].endswith("expected a status below 500.")


def test_a_missing_unix_socket_says_so(tmp_path: Path) -> None:
    result = run_module("http_probe", {"url": "http://localhost/readyz", "unix_socket": str(tmp_path / "none.sock")},
                        tmp_path)
    assert result["rc"] == 1 and "FileNotFoundError" in result["msg"] and "none.sock" in result["msg"]


def test_check_mode_probes_the_same_and_changes_nothing(unix: tuple[Site, Path], tmp_path: Path) -> None:
    site, path = unix
    args = {"url": "http://localhost/readyz", "unix_socket": str(path)}
    first, second = (run_module("http_probe", args, tmp_path, check=True, diff=True) for _ in range(2))
    assert first["rc"] == second["rc"] == 0
    assert first["changed"] is second["changed"] is False
    assert "diff" not in first and first["status"] == second["status"] == 200
    assert len(site.requests) == 2


@pytest.mark.parametrize(("args", "message"), [
    ({}, "one of the following is required: url, server_name"),
    ({"url": "https://a.example/", "path": "/x"}, "mutually exclusive: url|path"),
    ({"url": "/readyz"}, "url must be an absolute http:// or https:// URL (got '/readyz')"),
    ({"server_name": NAME, "path": "readyz"}, "path must start with / (got 'readyz')."),
    ({"server_name": NAME, "retries": -1}, "retries and delay must be 0 or more"),
    ({"server_name": NAME, "expect_status": [200], "expect_status_below": 500},
     "mutually exclusive: expect_status|expect_status_below"),
    ({"server_name": NAME, "expect_status_below": 100}, "expect_status_below must be a status from 101 to 600"),
    ({"server_name": NAME, "request_headers": {"Host": "other.example"}}, "request_headers may not set Host"),
    ({"server_name": NAME, "request_headers": {"user-agent": "x"}}, "request_headers may not set user-agent"),
    ({"server_name": NAME, "request_headers": {"X-A": "1\r\nX-B: 2"}}, "request_headers value of X-A has a line break"),
    ({"server_name": NAME, "request_headers": {"X A": "1"}}, "not a header name: 'X A'"),
])
def test_bad_arguments_say_what_is_wrong(tmp_path: Path, args: dict[str, Any], message: str) -> None:
    result = run_module("http_probe", args, tmp_path)
    assert result["rc"] == 1 and message in result["msg"]


def test_a_url_keeps_its_query_and_default_port() -> None:
    target = target_from_url("https://site.example/readyz?full=1")
    assert (target.server_name, target.port, target.path, target.url) == (
        NAME, 443, "/readyz?full=1", "https://site.example/readyz?full=1")
    assert target.via == "127.0.0.1:443"


def test_probe_sleeps_between_attempts_only(tmp_path: Path) -> None:
    pauses: list[float] = []
    target = Target("http", "localhost", 80, "/", unix_socket=str(tmp_path / "none.sock"))
    answer, attempts, ok = probe(target, expect_status=[200], expect_headers={}, retries=3, delay=2.5,
                                 sleep=pauses.append)
    assert (answer.status, attempts, ok, pauses) == (0, 4, False, [2.5, 2.5, 2.5])


def test_expected_needs_an_answer_and_matches_header_names_in_any_case() -> None:
    answer = Answer(503, {"x-app-release": "r1"})
    assert not expected(answer, [200], {})
    assert expected(answer, [], {"X-APP-RELEASE": "r1"})
    assert not expected(Answer(0, {}, "boom"), [], {})
    assert failure_message(Target("https", NAME, 443, "/"), answer, 1, [], {}) == (
        f"GET https://{NAME}/ on 127.0.0.1:443 answered 503 after 1 attempt; expected any status.")


def test_a_status_limit_replaces_the_list_of_statuses() -> None:
    assert expected(Answer(404, {}), [200], {}, status_below=500)
    assert not expected(Answer(503, {}), [503], {}, status_below=500)
    assert not expected(Answer(0, {}, "boom"), [], {}, status_below=500)
    assert not expected(Answer(302, {"x-app-release": "r1"}), [], {"X-App-Release": "r2"}, status_below=500)

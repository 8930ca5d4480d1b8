# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET one path from a service on this host, the way its users reach it, and tell
whether the answer is the one expected.

The connection goes to an address (127.0.0.1: this host's nginx) or a unix socket
(gunicorn's), while the name the service is known by travels in SNI and Host:
nginx picks its server block, and refuses nameless TLS, by that name. The
certificate is only checked when asked, as the point is what nginx and the app
answer, and a fresh site may still serve a self-signed one.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from typing import Callable, NamedTuple
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Enough for any readiness page; a probe must not swallow a huge body.
MAX_BODY = 1024 * 1024


class Target(NamedTuple):
    scheme: str
    server_name: str
    port: int
    path: str
    connect_address: str = "127.0.0.1"
    unix_socket: str | None = None
    validate_certs: bool = False
    ca_path: str | None = None
    user_agent: str = "djstack-http-probe"
    # Sent as given, after Host and User-Agent (which come from the fields above).
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def url(self) -> str:
        host = f"[{self.server_name}]" if ":" in self.server_name else self.server_name
        port = "" if self.unix_socket or self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}"
        return f"{self.scheme}://{host}{port}{self.path}"

    @property
    def via(self) -> str:
        """Where the request really goes, for messages."""
        if self.unix_socket:
            return self.unix_socket
        address = f"[{self.connect_address}]" if ":" in self.connect_address else self.connect_address
        return f"{address}:{self.port}"


class Answer(NamedTuple):
    status: int  # 0: nothing answered
    headers: dict[str, str]
    error: str = ""


def target_from_url(url: str, **options: object) -> Target:
    """A Target for an http(s) URL: its host is the name presented, not where to connect.
    Raises ValueError for anything but an absolute http or https URL."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"url must be an absolute http:// or https:// URL (got {url!r})")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme], path,
                  **options)  # type: ignore[arg-type]


def _tls_context(target: Target) -> ssl.SSLContext:
    if not target.validate_certs:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=target.ca_path)


class _Connection(http.client.HTTPConnection):
    """http.client takes SNI and the connection from one host; here they differ."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.server_name, target.port, timeout=timeout)
        self._target = target

    def connect(self) -> None:
        target = self._target
        if target.unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self.timeout)
            try:
                sock.connect(target.unix_socket)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection((target.connect_address, target.port), self.timeout)
        if target.scheme == "https":
            sock = _tls_context(target).wrap_socket(sock, server_hostname=target.server_name)
        self.sock = sock


def host_header(target: Target) -> str:
    host = f"[{target.server_name}]" if ":" in target.server_name else target.server_name
    if target.unix_socket or target.port == DEFAULT_PORTS[target.scheme]:
        return host
    return f"{host}:{target.port}"


def get(target: Target, timeout: float) -> Answer:
    """One GET; a connection, TLS or protocol error is an Answer with status 0."""
    connection = _Connection(target, timeout)
    try:
        headers = {"Host": host_header(target), "User-Agent": target.user_agent, **dict(target.headers)}
        connection.request("GET", target.path, headers=headers)
        response = connection.getresponse()
        response.read(MAX_BODY)
        answered: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            # Repeated headers combine as HTTP allows (RFC 9110 5.3).
            answered[key] = f"{answered[key]}, {value}" if key in answered else value
        return Answer(response.status, answered)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(0, {}, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


# Header names the Target's own fields decide: the name in SNI and Host must agree.
RESERVED_HEADERS = ("host", "user-agent")


def request_headers(headers: dict[str, object]) -> tuple[tuple[str, str], ...]:
    """Extra request headers as a Target takes them. Raises ValueError for a name the
    Target decides itself, or one that is not a header name."""
    result = []
    for name, value in headers.items():
        name = str(name)
        if not name or any(c in name for c in " \t\r\n:"):
            raise ValueError(f"request_headers has a name that is not a header name: {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"request_headers may not set {name} (it comes from url or server_name, and user_agent)")
        text = "" if value is None else str(value)
        if "\r" in text or "\n" in text:
            raise ValueError(f"request_headers value of {name} has a line break")
        result.append((name, text))
    return tuple(result)


def expected(answer: Answer, expect_status: list[int], expect_headers: dict[str, str],
             status_below: int | None = None) -> bool:
    """The status is below status_below when that is given, else one of expect_status
    (any, if empty), and every header with a non-empty expected value has exactly that value."""
    if not answer.status:
        return False
    if status_below is not None:
        if answer.status >= status_below:
            return False
    elif expect_status and answer.status not in expect_status:
        return False
    return all(answer.headers.get(name.lower()) == value for name, value in expect_headers.items() if value)


def probe(target: Target, *, expect_status: list[int], expect_headers: dict[str, str], retries: int = 0,
          delay: float = 1, timeout: float = 10, status_below: int | None = None,
          sleep: Callable[[float], None] = time.sleep) -> tuple[Answer, int, bool]:
    """GET until the answer is the expected one, at most 1 + retries times (as Ansible's
    until/retries counts). The last answer, the attempts made, and whether it was expected."""
    attempts = 0
    while True:
        attempts += 1
        answer = get(target, timeout)
        if expected(answer, expect_status, expect_headers, status_below):
            return answer, attempts, True
        if attempts > retries:
            return answer, attempts, False
        sleep(delay)


def _header_part(answer: Answer, expect_headers: dict[str, str]) -> str:
    seen = []
    for name, value in expect_headers.items():
        if value:
            got = answer.headers.get(name.lower())
            seen.append(f"without {name}" if got is None else f"with {name}: {got}")
    return (" " + ", ".join(seen)) if seen else ""


def expectation(expect_status: list[int], expect_headers: dict[str, str], status_below: int | None = None) -> str:
    if status_below is not None:
        status = f"a status below {status_below}"
    elif expect_status:
        status = "status " + " or ".join(str(s) for s in expect_status)
    else:
        status = "any status"
    wanted = [f"{name}: {value}" for name, value in expect_headers.items() if value]
    return status + (" with " + ", ".join(wanted) if wanted else "")


def failure_message(target: Target, answer: Answer, attempts: int, expect_status: list[int],
                    expect_headers: dict[str, str], status_below: int | None = None) -> str:
    """What was asked, of what, what answered, and what was expected."""
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    if answer.status:
        got = f"answered {answer.status}{_header_part(answer, expect_headers)} {tries}"
    else:
        got = f"did not answer ({answer.error}) {tries}"
    return f"GET {target.url} on {target.via} {got}; expected {expectation(expect_status, expect_headers, status_below)}."

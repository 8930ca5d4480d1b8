"""WSGI under gunicorn with a systemd-style socket, and the ASGI application."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_testlib import APP_DIR, PYTHON, UnixHTTPConnection, clean_env, stop

SECRET = "entrypoint-test-secret-key-abcdefghijklmnopqrstuvwxyz-0123456789"
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))

# What systemd does for a .socket unit: the listening socket becomes fd 3,
# LISTEN_PID names the service's own pid (exec keeps it), LISTEN_FDS=1.
SOCKET_ACTIVATION = """
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = "1"
os.execv(sys.argv[2], sys.argv[2:])
"""


@pytest.fixture
def gunicorn_socket(tmp_path: Path) -> Iterator[Path]:
    """Start gunicorn the way systemd socket activation does: the listening
    unix socket is created first and handed over as fd 3 (LISTEN_FDS)."""
    if not Path(GUNICORN).exists():
        # make unit installs gunicorn from the pins: a missing one is a failure, never a skip.
        pytest.fail(f"gunicorn is not installed next to this Python ({GUNICORN}): make venv installs it")
    socket_path = tmp_path / "gunicorn.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(socket_path))
    listener.listen(16)
    fd = listener.fileno()
    env = clean_env(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="app.example.com,localhost",
        DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_RELEASE="gunicorn-test",
    )
    process = subprocess.Popen(
        [
            PYTHON,
            "-c",
            SOCKET_ACTIVATION,
            str(fd),
            GUNICORN,
            "--workers",
            "2",
            "--timeout",
            "30",
            "--no-control-socket",
            "demo.wsgi:application",
        ],
        cwd=APP_DIR,
        env=env,
        pass_fds=[fd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    listener.close()  # gunicorn owns it now
    try:
        yield socket_path
    finally:
        stop(process)
        output = process.stdout.read().decode() if process.stdout else ""
        assert "Traceback" not in output, output


def get_over_socket(socket_path: Path, path: str) -> tuple[int, dict[str, str], Any]:
    connection = UnixHTTPConnection(socket_path, timeout=30)
    try:
        connection.request("GET", path, headers={"Host": "localhost"})
        response = connection.getresponse()
        body = response.read()
        return response.status, dict(response.getheaders()), json.loads(body)
    finally:
        connection.close()


def test_gunicorn_serves_probes_on_an_activated_socket(gunicorn_socket: Path) -> None:
    status, headers, body = get_over_socket(gunicorn_socket, "/healthz")
    assert status == 200
    assert body == {"status": "ok", "release": "gunicorn-test"}
    assert headers["X-App-Release"] == "gunicorn-test"

    status, _, body = get_over_socket(gunicorn_socket, "/readyz")
    assert status == 200, body
    assert body["checks"] == {"database": "ok", "cache": "ok"}


def test_asgi_application_serves_requests() -> None:
    from demo.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    sent: list[dict[str, Any]] = []

    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        # Like a client that stays connected: Django cancels this wait once
        # the response is sent.
        await asyncio.Future()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(application(scope, receive, send))
    start = sent[0]
    assert start["status"] == 200
    headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    assert headers["x-app-release"] == "test-release"
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert json.loads(body) == {"status": "ok", "release": "test-release"}


def test_wsgi_module_exposes_application() -> None:
    from demo import wsgi

    assert callable(wsgi.application)
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "demo.settings"

"""Helpers for tests that run the project in a subprocess with a clean env."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

APP_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SUBPROCESS_TIMEOUT = 120


def clean_env(**overrides: str) -> dict[str, str]:
    """The current environment without DJANGO_*, plus overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("PYTHONPATH", None)
    env.update(overrides)
    return env


def run(
    args: list[str], env: dict[str, str], cwd: Path = APP_DIR, timeout: float = SUBPROCESS_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def manage(
    *args: str, env: dict[str, str], cwd: Path = APP_DIR
) -> subprocess.CompletedProcess[str]:
    return run([PYTHON, "manage.py", *args], env=env, cwd=cwd)


def python_snippet(
    code: str, env: dict[str, str], cwd: Path = APP_DIR
) -> subprocess.CompletedProcess[str]:
    return run([PYTHON, "-c", code], env=env, cwd=cwd)


# Loads the settings in a subprocess and prints one setting as JSON, or the
# configuration error on stderr with exit status 3.
SETTING_SNIPPET = """
import json, sys
from django.core.exceptions import ImproperlyConfigured
try:
    from django.conf import settings
    value = getattr(settings, sys.argv[1])
except ImproperlyConfigured as exc:
    print(f"ImproperlyConfigured: {exc}", file=sys.stderr)
    sys.exit(3)
print(json.dumps(value, default=str))
"""


def read_setting(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**env, "DJANGO_SETTINGS_MODULE": "demo.settings"}
    return run([PYTHON, "-c", SETTING_SNIPPET, name], env=env)


# Sends GET requests through Django's test client in one subprocess (so they
# share the process, like requests served by one worker) and prints a JSON
# list of {status, headers, body}.
REQUEST_SNIPPET = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client(HTTP_HOST=sys.argv[1])
responses = []
for path in sys.argv[2:]:
    response = client.get(path)
    responses.append({
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": response.content.decode(),
    })
print(json.dumps(responses))
"""


def get_many_in_subprocess(
    paths: list[str], env: dict[str, str], host: str = "localhost", cwd: Path = APP_DIR
) -> list[dict[str, Any]]:
    env = {**env, "DJANGO_SETTINGS_MODULE": "demo.settings"}
    result = run([PYTHON, "-c", REQUEST_SNIPPET, host, *paths], env=env, cwd=cwd)
    assert result.returncode == 0, result.stderr
    # The JSON is the last line: the app also logs to stdout.
    responses: list[dict[str, Any]] = json.loads(result.stdout.strip().splitlines()[-1])
    for response in responses:
        if response["headers"].get("Content-Type") == "application/json":
            response["json"] = json.loads(response["body"])
    return responses


def get_in_subprocess(
    path: str, env: dict[str, str], host: str = "localhost", cwd: Path = APP_DIR
) -> dict[str, Any]:
    return get_many_in_subprocess([path], env, host=host, cwd=cwd)[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_env_file(path: Path) -> dict[str, str]:
    """Parse the systemd-EnvironmentFile subset used by production.env.example."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=value: {line!r}"
        values[key.strip()] = value.strip()
    return values


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket, the way health probes reach gunicorn."""

    def __init__(self, socket_path: Path, timeout: float = 10) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = str(socket_path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def stop(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Terminate a server this test started, killing it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def settings_variables() -> set[str]:
    """Every DJANGO_* variable the project's code reads."""
    names: set[str] = set()
    for source in (APP_DIR / "demo").glob("*.py"):
        names |= set(re.findall(r'"(DJANGO_[A-Z_]+)"', source.read_text()))
    names.discard("DJANGO_SETTINGS_MODULE")
    return names

"""Send HTTP requests from inside the test host, over a unix socket or TCP.

The client runs in the container with the image's python3 (stdlib only), so a
test sees exactly what a local front end such as nginx would see, including the
socket's permissions when run as another user.

    request(host, "/run/demo/gunicorn.sock", "GET", "/healthz")   # unix socket
    request(host, "127.0.0.1:80", "GET", "/", headers={"Host": "example.com"})
"""

from __future__ import annotations

import base64
import json
import shlex
from collections import Counter
from dataclasses import dataclass, field

from testinfra.host import Host

# One script for both modes: a single request, or a bounded series of requests
# while a command (e.g. a service restart) runs next to them.
_CLIENT = r"""
import base64, http.client, json, socket, subprocess, sys, time

spec = json.loads(sys.argv[1])


class Connection(http.client.HTTPConnection):
    def __init__(self, address, timeout):
        self.unix_path = address if address.startswith("/") else None
        if self.unix_path:
            super().__init__("localhost", timeout=timeout)
        else:
            host, port = address.rsplit(":", 1)
            super().__init__(host.strip("[]"), int(port), timeout=timeout)

    def connect(self):
        if self.unix_path is None:
            return super().connect()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def send():
    conn = Connection(spec["address"], spec["timeout"])
    try:
        body = spec["body"].encode() if spec["body"] is not None else None
        conn.request(spec["method"], spec["path"], body=body, headers=spec["headers"])
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


series = spec.get("series")
if series is None:
    status, headers, body = send()
    json.dump({"status": status, "headers": headers,
               "body": base64.b64encode(body).decode()}, sys.stdout)
    sys.exit(0)

statuses, errors = {}, []
sent = after = 0
wanted_after = series["after"] if series["during"] else 0
command = None
started = time.monotonic()
while time.monotonic() - started < series["max_seconds"] and sent < series["max_requests"]:
    if command is None and series["during"] and sent >= series["before"]:
        command = subprocess.Popen(series["during"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
    command_done = command is not None and command.poll() is not None
    if sent >= series["count"] and (not series["during"] or command_done) and after >= wanted_after:
        break
    try:
        status = send()[0]
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    sent += 1
    if command_done:
        after += 1
command_rc = None
command_err = ""
if command is not None:
    command_rc = command.wait(timeout=max(1, series["max_seconds"]))
    command_err = command.stderr.read().decode(errors="replace")
json.dump({"sent": sent, "after": after, "statuses": statuses, "errors": errors,
           "command_rc": command_rc, "command_stderr": command_err}, sys.stdout)
"""


class RequestFailed(Exception):
    """The request never got a response (refused, denied, timed out)."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> object:
        return json.loads(self.body)


@dataclass
class Series:
    """Outcome of a series of requests sent while a command ran."""

    sent: int
    after: int  # requests sent after the command had finished
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    command_rc: int | None = None
    command_stderr: str = ""


def _run(host: Host, spec: dict, user: str | None):
    argv = ["python3", "-c", _CLIENT, json.dumps(spec)]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    return host.run(shlex.join(argv))


def _spec(address: str, method: str, path: str, headers: dict[str, str] | None,
          body: str | None, timeout: float) -> dict:
    return {"address": address, "method": method, "path": path,
            "headers": headers or {}, "body": body, "timeout": timeout}


def request(host: Host, address: str, method: str = "GET", path: str = "/",
            headers: dict[str, str] | None = None, body: str | None = None,
            user: str | None = None, timeout: float = 10) -> Response:
    """One request to a unix socket path (absolute) or host:port.

    Without a Host header, http.client sends the address's host ("localhost"
    for a unix socket). Raises RequestFailed when no response comes back.
    """
    result = _run(host, _spec(address, method, path, headers, body, timeout), user)
    if result.rc != 0:
        raise RequestFailed(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else
                            f"client exited {result.rc}")
    data = json.loads(result.stdout)
    return Response(status=data["status"],
                    headers={name.lower(): value for name, value in data["headers"]},
                    body=base64.b64decode(data["body"]))


def series(host: Host, address: str, path: str = "/", *, count: int = 200,
           during: list[str] | None = None, before: int = 10, after: int = 20,
           max_seconds: float = 20, max_requests: int = 2000,
           headers: dict[str, str] | None = None, timeout: float = 10) -> Series:
    """Send sequential GET requests, one connection each, while `during` runs.

    The command starts after `before` requests. Sending stops once `count`
    requests went out, the command has finished and `after` more requests were
    sent behind it -- or at `max_seconds` / `max_requests`, whichever is first,
    so the load on the test host stays bounded.
    """
    spec = _spec(address, "GET", path, headers, None, timeout)
    spec["series"] = {"count": count, "during": during or [], "before": before, "after": after,
                      "max_seconds": max_seconds, "max_requests": max_requests}
    result = _run(host, spec, None)
    assert result.rc == 0, result.stderr
    data = json.loads(result.stdout)
    return Series(sent=data["sent"], after=data["after"],
                  statuses=Counter({int(k): v for k, v in data["statuses"].items()}),
                  errors=data["errors"], command_rc=data["command_rc"],
                  command_stderr=data["command_stderr"])

"""Talk to memcached from inside the test host, as a given user."""

from __future__ import annotations

import shlex

from testinfra.host import Host

# Runs inside the container with the image's python3, so it needs only the stdlib.
_CLIENT = r"""
import socket, sys
family, address = sys.argv[1], sys.argv[2]
if family == "unix":
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    target = address
else:
    host, port = address.rsplit(":", 1)
    host = host.strip("[]")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    target = (host, int(port))
sock.settimeout(5)
sock.connect(target)
sock.sendall(sys.stdin.buffer.read().replace(b"\n", b"\r\n") + b"quit\r\n")
chunks = []
while True:
    data = sock.recv(65536)
    if not data:
        break
    chunks.append(data)
sys.stdout.write(b"".join(chunks).decode())
"""


def exchange(host: Host, family: str, address: str, commands: str, user: str | None = None):
    """Send memcached text-protocol commands; return testinfra's CommandResult."""
    argv = ["python3", "-c", _CLIENT, family, address]
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    return host.run(f"printf %s {shlex.quote(commands)} | {shlex.join(argv)}")


def stats_settings(host: Host, family: str, address: str) -> dict[str, str]:
    result = exchange(host, family, address, "stats settings\n")
    assert result.rc == 0, result.stderr
    settings = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "STAT":
            settings[parts[1]] = parts[2]
    return settings


def exposure(host: Host, unit: str) -> float:
    """The overall exposure score `systemd-analyze security` gives a unit."""
    out = host.check_output(f"systemd-analyze security --no-pager {shlex.quote(unit)}")
    last = [line for line in out.splitlines() if "Overall exposure level" in line][-1]
    return float(last.split(":", 1)[1].split()[0])

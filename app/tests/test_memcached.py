"""The cache against real memcached servers (skipped without the binary).

Each request batch runs in its own process, like separate gunicorn workers,
so a hit in a later process proves the cache is shared.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo_testlib import clean_env, free_port, get_many_in_subprocess, manage, stop

pytestmark = pytest.mark.memcached

MEMCACHED = shutil.which("memcached")
SECRET = "memcached-test-secret-key-abcdefghijklmnopqrstuvwxyz-0123456789"


def wait_until(connectable: Callable[[], None], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            connectable()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def start_memcached(args: list[str]) -> subprocess.Popen[bytes]:
    assert MEMCACHED
    user = ["-u", "root"] if os.geteuid() == 0 else []  # memcached refuses root otherwise
    return subprocess.Popen(
        [MEMCACHED, "-U", "0", "-m", "16", "-c", "64", *user, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def unix_server(tmp_path: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    path = tmp_path / "memcached.sock"
    server = start_memcached(["-s", str(path), "-a", "0700"])

    def connect() -> None:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(path))

    wait_until(connect)
    return f"unix:{path}", [server]


def tcp_pair(tmp_path: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    ports = [free_port(), free_port()]
    servers = [start_memcached(["-l", "127.0.0.1", "-p", str(port)]) for port in ports]
    for port in ports:
        wait_until(lambda port=port: socket.create_connection(("127.0.0.1", port), 1).close())
    return ",".join(f"127.0.0.1:{port}" for port in ports), servers


@pytest.fixture(params=[unix_server, tcp_pair], ids=["unix-socket", "host-port-list"])
def memcached(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    if MEMCACHED is None:
        # make unit installs memcached: a missing binary is a failure, never a skip.
        pytest.fail("memcached is not installed (apt-get install memcached; make unit does it)")
    location, servers = request.param(tmp_path)
    try:
        yield location, servers
    finally:
        for server in servers:
            stop(server)


def test_shared_cache_invalidation_and_outage(
    memcached: tuple[str, list[subprocess.Popen[bytes]]], tmp_path: Path, collected_static: Path
) -> None:
    location, servers = memcached
    env = clean_env(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_CACHE_LOCATION=location,
        DJANGO_CACHE_KEY_PREFIX=f"test-{tmp_path.name}",
        DJANGO_STATIC_ROOT=str(collected_static),
    )
    for args in (["migrate", "--noinput"], ["seed_products", "5"]):
        result = manage(*args, env=env)
        assert result.returncode == 0, result.stderr

    miss, hit, ready = get_many_in_subprocess(["/products/", "/products/", "/readyz"], env)
    assert (miss["headers"]["X-Cache"], hit["headers"]["X-Cache"]) == ("miss", "hit")
    assert ready["status"] == 200, ready["body"]
    assert ready["json"]["checks"] == {"database": "ok", "cache": "ok"}

    # Another process ("worker") sees the same cached listing.
    # The API reads the same cached query result as the page.
    (api,) = get_many_in_subprocess(["/api/products/"], env)
    assert api["headers"]["X-Cache"] == "hit"
    assert api["json"]["count"] == 5

    # A change made by another process invalidates it for everyone.
    assert manage("seed_products", "6", env=env).returncode == 0
    (page,) = get_many_in_subprocess(["/products/"], env)
    assert page["headers"]["X-Cache"] == "miss"
    assert page["body"].count('class="price"') == 6

    for server in servers:
        stop(server)
    page, ready = get_many_in_subprocess(["/products/", "/readyz"], env)
    assert page["status"] == 200 and page["headers"]["X-Cache"] == "miss"
    assert ready["status"] == 503
    assert ready["json"]["checks"]["database"] == "ok"
    assert ready["json"]["checks"]["cache"].startswith("fail: ")

"""The settings overlay's probes and release header on a stock project, served for real.

hardsite is a `startproject` with no probes and no release header of its own; its HTTPS
settings (SSL redirect, proxy header) come from the overlay. The tests run its release's
own gunicorn (the project's pinned 22.0.0) on a socket of their own, as the app user,
and talk to it as the canary and nginx would."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from testinfra.host import Host

from djstack_testlib.django_app import entry
from djstack_testlib.http import Response, request

HARDSITE = "/srv/hardsite"
SOCKET = f"{HARDSITE}/shared/db/probe-test.sock"
PIDFILE = f"{HARDSITE}/shared/db/probe-test.pid"
DOMAIN = "hardsite.example.test"


@pytest.fixture(scope="module")
def socket(host: Host) -> Iterator[str]:
    start = [f"{HARDSITE}/bin/manage", "--exec", "gunicorn", "--daemon", "--workers", "1",
             "--bind", f"unix:{SOCKET}", "--pid", PIDFILE, "hardsite.wsgi:application"]
    host.check_output(shlex.join(start))
    wait = f"for i in $(seq 100); do test -S {SOCKET} && exit 0; sleep 0.1; done; exit 1"
    assert host.run(wait).rc == 0, f"gunicorn made no socket at {SOCKET}"
    yield SOCKET
    host.run(f"kill $(cat {PIDFILE}); for i in $(seq 50); do test -e {PIDFILE} || break; sleep 0.1; done;"
             f" rm -f {SOCKET}")


def _get(host: Host, socket: str, path: str, headers: dict[str, str]) -> Response:
    return request(host, socket, "GET", path, headers=headers)


def test_project_has_no_probe_of_its_own(host: Host):
    # The control: hardsite's URLconf knows only admin/.
    urls = host.file(f"{HARDSITE}/current/hardsite/urls.py").content_string
    assert "readyz" not in urls and "healthz" not in urls


def test_readiness_answers_on_the_socket_for_any_host_name(host: Host, socket: str):
    response = _get(host, socket, "/readyz", {"Host": "probe.invalid"})
    assert response.status == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_liveness_answers_on_the_socket_without_a_redirect(host: Host, socket: str):
    response = _get(host, socket, "/healthz", {"Host": "localhost"})
    assert response.status == 200, response.text


def test_probes_name_the_live_release(host: Host, socket: str):
    response = _get(host, socket, "/healthz", {"Host": "localhost"})
    release = entry(host, HARDSITE, "active")["id"]
    assert (response.header("X-App-Release"), response.json()["release"]) == (release, release)


def test_pages_carry_the_release_header(host: Host, socket: str):
    response = _get(host, socket, "/admin/login/", {"Host": DOMAIN, "X-Forwarded-Proto": "https"})
    assert response.status == 200, response.text
    assert response.header("X-App-Release") == entry(host, HARDSITE, "active")["id"]


def test_proxied_probe_over_http_is_redirected(host: Host, socket: str):
    response = _get(host, socket, "/readyz", {"Host": DOMAIN, "X-Forwarded-Proto": "http"})
    assert (response.status, response.header("Location")) == (301, f"https://{DOMAIN}/readyz")


def test_proxied_probe_for_another_host_is_refused(host: Host, socket: str):
    response = _get(host, socket, "/readyz", {"Host": "probe.invalid", "X-Forwarded-Proto": "https"})
    assert response.status == 400, response.text

"""Debian's python3 with venv tooling; pip in a venv trusts the system store and our indexes."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest
from testinfra.host import Host

VENV = "/tmp/pytest-python-venv"
BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PKI = "/etc/djstack-probe"
INDEX_ROOT = "/srv/probe-index"
INDEX_UNIT = "djstack-probe-index"

# A minimal PEP 503 index (http.server's directory listings are the project pages)
# holding one pure-Python wheel, served over TLS with the certificate signed by ca1.
_WRITE_INDEX = r"""
import pathlib, sys, zipfile
root = pathlib.Path(sys.argv[1])
project = root / "simple" / "djstack-probe"
project.mkdir(parents=True, exist_ok=True)
files = {
    "djstack_probe/__init__.py": "SERVED_BY = 'private index'\n",
    "djstack_probe-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: djstack-probe\nVersion: 1.0\n",
    "djstack_probe-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: djstack-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
files["djstack_probe-1.0.dist-info/RECORD"] = "".join(f"{name},,\n" for name in files) + "djstack_probe-1.0.dist-info/RECORD,,\n"
with zipfile.ZipFile(project / "djstack_probe-1.0-py3-none-any.whl", "w") as wheel:
    for name, text in files.items():
        wheel.writestr(name, text)
"""

_SERVE = r"""
import functools, http.server, ssl, sys
root, cert, key = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""


def _pip(host: Host, *args: str):
    return host.run(shlex.join([f"{VENV}/bin/python", "-m", "pip", *args]))


@pytest.fixture(scope="module")
def venv(host: Host) -> str:
    host.run(f"rm -rf {VENV}")
    host.check_output(f"python3 -m venv {VENV}")
    return VENV


@pytest.fixture(scope="module")
def private_index(host: Host) -> Iterator[str]:
    host.check_output(shlex.join(["python3", "-c", _WRITE_INDEX, INDEX_ROOT]))
    host.run(f"systemctl stop {INDEX_UNIT}")
    host.check_output(shlex.join([
        "systemd-run", f"--unit={INDEX_UNIT}", "--collect", "/usr/bin/python3", "-c", _SERVE,
        INDEX_ROOT, f"{PKI}/server.pem", f"{PKI}/server.key",
    ]))
    # Bounded wait for the listener; the run fails below if it never comes up.
    for _ in range(50):
        if host.socket("tcp://127.0.0.1:8443").is_listening:
            break
        host.run("sleep 0.1")
    yield "https://localhost:8443/simple/"
    host.run(f"systemctl stop {INDEX_UNIT}")


def _pip_config(host: Host, venv: str) -> str:
    result = _pip(host, "config", "list")
    assert result.rc == 0, result.stderr
    return result.stdout


def test_venv_tooling_comes_from_debian(host: Host):
    # The test image has python3 (Ansible needs it) but not the venv module.
    assert host.package("python3-venv").is_installed


def test_venv_gets_its_own_pip(host: Host, venv: str):
    result = _pip(host, "--version")
    assert result.rc == 0, result.stderr
    assert f"{VENV}/lib/" in result.stdout


def test_pip_uses_the_system_trust_store(host: Host, venv: str):
    assert f"global.cert='{BUNDLE}'" in _pip_config(host, venv)


def test_pip_uses_the_configured_index(host: Host, venv: str):
    assert "global.index-url='https://pypi.org/simple'" in _pip_config(host, venv)


def test_pip_uses_the_extra_index(host: Host, venv: str):
    assert "global.extra-index-url='https://localhost:8443/simple/'" in _pip_config(host, venv)


def test_pip_trusts_the_configured_host(host: Host, venv: str):
    assert "global.trusted-host='pypi.internal.example'" in _pip_config(host, venv)


def test_pip_config_is_root_owned_and_readable(host: Host):
    conf = host.file("/etc/pip.conf")
    assert conf.user == "root"
    assert conf.mode == 0o644


@pytest.mark.parametrize("ca", ["ca1", "ca2"])
def test_extra_ca_is_in_the_system_bundle(host: Host, ca: str):
    pem = host.file(f"{PKI}/{ca}.pem").content_string.strip()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert pem in host.file(BUNDLE).content_string


def test_pip_installs_from_pypi_through_the_proxy(host: Host, venv: str, private_index: str):
    result = _pip(host, "install", "--no-deps", "six==1.17.0")
    assert result.rc == 0, result.stderr
    assert host.check_output(f"{VENV}/bin/python -c 'import six; print(six.__version__)'") == "1.17.0"


def test_pip_installs_from_the_private_index_signed_by_an_extra_ca(host: Host, venv: str, private_index: str):
    # Only ca1, added by the role, vouches for the index's certificate.
    result = _pip(host, "install", "--no-deps", "djstack-probe==1.0")
    assert result.rc == 0, result.stderr
    served = host.check_output(f"{VENV}/bin/python -c 'import djstack_probe; print(djstack_probe.SERVED_BY)'")
    assert served == "private index"


def test_requested_build_packages_are_installed(host: Host):
    assert host.package("libffi-dev").is_installed

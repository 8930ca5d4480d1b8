"""The site's certificate from pebble, Let's Encrypt's test CA, on its own host: issued for the
domain and its aliases over HTTP-01, served by nginx with a chain to pebble's root, renewed by
the role's timer without a restart of nginx, and a failed issuance refused on production."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import pytest
from djstack_testlib.nginx import request
from djstack_testlib.site import run_site

# Only the web host: pebble's host is the CA, not the site.
testinfra_hosts = ["ansible://web"]

SERVER = "demo.test"
ALIAS = "www.demo.test"
LIVE = "/etc/letsencrypt/live/demo"
ROOT_FILE = "/root/pebble-root.pem"
RENEW_UNIT = "djstack-acme-renew"
UNREACHABLE = Path(__file__).resolve().parent.parent / "issue_unreachable.yml"

# Fetched on the web host, which trusts pebble's API (prepare.yml); pebble makes a new
# root at each start, so it is read from pebble's management API, never kept.
_FETCH_ROOT = (
    "python3 -c \"import urllib.request; "
    "print(urllib.request.urlopen('https://pebble:15000/roots/0', timeout=10).read().decode())\""
)


@pytest.fixture(scope="module")
def pebble_root(host) -> str:
    pem = host.check_output(_FETCH_ROOT)
    assert "BEGIN CERTIFICATE" in pem
    host.check_output(f"printf '%s\\n' {shlex.quote(pem)} > {ROOT_FILE}")
    return ROOT_FILE


def _served(host, name: str = SERVER, field: str = "-serial") -> str:
    """A field of the certificate nginx serves for `name` (openssl x509 output)."""
    return host.check_output(
        f"openssl s_client -connect 127.0.0.1:443 -servername {name} </dev/null 2>/dev/null"
        f" | openssl x509 -noout {field}")


def _main_pid(host) -> int:
    return int(host.check_output("systemctl show --property MainPID --value nginx"))


def test_served_certificate_is_issued_by_pebble(host):
    assert "Pebble Intermediate CA" in _served(host, field="-issuer")


@pytest.mark.parametrize("name", [SERVER, ALIAS])
def test_served_chain_verifies_against_pebbles_root(host, pebble_root, name):
    # pebble's root as the only trusted CA, with host name checking on.
    result = host.run(f"openssl s_client -connect 127.0.0.1:443 -servername {name} -CAfile {pebble_root}"
                      f" -verify_hostname {name} -verify_return_error </dev/null")
    assert result.rc == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Verify return code: 0 (ok)" in result.stdout


def test_certificate_covers_the_domain_and_its_aliases(host):
    names = _served(host, field="-ext subjectAltName")
    assert f"DNS:{SERVER}" in names
    assert f"DNS:{ALIAS}" in names


def test_nginx_serves_the_acme_files(host):
    config = host.check_output("nginx -T 2>/dev/null")
    assert f"ssl_certificate {LIVE}/fullchain.pem;" in config
    assert f"ssl_certificate_key {LIVE}/privkey.pem;" in config


def test_the_challenge_directory_is_served_over_plain_http(host):
    host.check_output("mkdir -p /var/www/acme/.well-known/acme-challenge"
                      " && echo token.thumbprint > /var/www/acme/.well-known/acme-challenge/probe")
    response = request(host, "/.well-known/acme-challenge/probe", tls=False)
    assert response.status == 200
    assert response.body == b"token.thumbprint\n"


@pytest.mark.parametrize(("directory", "name"), [
    ("/etc/letsencrypt/archive/demo", "privkey*.pem"),
    ("/etc/letsencrypt/accounts", "private_key.json"),
])
def test_key_files_are_owner_only(host, directory, name):
    files = host.check_output(f"find {directory} -name '{name}'").split()
    assert files
    for path in files:
        key = host.file(path)
        assert key.user == "root"
        assert key.mode & 0o077 == 0, f"{path} is {oct(key.mode)}"


def test_renewal_timer_is_enabled_and_waiting(host):
    timer = host.service(f"{RENEW_UNIT}.timer")
    assert timer.is_enabled
    assert timer.is_running


def test_debians_own_certbot_timer_is_off(host):
    assert host.run("systemctl is-enabled certbot.timer").stdout.strip() == "masked"


def test_forced_renewal_by_the_timers_service_is_served_without_a_restart(host):
    serial, pid = _served(host), _main_pid(host)
    dropin = f"/run/systemd/system/{RENEW_UNIT}.service.d"
    host.check_output(f"mkdir -p {dropin} && printf '[Service]\\nEnvironment=ACME_RENEW_ARGS=--force-renewal\\n'"
                      f" > {dropin}/force.conf && systemctl daemon-reload")
    try:
        done = host.run(f"systemctl start {RENEW_UNIT}.service")
        assert done.rc == 0, host.run(f"journalctl -u {RENEW_UNIT}.service -n 40 --no-pager").stdout
    finally:
        host.run(f"rm -rf {dropin} && systemctl daemon-reload")
    # The deploy hook reloads nginx; its new workers take over a moment later.
    for _ in range(40):
        if _served(host) != serial:
            break
        time.sleep(0.25)
    assert _served(host) != serial
    assert _main_pid(host) == pid


def _production_inventory(tmp_path: Path, host) -> str:
    inventory = tmp_path / "production.yml"
    inventory.write_text(f"production:\n  hosts:\n    {host.backend.host}:\n")
    return str(inventory)


def test_failed_issuance_on_production_fails_the_run_saying_what_to_fix(host, tmp_path):
    run = run_site("-i", _production_inventory(tmp_path, host), playbook=UNREACHABLE)
    assert run.rc != 0, run.output[-3000:]
    assert "No certificate for nowhere.demo.test from https://pebble:14000/dir" in run.output
    assert "must resolve (DNS A/AAAA)" in run.output
    assert not host.file("/etc/letsencrypt/live/unreachable").exists


def test_failed_issuance_off_production_warns_and_goes_on(host):
    run = run_site(playbook=UNREACHABLE)
    assert run.rc == 0, run.output[-3000:]
    assert "nginx serves a self-signed certificate until an issuance succeeds" in run.output

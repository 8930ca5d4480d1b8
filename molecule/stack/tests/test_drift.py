"""Drift: tamper with a converged host; --check --diff reports every change and
makes none; a normal run repairs them all; the next run changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from djstack_testlib import nginx
from djstack_testlib.site import Run, run_site

SITE_FILE = "/etc/nginx/sites-enabled/demo.conf"
GUNICORN_CONF = "/etc/demo/gunicorn.conf.py"
ENV_FILE = "/srv/demo/shared/env"
SOCKET_UNIT = "/etc/systemd/system/demo.socket"
# Drop-ins nobody wrote (`systemctl edit` leaves such files): live at the next restart.
STRAY_DROP_INS = (
    "/etc/systemd/system/memcached.service.d/zz-drift.conf",
    "/etc/systemd/system/demo.service.d/override.conf",
)
STRAY_CONFIG = "/etc/demo/stray.py"
# A whole server nobody asked for, live at nginx's next reload.
STRAY_SITE = "/etc/nginx/sites-enabled/stray.conf"
STRAY_PORT = 8088
# Back to the image's one-line list: no security suite, so unattended-upgrades finds nothing.
APT_SOURCES = "/etc/apt/sources.list.d/debian.sources"
APT_LIST = "/etc/apt/sources.list"
TAMPERING = (
    f"echo '# drift: edited by hand' >> {SITE_FILE}",
    f"sed -i 's/^workers = .*/workers = 9/' {GUNICORN_CONF}",
    f"chmod o+r {ENV_FILE}",
    "systemctl disable --now memcached.service",
    f"rm {SOCKET_UNIT}",
    *(f"mkdir -p {path.rsplit('/', 1)[0]} && printf '[Service]\\nEnvironment=DRIFT=1\\n' > {path}"
      for path in STRAY_DROP_INS),
    f"echo 'workers = 9' > {STRAY_CONFIG}",
    f"echo 'server {{ listen {STRAY_PORT}; return 200 drift; }}' > {STRAY_SITE}",
    f"rm {APT_SOURCES} && echo \"deb http://deb.debian.org/debian $(. /etc/os-release; echo $VERSION_CODENAME) main\" > {APT_LIST}"
    " && rm /var/lib/apt/lists/*debian-security*",
)
WATCHED = (SITE_FILE, GUNICORN_CONF, ENV_FILE, SOCKET_UNIT, APT_LIST)


@dataclass
class Drift:
    check: Run
    state_after_check: str
    state_tampered: str
    repair: Run
    after_repair: Run


def host_state(host) -> str:
    """Checksums and modes of the tampered files, and memcached's state."""
    files = host.run(f"stat -c '%n %a' {' '.join(WATCHED)}; md5sum {' '.join(WATCHED)}").stdout
    memcached = host.run("systemctl is-enabled memcached; systemctl is-active memcached").stdout
    strays = host.run(f"ls {' '.join(STRAY_DROP_INS)} {STRAY_CONFIG} {STRAY_SITE} {APT_SOURCES}").stdout
    return files + memcached + strays


@pytest.fixture(scope="module")
def drift(host) -> Drift:
    for command in TAMPERING:
        host.run_expect([0], command)
    tampered = host_state(host)
    check = run_site("--check", "--diff")
    after_check = host_state(host)
    repair = run_site()
    after_repair = run_site()
    return Drift(check, after_check, tampered, repair, after_repair)


def test_check_run_succeeds(drift):
    assert drift.check.rc == 0, drift.check.output[-5000:]


@pytest.mark.parametrize("task", [
    "djstack.stack.nginx : Write the nginx configuration",
    "djstack.stack.gunicorn : Write the gunicorn configuration",
    "djstack.stack.gunicorn : Write the gunicorn socket unit",
    "djstack.stack.django_app : Write the environment file",
    "djstack.stack.memcached : Enable and start memcached",
    "djstack.stack.memcached : Remove unmanaged drop-ins of memcached",
    "djstack.stack.gunicorn : Remove unmanaged drop-ins of the gunicorn service",
    "djstack.stack.gunicorn : Remove unmanaged files of the gunicorn configuration directory",
    "djstack.stack.nginx : Remove unmanaged sites and includes of nginx",
    "djstack.stack.base : Write Debian's apt sources",
    "djstack.stack.base : Empty the one-line apt sources list",
])
def test_check_reports_each_change(drift, task):
    assert task in drift.check.changed_tasks()


@pytest.mark.parametrize("evidence", [
    f"--- before: {SITE_FILE}",
    f"--- before: {GUNICORN_CONF}",
])
def test_check_shows_the_diff(drift, evidence):
    assert evidence in drift.check.output


def test_check_changes_nothing(drift):
    assert drift.state_after_check == drift.state_tampered


def test_normal_run_repairs(drift, host):
    assert drift.repair.rc == 0, drift.repair.output[-5000:]
    assert host.file(ENV_FILE).mode == 0o640
    assert host.file(SOCKET_UNIT).exists
    assert host.service("memcached").is_enabled and host.service("memcached").is_running
    assert "# drift" not in host.file(SITE_FILE).content_string
    assert "workers = 9" not in host.file(GUNICORN_CONF).content_string


@pytest.mark.parametrize("path", [*STRAY_DROP_INS, STRAY_CONFIG, STRAY_SITE])
def test_normal_run_removes_what_nobody_manages(drift, host, path):
    assert not host.file(path).exists


def test_normal_run_puts_the_security_suite_back_in_the_package_lists(drift, host):
    codename = host.system_info.codename
    policy = host.check_output("apt-cache policy")
    assert f"n={codename}-security,l=Debian-Security" in policy
    assert "deb http" not in host.file(APT_LIST).content_string


def test_services_run_without_the_stray_drop_ins(drift, host):
    for unit in ("memcached.service", "demo.service"):
        environment = host.run(f"systemctl show -p Environment {unit}").stdout
        assert "DRIFT=1" not in environment, (unit, environment)


def test_the_stray_server_is_not_live(drift, host):
    assert not host.socket(f"tcp://0.0.0.0:{STRAY_PORT}").is_listening


def test_site_serves_again(drift, host):
    assert host.socket("unix:///run/demo/gunicorn.sock").is_listening
    response = nginx.request(host, "/readyz", host_header="demo.localhost")
    assert response.status == 200


def test_next_run_changes_nothing(drift):
    assert drift.after_repair.rc == 0, drift.after_repair.output[-5000:]
    assert drift.after_repair.recap()["changed"] == 0, drift.after_repair.changed_tasks()

"""Drift: tamper with a converged host. Each kind alone, then all of them together:
--check --diff reports every one and changes nothing; one normal run repairs them
all; the next run changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from djstack_testlib import nginx
from djstack_testlib.site import ROOT, Run, run_site

SITE_FILE = "/etc/nginx/sites-enabled/demo.conf"
NGINX_CONF = "/etc/nginx/nginx.conf"
GUNICORN_CONF = "/etc/demo/gunicorn.conf.py"
ENV_FILE = "/srv/demo/shared/env"
SOCKET_UNIT = "/etc/systemd/system/demo.socket"
SOCKET = "/run/demo/gunicorn.sock"
STATIC_ROOT = "/srv/demo/shared/static"
MEMCACHED_DROP_IN = "/etc/systemd/system/memcached.service.d/zz-drift.conf"
GUNICORN_DROP_IN = "/etc/systemd/system/demo.service.d/override.conf"
STRAY_CONFIG = "/etc/demo/stray.py"
# A whole server nobody asked for, live at nginx's next reload.
STRAY_SITE = "/etc/nginx/sites-enabled/stray.conf"
STRAY_PORT = 8088
APT_SOURCES = "/etc/apt/sources.list.d/debian.sources"
APT_LIST = "/etc/apt/sources.list"
PACKAGE = "unattended-upgrades"
# The live release, whatever its id.
RELEASE = "$(readlink -f /srv/demo/current)"
DROP_IN = "printf '[Service]\\nEnvironment=DRIFT=1\\n'"
# systemd replaces a socket only while its service is stopped.
SOCKET_RESTART = "systemctl daemon-reload && systemctl stop demo.service && systemctl restart demo.socket"


@dataclass(frozen=True)
class Kind:
    """One kind of drift: how to make it, which tier's check run must report it alone
    (through which tasks), and how to take it back so the next kind starts clean."""

    name: str
    klass: str
    tier: str
    apply: str
    tasks: tuple[str, ...]
    undo: str = ""
    # Saved (tar, owners and modes kept) before `apply` and put back after `undo`.
    saved: str = ""


KINDS = (
    Kind("site-edited", "contents", "web", f"echo '# drift: edited by hand' >> {SITE_FILE}",
         ("djstack.stack.nginx : Write the nginx configuration",), saved=SITE_FILE),
    Kind("nginx-conf-edited", "contents", "web", f"sed -i 's/worker_connections [0-9]*/worker_connections 7/' {NGINX_CONF}",
         ("djstack.stack.nginx : Write the nginx configuration",), saved=NGINX_CONF),
    Kind("gunicorn-conf-edited", "contents", "app", f"sed -i 's/^workers = .*/workers = 9/' {GUNICORN_CONF}",
         ("djstack.stack.gunicorn : Write the gunicorn configuration",), saved=GUNICORN_CONF),
    # Live at once: the socket is re-created world-writable, as a restart after the edit would.
    Kind("socket-unit-edited", "unit", "app",
         f"cp -a {SOCKET_UNIT} /root/demo.socket && sed -i 's/^SocketMode=.*/SocketMode=0666/' {SOCKET_UNIT}"
         f" && {SOCKET_RESTART}",
         ("djstack.stack.gunicorn : Write the gunicorn socket unit",),
         undo=f"mv /root/demo.socket {SOCKET_UNIT} && {SOCKET_RESTART}"),
    Kind("env-world-readable", "ownership", "app", f"chmod o+r {ENV_FILE}",
         ("djstack.stack.django_app : Write the environment file",), undo=f"chmod o-r {ENV_FILE}"),
    # "Permission denied" for the app at every import; `check --deploy` needs it repaired first.
    Kind("release-owner-and-mode", "ownership", "app", f"chown -R root:root {RELEASE} && chmod 0700 {RELEASE}",
         ("djstack.stack.django_app : Keep every release read-only to the app",), saved=RELEASE),
    # The app could rewrite what nginx serves, and nginx can no longer read it.
    Kind("static-owner-and-mode", "ownership", "app", f"chown -R demo:demo {STATIC_ROOT} && chmod 0700 {STATIC_ROOT}",
         ("djstack.stack.django_app : Keep the static files root's and readable by nginx",), saved=STATIC_ROOT),
    Kind("memcached-disabled", "unit", "cache", "systemctl disable --now memcached.service",
         ("djstack.stack.memcached : Enable and start memcached",),
         undo="systemctl enable --now memcached.service"),
    Kind("nginx-masked", "unit", "web", "systemctl mask --now nginx.service",
         ("djstack.stack.nginx : Enable and start nginx",),
         undo="systemctl unmask nginx.service && systemctl start nginx.service"),
    Kind("socket-stopped", "unit", "app", "systemctl stop demo.socket demo.service",
         ("djstack.stack.gunicorn : Enable and start the gunicorn socket",),
         undo="systemctl start demo.socket"),
    # apt's postinst may rewrite apt.conf.d on the way back: saved with it.
    Kind("package-removed", "package", "base", f"apt-get remove -qq -y {PACKAGE}",
         ("djstack.stack.base : Install the base packages",),
         undo=f"apt-get install -qq -y --no-install-recommends {PACKAGE}", saved="/etc/apt/apt.conf.d"),
    Kind("memcached-drop-in", "stray entry", "cache",
         f"mkdir -p {MEMCACHED_DROP_IN.rsplit('/', 1)[0]} && {DROP_IN} > {MEMCACHED_DROP_IN}",
         ("djstack.stack.memcached : Remove unmanaged drop-ins of memcached",),
         undo=f"rm {MEMCACHED_DROP_IN}"),
    Kind("gunicorn-drop-in", "stray entry", "app",
         f"mkdir -p {GUNICORN_DROP_IN.rsplit('/', 1)[0]} && {DROP_IN} > {GUNICORN_DROP_IN}",
         ("djstack.stack.gunicorn : Remove unmanaged drop-ins of the gunicorn service",),
         undo=f"rm {GUNICORN_DROP_IN}"),
    Kind("stray-config", "stray entry", "app", f"echo 'workers = 9' > {STRAY_CONFIG}",
         ("djstack.stack.gunicorn : Remove unmanaged files of the gunicorn configuration directory",),
         undo=f"rm {STRAY_CONFIG}"),
    Kind("stray-site", "stray entry", "web",
         f"echo 'server {{ listen {STRAY_PORT}; return 200 drift; }}' > {STRAY_SITE}",
         ("djstack.stack.nginx : Remove unmanaged sites and includes of nginx",), undo=f"rm {STRAY_SITE}"),
    # The image's one-line list: no security suite, so unattended-upgrades finds nothing.
    Kind("apt-sources", "apt sources", "base",
         f"rm {APT_SOURCES} && echo \"deb http://deb.debian.org/debian $(. /etc/os-release; echo $VERSION_CODENAME)"
         f" main\" > {APT_LIST} && rm /var/lib/apt/lists/*debian-security*",
         ("djstack.stack.base : Write Debian's apt sources", "djstack.stack.base : Empty the one-line apt sources list"),
         undo="true", saved=f"{APT_SOURCES} {APT_LIST} $(ls -d /var/lib/apt/lists/*debian-security*)"),
    Kind("firewall-flushed", "firewall", "base", "nft flush ruleset",
         ("djstack.stack.base : Load the firewall ruleset where the kernel's differs",),
         undo="nft -f /etc/nftables.conf"),
    Kind("user-shell", "user", "app", "usermod -s /bin/bash demo",
         ("djstack.stack.django_app : Create the app user",), undo="usermod -s /usr/sbin/nologin demo"),
    Kind("user-groups", "user", "app", "usermod -aG www-data,adm demo",
         ("djstack.stack.django_app : Create the app user",), undo="usermod -G '' demo"),
)
STATE = " ; ".join((
    f"md5sum {SITE_FILE} {NGINX_CONF} {GUNICORN_CONF} {SOCKET_UNIT} {APT_LIST} 2>&1",
    f"stat -c '%n %U:%G %a' {ENV_FILE} {SOCKET} {RELEASE} {RELEASE}/manage.py {STATIC_ROOT} 2>&1",
    f"find {STATIC_ROOT} -printf '%U:%G %m\\n' | sort | uniq -c",
    f"ls {MEMCACHED_DROP_IN} {GUNICORN_DROP_IN} {STRAY_CONFIG} {STRAY_SITE} {APT_SOURCES} 2>&1",
    "ls /var/lib/apt/lists | grep -c security",
    "for u in memcached nginx demo.socket; do echo $u $(systemctl is-enabled $u) $(systemctl is-active $u); done",
    f"dpkg-query -W -f '${{Status}}\\n' {PACKAGE}",
    "nft list ruleset | md5sum",
    "getent passwd demo; id demo",
))


def host_state(host) -> str:
    """What every kind tampers with: checksums, owners and modes, units, packages,
    the firewall and the app user."""
    return host.run(STATE).stdout


def save(host, kind: Kind) -> None:
    if kind.saved:
        host.run_expect([0], f"tar -cpf /root/drift-{kind.name}.tar -P {kind.saved}")


def restore(host, kind: Kind) -> None:
    host.run_expect([0], kind.undo or "true")
    if kind.saved:
        host.run_expect([0], f"tar -xpf /root/drift-{kind.name}.tar -P && rm /root/drift-{kind.name}.tar")


@dataclass
class Alone:
    check: Run
    changed_nothing: bool


@pytest.fixture(scope="module")
def alone(host) -> dict[str, Alone]:
    """Each kind on its own, reported by the check run of the tier that owns it."""
    clean = host_state(host)
    results = {}
    for kind in KINDS:
        save(host, kind)
        host.run_expect([0], kind.apply)
        tampered = host_state(host)
        check = run_site("--check", "--diff", playbook=ROOT / "playbooks" / f"{kind.tier}.yml")
        results[kind.name] = Alone(check, host_state(host) == tampered)
        restore(host, kind)
    assert host_state(host) == clean, "a kind was not taken back"
    return results


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_each_kind_alone_is_reported(alone, kind):
    check = alone[kind.name].check
    assert check.rc == 0, check.output[-5000:]
    assert set(kind.tasks) <= check.changed_tasks(), check.changed_tasks()


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_each_kind_alone_check_changes_nothing(alone, kind):
    assert alone[kind.name].changed_nothing


def test_the_suite_covers_every_class_of_drift():
    assert {k.klass for k in KINDS} == {"contents", "stray entry", "ownership", "unit", "package",
                                        "firewall", "user", "apt sources"}
    assert len(KINDS) >= 14


@dataclass
class Together:
    check: Run
    changed_nothing: bool
    repair: Run
    after_repair: Run


@pytest.fixture(scope="module")
def together(host, alone) -> Together:
    for kind in KINDS:
        host.run_expect([0], kind.apply)
    tampered = host_state(host)
    check = run_site("--check", "--diff")
    changed_nothing = host_state(host) == tampered
    repair = run_site()
    return Together(check, changed_nothing, repair, run_site())


def test_check_run_fails_for_the_drift(together):
    """A scheduled --check alerts: the drift report fails the run."""
    assert together.check.rc == 2, together.check.output[-5000:]
    assert "failed=1" in together.check.output.split("PLAY RECAP", 1)[-1]


@pytest.mark.parametrize("task", sorted({t for k in KINDS for t in k.tasks}))
def test_check_reports_each_change(together, task):
    assert task in together.check.changed_tasks()


@pytest.mark.parametrize("item", [
    f"file {SITE_FILE}", f"file {NGINX_CONF}", f"package {PACKAGE}",
    "service memcached.service", "service nginx.service", "firewall /etc/nftables.conf",
    f"stray entry {STRAY_SITE.rsplit('/', 1)[0]}", "user demo", f"ownership {STATIC_ROOT}",
])
def test_check_summary_names_each_item(together, item):
    summary = together.check.drift_summary()
    assert any(line.startswith(f"{item} (") for line in summary), summary


@pytest.mark.parametrize("evidence", [f"--- before: {SITE_FILE}", f"--- before: {GUNICORN_CONF}"])
def test_check_shows_the_diff(together, evidence):
    assert evidence in together.check.output


def test_check_changes_nothing(together):
    assert together.changed_nothing


def test_normal_run_repairs_and_ends_without_failure(together):
    assert together.repair.rc == 0, together.repair.output[-5000:]


def test_summary_after_the_next_run_names_nothing(together):
    assert together.after_repair.drift_summary() == [], together.after_repair.drift_summary()


def test_next_run_changes_nothing(together):
    assert together.after_repair.rc == 0, together.after_repair.output[-5000:]
    assert together.after_repair.recap()["changed"] == 0, together.after_repair.changed_tasks()


def test_file_contents_are_back(together, host):
    assert "# drift" not in host.file(SITE_FILE).content_string
    assert "worker_connections 7;" not in host.file(NGINX_CONF).content_string
    assert "workers = 9" not in host.file(GUNICORN_CONF).content_string


def test_env_file_is_the_groups_only_again(together, host):
    assert host.file(ENV_FILE).mode == 0o640


def test_live_release_is_the_apps_to_read_again(together, host):
    release = host.check_output("readlink -f /srv/demo/current")
    owners = host.check_output(f"find {release} -printf '%u:%g\\n' | sort -u")
    assert owners == "root:demo"
    assert host.file(release).mode == 0o750


def test_static_files_are_roots_and_readable_again(together, host):
    owners = host.check_output(f"find {STATIC_ROOT} -printf '%u:%g\\n' | sort -u")
    assert owners == "root:root"
    assert host.file(STATIC_ROOT).mode == 0o755


def test_socket_is_re_created_with_its_mode(together, host):
    socket = host.file(SOCKET)
    assert (socket.mode, socket.group) == (0o660, "www-data")


@pytest.mark.parametrize("unit", ["memcached.service", "nginx.service", "demo.socket", "nftables.service"])
def test_units_are_enabled_and_running(together, host, unit):
    service = host.service(unit)
    assert service.is_enabled and service.is_running


def test_package_is_installed_again(together, host):
    assert host.package(PACKAGE).is_installed


def test_firewall_ruleset_is_loaded_again(together, host):
    assert "policy drop" in host.check_output("nft list table inet djstack_filter")


def test_app_user_has_no_shell_and_no_extra_group(together, host):
    user = host.user("demo")
    assert (user.shell, user.groups) == ("/usr/sbin/nologin", ["demo"])


@pytest.mark.parametrize("path", [MEMCACHED_DROP_IN, GUNICORN_DROP_IN, STRAY_CONFIG, STRAY_SITE])
def test_normal_run_removes_what_nobody_manages(together, host, path):
    assert not host.file(path).exists


def test_normal_run_puts_the_security_suite_back_in_the_package_lists(together, host):
    codename = host.system_info.codename
    policy = host.check_output("apt-cache policy")
    assert f"n={codename}-security,l=Debian-Security" in policy
    assert "deb http" not in host.file(APT_LIST).content_string


def test_services_run_without_the_stray_drop_ins(together, host):
    for unit in ("memcached.service", "demo.service"):
        environment = host.run(f"systemctl show -p Environment {unit}").stdout
        assert "DRIFT=1" not in environment, (unit, environment)


def test_the_stray_server_is_not_live(together, host):
    assert not host.socket(f"tcp://0.0.0.0:{STRAY_PORT}").is_listening


def test_page_is_served_again(together, host):
    response = nginx.request(host, "/products/", host_header="demo.localhost")
    assert response.status == 200


def test_static_file_is_served_again(together, host):
    response = nginx.request(host, "/static/admin/css/base.css", host_header="demo.localhost")
    assert response.status == 200


def test_cache_answers_again(together, host):
    response = nginx.request(host, "/readyz", host_header="demo.localhost")
    assert response.status == 200
    assert json.loads(response.body)["checks"]["cache"] == "ok"


@dataclass
class BrokenApp:
    run: Run
    nginx_conf: str
    memcached_running: bool


@pytest.fixture(scope="module")
def broken_app(host, together) -> BrokenApp:
    """Drift in the web and cache tiers, and a project step that fails in the app tier."""
    host.run_expect([0], f"sed -i 's/worker_connections [0-9]*/worker_connections 7/' {NGINX_CONF}")
    host.run_expect([0], "systemctl stop memcached.service")
    failing = '{"django_app_manage_commands": [{"argv": ["shell", "--command", "raise SystemExit(3)"], "changed": "x"}]}'
    run = run_site("--extra-vars", failing)
    return BrokenApp(run, host.file(NGINX_CONF).content_string, host.service("memcached").is_running)


def test_a_failing_app_tier_fails_the_run_naming_the_host_and_step(broken_app):
    assert broken_app.run.rc == 2, broken_app.run.output[-5000:]
    assert "fatal: [djstack-stack-" in broken_app.run.output
    assert "Run the project's manage commands" in broken_app.run.output


def test_a_failing_app_tier_leaves_the_web_and_cache_tiers_repaired(broken_app):
    assert "worker_connections 7;" not in broken_app.nginx_conf
    assert broken_app.memcached_running


def test_a_failing_app_tier_leaves_the_site_serving(broken_app, host):
    response = nginx.request(host, "/products/", host_header="demo.localhost")
    assert response.status == 200

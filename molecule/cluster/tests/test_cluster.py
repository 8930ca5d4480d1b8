"""A cluster from the inventory alone: the load balancer spreads the site over both app hosts
and serves the static files itself, the app hosts share one cache and one database, each
private port admits only the tier that uses it, and an app host can go away under load
without a failed request.

Then, under load through the balancer, the rolling story: deploy.yml of v2 (with a new
migration) one host at a time, a v3 that fails on the second host only, and rollback.yml."""

from __future__ import annotations

import os
import re
import shlex
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import testinfra
from testinfra.host import Host

from djstack_testlib import load, nginx
from djstack_testlib.django_app import manage
from djstack_testlib.site import ROOT as REPO
from djstack_testlib.site import Run, app_version, run_site

NET = os.environ.get("DJSTACK_NET", "10.213.12")
ADDRESS = {"lb": f"{NET}.10", "app1": f"{NET}.21", "app2": f"{NET}.22", "cache": f"{NET}.30", "db": f"{NET}.40"}
DOMAIN = "demo.localhost"
ROOT = "/srv/demo"
STATIC = f"{ROOT}/shared/static"
MEDIA = f"{ROOT}/shared/media"


def _members(group: str) -> list[Host]:
    hosts = testinfra.get_hosts([f"ansible://{group}"], ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"],
                                sudo=False)
    return sorted(hosts, key=lambda h: h.backend.host)


@pytest.fixture(scope="module")
def lb() -> Host:
    return _members("web")[0]


@pytest.fixture(scope="module")
def apps() -> list[Host]:
    hosts = _members("app")
    assert [h.backend.host.rsplit("-", 1)[-1] for h in hosts] == ["app1", "app2"]
    return hosts


@pytest.fixture(scope="module")
def cache() -> Host:
    return _members("cache")[0]


def _connects(client: Host, address: str, port: int) -> bool:
    """Whether a TCP connection from `client` gets through within 3 s (a dropped SYN times out)."""
    script = ("import socket, sys\n"
              "try:\n"
              f"    socket.create_connection(({address!r}, {port}), timeout=3).close()\n"
              "except OSError:\n"
              "    sys.exit(1)\n")
    return client.run(f"python3 -c {shlex.quote(script)}").rc == 0


def _through_lb(lb: Host, path: str, count: int = 1) -> list[nginx.Response]:
    return nginx.requests(lb, path, host_header=DOMAIN, count=count)


def _gunicorn_log(app: Host, marker: str) -> int:
    """How many of gunicorn's access log lines on `app` name `marker`."""
    return int(app.run(f"journalctl -u demo.service -o cat --no-pager | grep -cF {shlex.quote(marker)}").stdout or 0)


def test_a_page_through_the_balancer_answers_200(lb):
    response = _through_lb(lb, "/products/")[0]
    assert response.status == 200, (response.status, response.error, response.detail)
    assert response.header("X-App-Release")


def test_requests_through_the_balancer_reach_both_app_hosts(lb, apps):
    marker = f"cluster-probe-{uuid.uuid4().hex}"
    responses = _through_lb(lb, f"/healthz?{marker}", count=12)
    assert [r.status for r in responses] == [200] * 12
    time.sleep(1)  # the access log line is written after the response
    served = [_gunicorn_log(app, marker) for app in apps]
    assert all(n > 0 for n in served) and sum(served) == 12, served


def test_the_balancer_serves_the_static_files_itself(lb, apps):
    name = apps[0].check_output(f"cd {STATIC} && find . -path './admin/css/base.*.css' -printf '%P\\n' | head -1")
    assert name, "no hashed admin stylesheet on the app host"
    response = _through_lb(lb, f"/static/{name}")[0]
    assert response.status == 200
    assert response.body == apps[0].file(f"{STATIC}/{name}").content
    # Django stamps what it answers; nginx's own files have no release header.
    assert response.header("X-App-Release") is None
    assert "immutable" in response.header("Cache-Control")


def test_the_balancers_static_files_are_roots_and_readable_by_nginx(lb):
    listed = lb.check_output(f"find {STATIC} -printf '%u:%g %m %y\\n' | sort | uniq -c")
    kinds = {line.split(None, 1)[1] for line in listed.splitlines()}
    assert kinds == {"root:root 755 d", "root:root 644 f"}, listed


def test_a_media_file_on_the_shared_storage_is_served_by_the_balancer(lb, apps):
    name = f"cluster-{uuid.uuid4().hex}.txt"
    apps[1].check_output(f"runuser -u demo -- sh -c 'printf shared > {MEDIA}/{name}'")
    try:
        response = _through_lb(lb, f"/media/{name}")[0]
        assert (response.status, response.body) == (200, b"shared")
    finally:
        apps[1].run(f"rm -f {MEDIA}/{name}")


def test_a_value_cached_through_one_app_host_is_read_through_the_other(apps):
    value = uuid.uuid4().hex
    written = manage(apps[0], ROOT, "shell", "-c",
                     f"from django.core.cache import cache; cache.set('cluster-probe', {value!r}, 300)")
    assert written.rc == 0, written.stderr
    read = manage(apps[1], ROOT, "shell", "-c",
                  "from django.core.cache import cache; print(cache.get('cluster-probe'))")
    assert read.rc == 0, read.stderr
    assert read.stdout.strip().splitlines()[-1] == value


def test_both_app_hosts_use_the_database_host(apps):
    for app in apps:
        result = manage(app, ROOT, "shell", "-c",
                        "from django.db import connection; connection.ensure_connection();"
                        " print(connection.vendor, connection.settings_dict['HOST'])")
        assert result.rc == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1].split() == ["postgresql", ADDRESS["db"]]


def test_memcached_admits_the_app_hosts_and_refuses_the_balancer(lb, apps):
    assert _connects(apps[1], ADDRESS["cache"], 11211)
    assert not _connects(lb, ADDRESS["cache"], 11211)


def test_postgresql_admits_the_app_hosts_and_refuses_the_balancer(lb, apps):
    assert _connects(apps[1], ADDRESS["db"], 5432)
    assert not _connects(lb, ADDRESS["db"], 5432)


def test_the_app_port_admits_the_balancer_and_refuses_the_cache_host(lb, cache):
    assert _connects(lb, ADDRESS["app2"], 8000)
    assert not _connects(cache, ADDRESS["app2"], 8000)


def test_an_app_host_going_away_under_load_fails_no_request(lb, apps):
    load.start(lb, DOMAIN, ["/products/", "/healthz"], connections=4, max_seconds=120)
    try:
        time.sleep(3)
        apps[1].check_output("systemctl stop demo.socket demo.service")
        time.sleep(8)
    finally:
        apps[1].check_output("systemctl start demo.socket")
        time.sleep(3)
        tally = load.stop(lb)
    assert tally.requests > 100, tally
    assert tally.failed == 0, tally


# --- The rolling story -------------------------------------------------------------------

DEPLOY = REPO / "playbooks" / "deploy.yml"
ROLLBACK = REPO / "playbooks" / "rollback.yml"
LOAD_PATHS = ["/products/", "/healthz", "/about/"]
# A release refuses to start on a host with this file (v3): it fails there and nowhere else.
REFUSE = "/etc/djstack-test-refuse-release"


@dataclass
class Story:
    runs: dict[str, Run] = field(default_factory=dict)
    loads: dict[str, load.Tally] = field(default_factory=dict)
    # What each app host's `current` points at after each step.
    current: dict[str, list[str]] = field(default_factory=dict)


def _with_migration(tree: Path) -> None:
    (tree / "catalog" / "migrations" / "0002_cluster_probe.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('catalog', '0001_initial')]\n"
        "    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]\n")


def _refusing(tree: Path) -> None:
    with (tree / "demo" / "settings.py").open("a") as settings:
        settings.write(f"\n\nimport os as _refuse_os\n\nif _refuse_os.path.exists({REFUSE!r}):\n"
                       "    raise RuntimeError('this release refuses this host on purpose')\n")


def _current(app: Host) -> str:
    return app.check_output(f"readlink {ROOT}/current").rsplit("/", 1)[-1]


def _step(lb: Host, apps: list[Host], story: Story, name: str, *args: str, playbook: Path = DEPLOY) -> Run:
    load.start(lb, DOMAIN, LOAD_PATHS, connections=4, max_seconds=900)
    try:
        run = run_site(*args, playbook=playbook)
    finally:
        story.loads[name] = load.stop(lb)
    story.runs[name] = run
    story.current[name] = [_current(app) for app in apps]
    return run


def _task_hosts(run: Run, task: str) -> dict[str, str]:
    """host -> status (ok, changed, skipping, failed) of every run of the task named `task`."""
    statuses: dict[str, str] = {}
    for block in re.split(r"^TASK \[", run.output, flags=re.M)[1:]:
        name, _, body = block.partition("]")
        if name.strip().endswith(task):
            for status, host in re.findall(r"^(ok|changed|skipping|failed|fatal): \[([^\]]+)\]", body, re.M):
                statuses[host] = status
    return statuses


@pytest.fixture(scope="module")
def story(lb, apps, tmp_path_factory) -> Story:
    base = tmp_path_factory.mktemp("versions")
    s = Story()
    s.current["converge"] = [_current(app) for app in apps]

    v2 = app_version(base, "v2")
    _with_migration(v2)
    run = _step(lb, apps, s, "v2", "-e", f"django_app_local_path={v2}")
    assert run.rc == 0, run.output[-4000:]

    v3 = app_version(base, "v3")
    _refusing(v3)
    apps[1].check_output(f"touch {REFUSE}")
    try:
        _step(lb, apps, s, "v3", "-e", f"django_app_local_path={v3}")
    finally:
        apps[1].check_output(f"rm -f {REFUSE}")

    _step(lb, apps, s, "rollback", playbook=ROLLBACK)
    return s


@pytest.mark.parametrize("name", ["v2", "v3", "rollback"])
def test_no_request_through_the_balancer_fails_during_the_run(story, name):
    tally = story.loads[name]
    assert tally.requests > 100, tally
    assert tally.failed == 0, tally


def test_a_rolling_deploy_puts_both_app_hosts_on_one_new_release(story):
    first, second = story.current["v2"]
    assert first == second, story.current
    assert first not in story.current["converge"], story.current


def test_a_rolling_deploy_switches_one_app_host_at_a_time(story):
    # serial 1: the switch of the first host is over before the second builds.
    output = story.runs["v2"].output
    assert output.count("PLAY [Deploy the app]") == 2, output[-3000:]


def test_a_rolling_deploy_migrates_from_one_host_only(story, apps):
    migrated = _task_hosts(story.runs["v2"], "Apply the database migrations")
    ran = {host: status for host, status in migrated.items() if status != "skipping"}
    assert ran == {apps[0].backend.host: "changed"}, migrated


def test_a_release_failing_on_the_second_host_fails_the_deploy_naming_it(story, apps):
    run = story.runs["v3"]
    assert run.rc != 0
    assert f"The deploy stopped: it failed on {apps[1].backend.host}." in run.output
    assert "this release refuses this host on purpose" in run.output
    assert f"Put back on the release they served before: {apps[0].backend.host}." in run.output


def test_a_release_failing_on_the_second_host_leaves_both_on_the_old_release(story):
    assert story.current["v3"] == story.current["v2"], story.current


def test_the_first_host_served_the_failed_release_before_it_was_put_back(story):
    # The roll really had reached the first host: the put-back is what the test is about.
    served = set(story.loads["v3"].releases)
    assert len(served) == 2 and story.current["v2"][0] in served, story.loads["v3"]


def test_rollback_puts_both_app_hosts_on_the_release_before(story):
    run = story.runs["rollback"]
    assert run.rc == 0, run.output[-4000:]
    assert story.current["rollback"] == story.current["converge"], story.current

"""Zero-downtime deploys and rollbacks of the sample app, seen by users through nginx.

The module plays one story on a host converged with release 1 (the sample app):
v2 under load, a v3 whose migration fails, a v4 that is not ready, a release whose
pages answer 500 while its /readyz is fine ("broken-pages"), a v5 whose check
through nginx fails after the switch, two rollbacks, the host lock and keep-N
pruning, a deploy in maintenance, then a v9 whose migration deletes data and the
restore of its pre-migrate backup, the restore of a backup taken by hand (by its name),
and the refused restore of a backup whose release was pruned. Each test asserts one
behaviour of that story.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from djstack_testlib import load, nginx
from djstack_testlib.site import ROOT, Run, app_version, inventory, run_site

DOMAIN = "demo.localhost"
APP_ROOT = "/srv/demo"
DEPLOY = ROOT / "playbooks" / "deploy.yml"
ROLLBACK = ROOT / "playbooks" / "rollback.yml"
RESTORE = ROOT / "playbooks" / "restore.yml"
BACKUPS = "/var/backups/djstack/demo"
WITNESS = "0 restore witness"
LOCK = "/run/lock/djstack.lock"
LOAD_PATHS = ["/products/", "/readyz", "/about/"]


@dataclass
class Story:
    releases: dict[str, str] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    loads: dict[str, load.Tally] = field(default_factory=dict)
    serving: dict[str, str] = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    history_before_v6: list[dict] = field(default_factory=list)
    present: set[str] = field(default_factory=set)


def _failing_migration(tree: Path) -> None:
    (tree / "catalog" / "migrations" / "0099_broken.py").write_text(
        "from django.db import migrations\n\n\n"
        "def fail(apps, schema_editor):\n"
        "    raise RuntimeError('v3 migration is broken on purpose')\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('catalog', '0001_initial')]\n"
        "    operations = [migrations.RunPython(fail, migrations.RunPython.noop)]\n")


def _wrong_cache(tree: Path) -> None:
    """A release whose cache setting points at a server that is not there: not ready."""
    settings = tree / "demo" / "settings.py"
    settings.write_text(settings.read_text().replace(
        'env_str("DJANGO_CACHE_LOCATION")', '"unix:/run/no-such-memcached.sock"'))


def _broken_pages(tree: Path) -> None:
    """A release that is ready (/readyz answers 200 with its id) whose pages raise:
    the home page (the default smoke path, a redirect in the sample app) and the product list."""
    with (tree / "catalog" / "views.py").open("a") as views:
        views.write("\n\ndef product_list(request):\n"
                    "    raise RuntimeError('the product list is broken on purpose')\n")
    with (tree / "demo" / "urls.py").open("a") as urls:
        # The first pattern that matches wins: this one goes before the redirect.
        urls.write("\n\ndef broken_home(request):\n"
                   "    raise RuntimeError('the home page is broken on purpose')\n\n\n"
                   "urlpatterns.insert(0, path('', broken_home))\n")


def _serving(host) -> str:
    return nginx.request(host, "/readyz", host_header=DOMAIN).header("X-App-Release")


def _deploy(host, story: Story, name: str, *args: str, playbook: Path = DEPLOY, under_load: bool = True) -> Run:
    if under_load:
        # Four users, each from an address of its own and under the site's rate limit
        # (load.start's default pause): nginx limits loopback like any other address.
        load.start(host, DOMAIN, LOAD_PATHS, connections=4)
    try:
        run = run_site(*args, playbook=playbook)
    finally:
        if under_load:
            story.loads[name] = load.stop(host)
    story.runs[name] = run
    story.serving[name] = _serving(host)
    return run


@pytest.fixture(scope="module")
def story(host, tmp_path_factory) -> Story:
    base = tmp_path_factory.mktemp("versions")
    s = Story()
    s.releases["v1"] = _serving(host)
    s.serving["converge"] = s.releases["v1"]

    run = _deploy(host, s, "v2", "-e", f"django_app_local_path={app_version(base, 'v2')}")
    assert run.rc == 0, run.output[-4000:]
    s.releases["v2"] = s.serving["v2"]

    v3 = app_version(base, "v3")
    _failing_migration(v3)
    _deploy(host, s, "v3", "-e", f"django_app_local_path={v3}")

    v4 = app_version(base, "v4")
    _wrong_cache(v4)
    _deploy(host, s, "v4", "-e", f"django_app_local_path={v4}")

    broken_pages = app_version(base, "broken-pages")
    _broken_pages(broken_pages)
    _deploy(host, s, "broken-pages", "-e", f"django_app_local_path={broken_pages}")

    # A good release whose check through nginx fails (a wrong path here): put back after the switch.
    _deploy(host, s, "v5", "-e", f"django_app_local_path={app_version(base, 'v5')}", "-e", "nginx_verify_path=/no-such-page")

    s.history_before_v6 = json.loads(host.file(f"{APP_ROOT}/releases.json").content_string)
    _deploy(host, s, "rollback", playbook=ROLLBACK)
    _deploy(host, s, "rollback-named", "-e", f"release={s.releases['v2']}", playbook=ROLLBACK)

    # Somebody else's deploy holds the lock: refused, then broken on purpose.
    host.check_output(f"echo '{{\"token\": \"other\", \"owner\": \"alice on laptop\", \"since\": \"x\"}}' > {LOCK}")
    v6 = app_version(base, "v6")
    _deploy(host, s, "locked", "-e", f"django_app_local_path={v6}", under_load=False)
    run = _deploy(host, s, "v6", "-e", f"django_app_local_path={v6}", "-e", "host_lock_break=true",
                  "-e", "django_app_keep_releases=3")
    assert run.rc == 0, run.output[-4000:]
    s.releases["v6"] = s.serving["v6"]

    s.history = json.loads(host.file(f"{APP_ROOT}/releases.json").content_string)
    s.present = set(host.check_output(f"ls {APP_ROOT}/releases").split())
    return s


@pytest.fixture(scope="module")
def self_switched(story, host, tmp_path_factory) -> Run:
    """django_app switching to its own release (django_app_activate, as when the role is used
    on its own), then failing to prune, inside a deploy."""
    # After v6 (keep 3) pruning v7's predecessors removes v1 first; a file system mounted
    # over v1's directory cannot be removed, and hides (so keeps) v1's files meanwhile.
    doomed = f"{APP_ROOT}/releases/{story.releases['v1']}"
    host.check_output(f"mount -t tmpfs -o size=1m djstack-prune-blocker {doomed}")
    try:
        return run_site("-e", f"django_app_local_path={app_version(tmp_path_factory.mktemp('v7'), 'v7')}",
                        # JSON: a key=value "true" would be a string, which a conditional refuses.
                        "-e", json.dumps({"django_app_activate": True, "django_app_keep_releases": 3}),
                        playbook=DEPLOY)
    finally:
        host.check_output(f"umount {doomed}")


@pytest.mark.parametrize("name", ["v2", "v3", "v4", "broken-pages", "v5", "rollback", "rollback-named", "v6"])
def test_no_request_fails_during_the_run(story, name):
    tally = story.loads[name]
    assert tally.requests > 0
    assert tally.failed == 0, tally


def test_a_good_release_is_served_after_its_deploy(story):
    assert story.releases["v2"] != story.releases["v1"]
    assert story.serving["v2"] == story.releases["v2"]


@pytest.mark.parametrize(("name", "step"), [
    ("v3", "Apply the database migrations"),
    ("v4", "is not ready"),
    ("broken-pages", "its smoke path / answered 500"),
    ("v5", "/no-such-page through nginx"),
])
def test_a_broken_release_fails_the_run_saying_what_failed(story, name, step):
    run = story.runs[name]
    assert run.rc != 0
    assert step in run.output
    assert f"Serving now: release {story.releases['v2']}" in run.output


@pytest.mark.parametrize("name", ["v3", "v4", "broken-pages"])
def test_a_release_failing_before_the_switch_never_serves(story, name):
    assert story.loads[name].releases == {story.releases["v2"]: story.loads[name].requests}


def test_a_release_failing_after_the_switch_is_replaced_by_the_one_before(story):
    assert story.serving["v5"] == story.releases["v2"]
    assert story.releases["v2"] in story.loads["v5"].releases


@pytest.mark.parametrize(("position", "reason"), [
    (-4, "Apply the database migrations"),
    (-3, "is not ready: on its side socket http://localhost/readyz"),
    (-2, "its smoke path / answered 500"),
    (-1, "/no-such-page through nginx"),
])
def test_broken_releases_are_recorded_as_failed_with_the_reason(story, position, reason):
    entry = sorted(story.history_before_v6, key=lambda e: e["time"])[position]
    assert entry["status"] == "failed"
    assert reason in entry["reason"]


def test_rollback_goes_to_the_release_before(story):
    assert story.runs["rollback"].rc == 0, story.runs["rollback"].output[-3000:]
    assert story.serving["rollback"] == story.releases["v1"]


def test_rollback_to_a_named_release(story):
    assert story.runs["rollback-named"].rc == 0, story.runs["rollback-named"].output[-3000:]
    assert story.serving["rollback-named"] == story.releases["v2"]


def test_a_held_lock_refuses_the_deploy_and_names_its_holder(story):
    run = story.runs["locked"]
    assert run.rc != 0
    assert "alice on laptop" in run.output
    assert story.serving["locked"] == story.releases["v2"]


def test_a_broken_lock_lets_the_deploy_through_and_is_given_back(story, host):
    assert story.serving["v6"] == story.releases["v6"] != story.releases["v2"]
    assert not host.file(LOCK).exists


def test_pruning_keeps_n_good_releases_and_drops_failed_ones(story):
    assert story.present == {story.releases["v6"], story.releases["v2"], story.releases["v1"]}
    assert {e["status"] for e in story.history} == {"active", "previous", "inactive"}


def test_old_pages_still_find_their_assets(story, host):
    """v1's hashed CSS, linked by pages still open in browsers, is served after later deploys."""
    manifest = json.loads(host.file(f"{APP_ROOT}/releases/{story.releases['v1']}/staticfiles.json").content_string)
    response = nginx.request(host, f"/static/{manifest['paths']['catalog/css/site.css']}", host_header=DOMAIN)
    assert response.status == 200


def test_a_failure_after_its_own_switch_says_it_was_switched_to_and_what_serves(story, self_switched):
    run = self_switched
    assert run.rc != 0
    assert '"Prune old releases" after the switch to it' in run.output, run.output[-4000:]
    assert "current is back on the release that served before it" in run.output
    assert f"Serving now: release {story.releases['v6']}" in run.output
    assert "not switched to" not in run.output



@pytest.fixture(scope="module")
def in_maintenance(story, self_switched, host, tmp_path_factory) -> tuple[Run, load.Tally]:
    """A deploy with release_maintenance: the site answers 503 until it ends (last in the story)."""
    load.start(host, DOMAIN, ["/about/"], connections=2)
    try:
        run = run_site("-e", f"django_app_local_path={app_version(tmp_path_factory.mktemp('v8'), 'v8')}",
                       "-e", "release_maintenance=true", playbook=DEPLOY)
    finally:
        tally = load.stop(host)
    return run, tally


def test_a_deploy_in_maintenance_answers_503_with_retry_after_while_it_runs(in_maintenance):
    run, tally = in_maintenance
    assert run.rc == 0, run.output[-4000:]
    assert tally.statuses.get("503", 0) > 0, tally
    assert set(tally.statuses) <= {"200", "503"} and not tally.errors, tally


def test_after_a_deploy_in_maintenance_the_new_release_serves(in_maintenance, story, host):
    response = nginx.request(host, "/about/", host_header=DOMAIN)
    assert response.status == 200
    assert response.header("X-App-Release") not in (story.releases["v6"], story.releases["v2"])
    assert not host.file("/etc/nginx/djstack-maintenance/demo.on").exists


def _destructive_migration(tree: Path) -> None:
    """A release whose migration deletes data: what a rollback cannot undo."""
    (tree / "catalog" / "migrations" / "0002_drop_witness.py").write_text(
        "from django.db import migrations\n\n\n"
        "def drop(apps, schema_editor):\n"
        f"    apps.get_model('catalog', 'Product').objects.filter(name={WITNESS!r}).delete()\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('catalog', '0001_initial')]\n"
        "    operations = [migrations.RunPython(drop, migrations.RunPython.noop)]\n")


def _manage_shell(host, code: str) -> str:
    return host.check_output(f"{APP_ROOT}/bin/manage shell --command {shlex.quote(code)}")


def _listed(host) -> dict:
    return nginx.request(host, "/api/products/", host_header=DOMAIN).json()


def _backups(host) -> list[dict]:
    return json.loads(host.check_output(f"python3 -I /usr/local/lib/djstack/site_backup.py list --root {BACKUPS}"))


@pytest.fixture(scope="module")
def restored(story, in_maintenance, host, tmp_path_factory) -> dict:
    """v9 deletes a product in its migration; restore.yml -e release=<v9> under load (last in the story)."""
    seen: dict = {"before_v9": _serving(host)}
    _manage_shell(host, "from catalog.models import Product; "
                        f"Product.objects.create(name={WITNESS!r}, slug='restore-witness', price=1)")
    _manage_shell(host, "from django.core.cache import cache; cache.clear()")
    seen["listed_before"] = _listed(host)
    v9 = app_version(tmp_path_factory.mktemp("v9"), "v9")
    _destructive_migration(v9)
    run = run_site("-e", f"django_app_local_path={v9}", playbook=DEPLOY)
    assert run.rc == 0, run.output[-4000:]
    seen["v9"] = _serving(host)
    seen["backups_after_v9"] = _backups(host)
    _manage_shell(host, "from django.core.cache import cache; cache.clear()")
    seen["listed_after_v9"] = _listed(host)
    load.start(host, DOMAIN, ["/about/"], connections=2)
    try:
        seen["run"] = run_site("-e", f"release={seen['v9']}", playbook=RESTORE)
    finally:
        seen["load"] = load.stop(host)
    seen["serving"] = _serving(host)
    seen["listed_after"] = _listed(host)
    seen["unknown"] = run_site("-e", "backup=20990101T000000Z-manual", playbook=RESTORE)
    return seen


def _names(listed: dict) -> list[str]:
    return [product["name"] for product in listed["results"]]


def test_the_destructive_release_took_its_data_away(restored):
    assert WITNESS in _names(restored["listed_before"])
    assert WITNESS not in _names(restored["listed_after_v9"])


def test_each_deploy_backs_up_before_its_migrations_three_kept(restored):
    pre = [b for b in restored["backups_after_v9"] if b["kind"] == "pre-migrate"]
    assert len(pre) == 3
    assert (pre[-1]["release"], pre[-1]["serving"]) == (restored["v9"], restored["before_v9"])


def test_restoring_a_releases_pre_migrate_backup_brings_the_data_back_through_the_site(restored):
    assert restored["run"].rc == 0, restored["run"].output[-4000:]
    assert WITNESS in _names(restored["listed_after"])
    assert restored["listed_after"]["count"] == restored["listed_before"]["count"]


def test_a_restore_switches_back_to_the_release_the_backup_was_taken_under(restored):
    assert restored["serving"] == restored["before_v9"] != restored["v9"]


def test_a_restore_shows_the_maintenance_page_and_no_error_while_it_runs(restored, host):
    tally = restored["load"]
    assert tally.statuses.get("503", 0) > 0, tally
    assert set(tally.statuses) <= {"200", "503"} and not tally.errors, tally
    assert not host.file("/etc/nginx/djstack-maintenance/demo.on").exists


def test_restoring_an_unknown_backup_names_the_newest_and_touches_nothing(restored, host):
    run = restored["unknown"]
    assert run.rc != 0
    assert "no backup '20990101T000000Z-manual'" in run.output
    assert "The database and the media were not touched." in run.output
    assert not host.file("/etc/nginx/djstack-maintenance/demo.on").exists
    assert _serving(host) == restored["before_v9"]


@pytest.fixture(scope="module")
def restored_by_name(restored, host) -> dict:
    """A backup by hand (the timer's unit started), the witness deleted, then
    restore.yml -e backup=<that backup's name> (after the release restore)."""
    seen: dict = {"serving_before": _serving(host)}
    host.check_output("systemctl start demo-backup.service")
    seen["backup"] = _backups(host)[-1]
    _manage_shell(host, f"from catalog.models import Product; Product.objects.filter(name={WITNESS!r}).delete()")
    _manage_shell(host, "from django.core.cache import cache; cache.clear()")
    seen["listed_deleted"] = _listed(host)
    seen["run"] = run_site("-e", f"backup={seen['backup']['name']}", playbook=RESTORE)
    seen["serving"] = _serving(host)
    seen["listed_after"] = _listed(host)
    return seen


def test_a_backup_by_hand_records_the_release_serving(restored_by_name):
    backup = restored_by_name["backup"]
    assert backup["kind"] == "scheduled"
    assert backup["serving"] == restored_by_name["serving_before"]


def test_restoring_a_backup_by_name_brings_its_data_back_through_the_site(restored_by_name):
    assert WITNESS not in _names(restored_by_name["listed_deleted"])
    assert restored_by_name["run"].rc == 0, restored_by_name["run"].output[-4000:]
    assert WITNESS in _names(restored_by_name["listed_after"])


def test_restoring_a_backup_by_name_keeps_its_release_serving(restored_by_name, host):
    assert restored_by_name["serving"] == restored_by_name["serving_before"]
    assert not host.file("/etc/nginx/djstack-maintenance/demo.on").exists


def _prune(host, keep: int) -> None:
    """The release module's pruning (what a deploy with django_app_keep_releases does), ad hoc."""
    args = json.dumps({"root": APP_ROOT, "state": "pruned", "keep": keep})
    done = subprocess.run(["ansible", host.backend.host, "-i", inventory(), "--become",
                           "-m", "djstack.stack.release", "-a", args],
                          cwd=ROOT, capture_output=True, text=True, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.environ.get("ANSIBLE_CONFIG",
                                                                              str(ROOT / "ansible.cfg"))))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def refused_pruned(restored_by_name, host) -> dict:
    """Releases pruned to two (the one serving and the one before), then a restore of a backup
    taken under a pruned release, under load (last in the story)."""
    _prune(host, keep=2)
    present = set(host.check_output(f"ls {APP_ROOT}/releases").split())
    orphans = [b for b in _backups(host) if b["serving"] and b["serving"] not in present]
    assert orphans, (present, _backups(host))
    seen: dict = {"backup": orphans[-1], "serving_before": _serving(host), "listed_before": _listed(host)}
    load.start(host, DOMAIN, ["/about/"], connections=2)
    try:
        seen["run"] = run_site("-e", f"backup={seen['backup']['name']}", playbook=RESTORE)
    finally:
        seen["load"] = load.stop(host)
    seen["serving"] = _serving(host)
    seen["listed_after"] = _listed(host)
    return seen


def test_a_restore_of_a_backup_whose_release_was_pruned_is_refused_naming_it(refused_pruned):
    run, backup = refused_pruned["run"], refused_pruned["backup"]
    assert run.rc != 0
    assert f"backup {backup['name']} was taken while release {backup['serving']} served" in run.output
    assert "that release was pruned from the host" in run.output
    assert "The database and the media were not touched." in run.output


def test_a_refused_restore_leaves_the_data_and_the_serving_release_alone(refused_pruned):
    # The witness came after every backup taken under a pruned release: a restore would drop it.
    assert WITNESS in _names(refused_pruned["listed_after"])
    assert refused_pruned["listed_after"] == refused_pruned["listed_before"]
    assert refused_pruned["serving"] == refused_pruned["serving_before"]


def test_a_refused_restore_never_shows_the_maintenance_page(refused_pruned, host):
    tally = refused_pruned["load"]
    assert tally.requests > 0
    assert set(tally.statuses) == {"200"} and not tally.errors, tally
    assert not host.file("/etc/nginx/djstack-maintenance/demo.on").exists

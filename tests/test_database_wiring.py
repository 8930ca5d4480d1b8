"""The site's database from the inventory alone: the app hosts of a site find its db host
(the db group's host with their site_domain) and django_app's default database URL points
there, over the unix socket on that host itself; a site without one keeps SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from tests.playbook import run_playbook
from tools.collection import ROOT

PASSWORD = "p@ss/wo:rd%?#&= x"
# Four hosts, three sites: shop (a db host and an app host), blog (one host running both),
# notes (an app host, no db host).
INVENTORY = {"all": {
    "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
             "site_database_password": PASSWORD},
    "hosts": {
        "shop-db": {"site_domain": "shop.example.com", "site_app_name": "shop", "ansible_host": "10.0.0.5"},
        "shop-app": {"site_domain": "shop.example.com", "site_app_name": "shop"},
        "blog": {"site_domain": "blog.example.com", "site_app_name": "blog", "site_database_port": 5433},
        "notes": {"site_domain": "notes.example.com", "site_app_name": "notes"},
    },
    "children": {"db": {"hosts": {"shop-db": None, "blog": None}},
                 "app": {"hosts": {"shop-app": None, "blog": None, "notes": None}}},
}}


@pytest.fixture(scope="module")
def wiring(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    work = tmp_path_factory.mktemp("dbwiring")
    (work / "hosts.yml").write_text(yaml.safe_dump(INVENTORY))
    play = [{"hosts": "all", "gather_facts": False,
             "roles": [{"role": "djstack.stack.django_app", "when": False},
                       {"role": "djstack.stack.postgresql", "when": False}],
             "tasks": [{"name": "Print", "ansible.builtin.debug": {"msg": {
                 "url": "{{ django_app_database_url }}", "database": "{{ postgresql_database }}",
                 "user": "{{ postgresql_user }}", "port": "{{ postgresql_port }}",
                 "password_matches": "{{ postgresql_password == site_database_password }}"}}}]}]
    (work / "play.yml").write_text(yaml.safe_dump(play))
    done = run_playbook(str(work / "play.yml"),
                        inventory=str(work / "hosts.yml"), env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    assert done.returncode == 0, done.stdout + done.stderr
    report, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("{"):])
    task = next(t for t in report["plays"][0]["tasks"] if t["task"]["name"] == "Print")
    return {host: result["msg"] for host, result in task["hosts"].items()}


def test_an_app_host_reaches_its_sites_db_host_over_tcp(wiring) -> None:
    assert wiring["shop-app"]["url"] == f"postgresql://shop:{quote(PASSWORD, safe='')}@10.0.0.5:5432/shop"


def test_an_app_host_that_is_its_own_db_host_uses_the_unix_socket(wiring) -> None:
    assert wiring["blog"]["url"] == f"postgresql://blog:{quote(PASSWORD, safe='')}@:5433/blog?host=/var/run/postgresql"


def test_a_site_without_a_db_host_keeps_sqlite(wiring) -> None:
    assert wiring["notes"]["url"] == "sqlite:////srv/notes/shared/db/db.sqlite3"


def test_the_db_host_serves_the_database_role_and_password_the_app_uses(wiring) -> None:
    assert {k: wiring["shop-db"][k] for k in ("database", "user", "port", "password_matches")} == {
        "database": "shop", "user": "shop", "port": 5432, "password_matches": True}


def test_show_config_names_each_hosts_database_without_its_password(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(INVENTORY))
    done = run_playbook(str(ROOT / "playbooks" / "show_config.yml"), inventory=str(tmp_path / "hosts.yml"))
    assert done.returncode == 0, done.stdout
    assert '"django_app_database_url": "postgresql://shop:***@10.0.0.5:5432/shop"' in done.stdout
    assert '"site_database_host": "shop-db"' in done.stdout
    assert quote(PASSWORD, safe="") not in done.stdout and PASSWORD not in done.stdout


# Two sites in one play: shop's two app hosts share its PostgreSQL, notes' hosts each have
# their own SQLite file (one notes host alone: two would be refused by the preflight).
MIGRATE_INVENTORY = {"all": {
    "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
             "site_database_password": PASSWORD},
    "hosts": {
        "notes": {"site_domain": "notes.example.com", "site_app_name": "notes"},
        "shop-db": {"site_domain": "shop.example.com", "site_app_name": "shop"},
        "shop-app1": {"site_domain": "shop.example.com", "site_app_name": "shop"},
        "shop-app2": {"site_domain": "shop.example.com", "site_app_name": "shop"},
        "blog-app": {"site_domain": "blog.example.com", "site_app_name": "blog"},
    },
    "children": {"db": {"hosts": {"shop-db": None}},
                 "app": {"hosts": {"notes": None, "shop-app1": None, "shop-app2": None, "blog-app": None}}},
}}


def _migrating_hosts(tmp_path: Path, limit: str) -> dict[str, bool]:
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(MIGRATE_INVENTORY))
    play = [{"hosts": "app", "gather_facts": False,
             "roles": [{"role": "djstack.stack.django_app", "when": False}],
             "tasks": [{"name": "Print", "ansible.builtin.debug": {"msg": "{{ _django_app_migrates_here }}"}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    done = run_playbook(str(tmp_path / "play.yml"), "--limit", limit, inventory=str(tmp_path / "hosts.yml"),
                        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    assert done.returncode == 0, done.stdout + done.stderr
    report, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("{"):])
    task = next(t for t in report["plays"][0]["tasks"] if t["task"]["name"] == "Print")
    return {host: result["msg"] for host, result in task["hosts"].items()}


def test_one_host_per_shared_database_migrates_and_every_sqlite_host_does(tmp_path: Path) -> None:
    # Not run_once: that would be notes alone, and shop and blog would never migrate.
    assert _migrating_hosts(tmp_path, "all") == {
        "notes": True, "shop-app1": True, "shop-app2": False, "blog-app": True}


def test_the_migrating_host_is_the_first_of_its_site_in_the_play(tmp_path: Path) -> None:
    assert _migrating_hosts(tmp_path, "shop-app2,blog-app") == {"shop-app2": True, "blog-app": True}


def test_a_later_batch_skips_the_migrations_another_host_of_its_site_ran(tmp_path: Path) -> None:
    # deploy.yml's serial batches: shop-app2 is the first of its batch, but shop-app1 ran
    # this release's migrations in the batch before (django_app_migrated_release).
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(MIGRATE_INVENTORY))
    play = [{"hosts": "app", "gather_facts": False, "serial": 1,
             "vars": {"_django_app_release_id": "20261204T120000Z-abc"},
             "roles": [{"role": "djstack.stack.django_app", "when": False}],
             "tasks": [{"name": "Print", "ansible.builtin.debug": {"msg": "{{ _django_app_migrates_here }}"}},
                       {"name": "Migrate", "ansible.builtin.set_fact": {
                           "django_app_migrated_release": "{{ _django_app_release_id }}"},
                        "when": "_django_app_migrates_here"}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    done = run_playbook(str(tmp_path / "play.yml"), inventory=str(tmp_path / "hosts.yml"),
                        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    assert done.returncode == 0, done.stdout + done.stderr
    report, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("{"):])
    migrates = {host: result["msg"] for batch in report["plays"] for t in batch["tasks"]
                if t["task"]["name"] == "Print" for host, result in t["hosts"].items()}
    assert migrates == {"notes": True, "shop-app1": True, "shop-app2": False, "blog-app": True}

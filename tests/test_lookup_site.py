"""The stack-wide settings: the lookup djstack.stack.site, the one list of them in
group_vars/all.yml, and the roles' defaults that derive from them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.playbook import run_playbook
from tools.collection import ROOT

SETTINGS = yaml.safe_load((ROOT / "group_vars" / "all.yml").read_text())


def _lookup(tmp_path: Path, terms: list[str], *extra: str) -> dict[str, object]:
    """Each term's value as a play on the controller sees it."""
    play = [{"hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "tasks": [{"name": "Print", "ansible.builtin.debug": {
                 "msg": {term: "{{ lookup('djstack.stack.site', '" + term + "') }}" for term in terms}}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    done = run_playbook(str(tmp_path / "play.yml"), *extra)
    assert done.returncode == 0, done.stdout + done.stderr
    return _printed(done.stdout)


def _printed(stdout: str) -> dict[str, object]:
    start = stdout.index('"msg": ') + len('"msg": ')
    value, _ = json.JSONDecoder().raw_decode(stdout[start:])
    return value


def test_the_defaults_file_holds_only_stack_wide_settings() -> None:
    # The lookup reads only site_* from it: anything else there would be silently unused.
    assert SETTINGS and all(key.startswith("site_") for key in SETTINGS)


def test_an_unset_setting_is_its_default(tmp_path: Path) -> None:
    assert _lookup(tmp_path, ["domain", "https_port", "aliases"]) == {
        "domain": SETTINGS["site_domain"], "https_port": SETTINGS["site_https_port"], "aliases": []}


def test_releases_are_smoke_tested_on_the_home_page_by_default(tmp_path: Path) -> None:
    assert _lookup(tmp_path, ["smoke_paths"]) == {"smoke_paths": ["/"]}


def test_derived_defaults_follow_the_settings_they_derive_from(tmp_path: Path) -> None:
    values = _lookup(tmp_path, ["app_root", "static_root", "gunicorn_socket"], "-e", "site_app_name=shop")
    assert values == {"app_root": "/srv/shop", "static_root": "/srv/shop/shared/static",
                      "gunicorn_socket": "/run/shop/gunicorn.sock"}


def test_a_set_setting_wins_over_its_default(tmp_path: Path) -> None:
    values = _lookup(tmp_path, ["app_root", "static_root"], "-e", "site_app_name=shop", "-e", "site_app_root=/opt/shop")
    assert values == {"app_root": "/opt/shop", "static_root": "/opt/shop/shared/static"}


def test_an_unknown_setting_fails_naming_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "Print", "ansible.builtin.debug": {"msg": "{{ lookup('djstack.stack.site', 'app_nmae') }}"}}]}]))
    done = run_playbook(str(tmp_path / "play.yml"))
    assert done.returncode != 0
    assert "'app_nmae' is not a stack-wide setting" in done.stdout and "app_name" in done.stdout


def _two_hosts(tmp_path: Path, expression: str) -> subprocess.CompletedProcess[str]:
    # shop sets its own app name; blog leaves every setting at its default.
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        "    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "  hosts:\n    blog:\n    shop:\n      site_app_name: shop\n")
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "blog", "gather_facts": False,
        "tasks": [{"name": "Print", "ansible.builtin.debug": {"msg": expression}}]}]))
    return run_playbook(str(tmp_path / "play.yml"), inventory=str(tmp_path / "hosts.yml"))


def test_host_resolves_a_setting_as_another_host_has_it(tmp_path: Path) -> None:
    done = _two_hosts(tmp_path, "{{ [lookup('djstack.stack.site', 'app_root', host='shop'),"
                                " lookup('djstack.stack.site', 'app_root')] }}")
    assert done.returncode == 0, done.stdout
    assert _printed(done.stdout) == ["/srv/shop", "/srv/" + SETTINGS["site_app_name"]]


def test_host_not_in_the_inventory_fails_naming_it(tmp_path: Path) -> None:
    done = _two_hosts(tmp_path, "{{ lookup('djstack.stack.site', 'app_root', host='shpo') }}")
    assert done.returncode != 0 and "host='shpo' is not a host of the inventory" in done.stdout


ROLE_WIRING = {
    # A role variable and the stack-wide setting its default comes from.
    "memcached": {"memcached_socket_path": "memcached_socket", "memcached_socket_group": "app_name"},
    "django_app": {"django_app_name": "app_name", "django_app_root": "app_root", "django_app_wsgi_app": "wsgi_app",
                   "django_app_static_url": "static_url", "django_app_media_url": "media_url"},
    "gunicorn": {"gunicorn_app_name": "app_name", "gunicorn_socket_path": "gunicorn_socket",
                 "gunicorn_socket_group": "web_group", "gunicorn_wsgi_app": "wsgi_app", "gunicorn_timeout": "request_timeout",
                 "gunicorn_smoke_paths": "smoke_paths", "gunicorn_smoke_host": "domain"},
    "nginx": {"nginx_site_name": "app_name", "nginx_server_name": "domain", "nginx_upstream_socket": "gunicorn_socket",
              "nginx_static_root": "static_root", "nginx_media_root": "media_root",
              "nginx_https_public_port": "https_port", "nginx_proxy_read_timeout": "request_timeout",
              "nginx_verify_smoke_paths": "smoke_paths"},
}


@pytest.mark.parametrize("role", sorted(ROLE_WIRING))
def test_role_defaults_fit_together_from_the_inventory_alone(tmp_path: Path, role: str) -> None:
    """A user's own play listing the roles sees the same wiring as the collection's playbooks:
    the roles' defaults, fed by site_* from the inventory, with no group_vars of ours loaded."""
    wiring = ROLE_WIRING[role]
    overrides = {"site_app_name": "shop", "site_domain": "shop.example.com", "site_request_timeout": 45,
                 "site_smoke_paths": ["/", "/cart/"]}
    play = [{"hosts": "localhost", "gather_facts": False,
             "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
             "roles": [{"role": f"djstack.stack.{role}", "when": False}],
             "tasks": [{"name": "Print", "ansible.builtin.debug": {
                 "msg": {var: "{{ " + var + " }}" for var in wiring}}},
                 {"name": "Print the settings", "ansible.builtin.debug": {
                     "msg": {var: "{{ lookup('djstack.stack.site', '" + s + "') }}" for var, s in wiring.items()}}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    done = run_playbook(str(tmp_path / "play.yml"), "-e", json.dumps(overrides))
    assert done.returncode == 0, done.stdout + done.stderr
    role_values, settings = [json.JSONDecoder().raw_decode(part)[0]
                             for part in (done.stdout.split('"msg": ')[i] for i in (1, 2))]
    assert role_values == settings
    assert role_values[next(v for v, s in wiring.items() if s == "app_name")] == "shop"

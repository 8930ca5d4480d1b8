"""The top-level group_vars/ take effect, and an environment's inventory overrides them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def effective_config(inventory: str, *extra: str) -> dict[str, dict[str, object]]:
    """Run playbooks/show_config.yml and return {host: its printed wiring}."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    bin_dir = Path(sys.executable).parent
    proc = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "-i", inventory, "playbooks/show_config.yml", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The JSON document comes first; profile_tasks appends its timing table.
    report, _ = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index("{"):])
    task = next(t for t in report["plays"][0]["tasks"] if t["task"]["name"] == "Show the wiring between the roles")
    return {host: result["msg"] for host, result in task["hosts"].items()}


@pytest.fixture(scope="module")
def staging() -> dict[str, object]:
    return effective_config("inventory/staging")["staging.example.com"]


@pytest.fixture(scope="module")
def production() -> dict[str, object]:
    return effective_config("inventory/production")["web1.example.com"]


def test_stack_wiring_from_top_level_group_vars(production):
    # Nothing in inventory/production sets these: they come from group_vars/all.yml.
    assert production["nginx_upstream_socket"] == production["gunicorn_socket_path"] == "/run/demo/gunicorn.sock"
    assert production["django_app_cache_location"] == f"unix:{production['memcached_socket_path']}"
    assert production["nginx_static_root"] == "/srv/demo/shared/static"
    assert production["memcached_socket_group"] == "demo"


def test_environment_overrides_the_domain(staging, production):
    assert staging["site_domain"] == "staging.example.com"
    assert production["site_domain"] == "www.example.com"


def test_domain_feeds_allowed_hosts_and_server_name(production):
    assert production["nginx_server_name"] == "www.example.com"
    assert production["django_app_allowed_hosts"] == ["www.example.com", "example.com", "localhost"]


def test_public_https_port_reaches_nginx(production):
    assert production["nginx_https_public_port"] == 443
    config = effective_config("inventory/staging", "-e", '{"site_https_port": 8443}')
    assert config["staging.example.com"]["nginx_https_public_port"] == 8443


def test_environment_sets_a_role_variable(staging, production):
    assert staging["django_app_keep_releases"] == 3
    assert production["gunicorn_workers"] == 4


def test_one_hsts_policy_for_pages_and_files(production, staging):
    assert production["django_app_hsts"] == production["nginx_hsts"] == [31536000, True, True]
    assert staging["django_app_hsts"] == staging["nginx_hsts"] == [3600, True, False]


def test_an_hsts_policy_without_preload_accepts_its_warning_only(production, staging):
    assert production["django_app_silenced_checks"] == []
    assert staging["django_app_silenced_checks"] == ["security.W021"]


def test_one_set_of_probes_for_the_app_and_the_checks(production):
    assert production["django_app_probes"] == ["/healthz", "/readyz", "X-App-Release"]
    assert production["gunicorn_probes"] == ["http://localhost/healthz", "http://localhost/readyz", "X-App-Release"]
    assert production["nginx_probes"] == ["/readyz", "X-App-Release"]


def test_moved_probes_move_every_check():
    config = effective_config("inventory/production", "-e", json.dumps(
        {"site_readiness_path": "/-/ready", "site_liveness_path": "/-/alive", "site_release_header": "X-Build"}))
    host = config["web1.example.com"]
    assert host["django_app_probes"] == ["/-/alive", "/-/ready", "X-Build"]
    assert host["gunicorn_probes"] == ["http://localhost/-/alive", "http://localhost/-/ready", "X-Build"]
    assert host["nginx_probes"] == ["/-/ready", "X-Build"]


def test_extra_vars_override_everything():
    config = effective_config("inventory/staging", "-e", "site_domain=other.example.org")
    assert config["staging.example.com"]["nginx_server_name"] == "other.example.org"

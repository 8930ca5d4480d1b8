"""playbooks/preflight.yml checks every role's inputs before site.yml changes anything:
a bad value of any role, python's included, stops the preflight naming the variable."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tools.collection import ROOT
from tests.playbook import run_playbook

# One host in every tier, reached locally: the preflight changes nothing anywhere.
INVENTORY = "all:\n  hosts:\n    site1:\n      ansible_connection: local\n      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n  children:\n" + "".join(
    f"    {group}:\n      hosts:\n        site1:\n" for group in ("web", "app", "cache"))
SECRET = "preflight-test-secret-Zq8Lw2Xv4Nc6Bm1Jh3Kd5Pf7Rt9Yg0Ua2Se4Wi6Oo8"


def _preflight(tmp_path: Path, **extra: object) -> subprocess.CompletedProcess[str]:
    (tmp_path / "hosts.yml").write_text(INVENTORY)
    return run_playbook(str(ROOT / "playbooks" / "preflight.yml"),
                        "-e", json.dumps({"vault_django_app_secret_key": SECRET, **extra}),
                        inventory=str(tmp_path / "hosts.yml"))


def test_preflight_passes_with_the_defaults(tmp_path: Path) -> None:
    run = _preflight(tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize(("variable", "value"), [
    ("python_pip_timeout", 0),
    ("python_pip_index_url", "https://user:secret@pypi.example.com/simple"),
    ("memcached_port", 70000),
    ("gunicorn_backlog", 0),
    ("gunicorn_listen_addresses", ["0.0.0.0"]),
    ("gunicorn_port", 0),
    ("nginx_https_public_port", 0),
    ("django_app_silenced_checks", ["W021"]),
    ("django_app_settings_module", "mysite.settings"),
    ("site_project_dir", "src"),
    ("django_app_readiness_path", "readyz"),
    ("django_app_liveness_path", "/readyz"),
    ("django_app_release_header", "X Release"),
    ("django_app_deploy_hooks", [{"point": "after_install"}]),
    ("django_app_deploy_hooks", [{"point": "after_install", "manage": ["check"], "shell": "true"}]),
    ("django_app_deploy_hooks", [{"point": "whenever", "shell": "true"}]),
    ("gunicorn_periodic_commands", [{"name": "sessions", "argv": ["clearsessions"], "on_calendar": "nightly-ish"}]),
    ("gunicorn_periodic_commands", [{"name": "Bad Name", "argv": ["clearsessions"], "on_calendar": "daily"}]),
    ("backup_keep", 0),
    ("backup_on_calendar", "nightly-ish"),
    ("django_app_backup_keep", 0),
    ("nginx_tls_certificate_file", "/etc/letsencrypt/live/demo/fullchain.pem"),
])
def test_preflight_stops_on_a_bad_value_naming_it(tmp_path: Path, variable: str, value: object) -> None:
    run = _preflight(tmp_path, **{variable: value})
    assert run.returncode != 0
    assert variable in run.stdout


def test_preflight_passes_acme_with_its_defaults(tmp_path: Path) -> None:
    run = _preflight(tmp_path, acme_enabled=True, acme_email="ops@example.com")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "Check the acme variables" in run.stdout


@pytest.mark.parametrize(("variable", "value"), [
    ("acme_directory_url", "http://acme.example.com/directory"),
    ("acme_email", "not-an-address"),
    ("acme_domains", ["*.example.com"]),
    ("acme_cert_name", "../demo"),
    ("acme_renew_before_days", 0),
    ("acme_renew_on_calendar", "nightly-ish"),
    ("acme_key_type", "dsa"),
])
def test_preflight_stops_on_a_bad_acme_value_naming_it(tmp_path: Path, variable: str, value: object) -> None:
    run = _preflight(tmp_path, acme_enabled=True, **{variable: value})
    assert run.returncode != 0
    assert variable in run.stdout


def test_preflight_looks_for_an_installed_projects_modules_under_src(tmp_path: Path) -> None:
    # manage.py at the top, the package under src/: importable once pip installed it.
    project = tmp_path / "project"
    (project / "src" / "shop").mkdir(parents=True)
    for name in ("settings.py", "wsgi.py"):
        (project / "src" / "shop" / name).write_text("")
    (project / "manage.py").write_text("")
    wiring = {"django_app_local_path": str(project), "django_app_settings_module": "shop.settings",
              "site_wsgi_app": "shop.wsgi:application", "django_app_requirements_file": ""}
    refused = _preflight(tmp_path, **wiring)
    assert refused.returncode != 0 and "shop.settings and shop.wsgi not found" in refused.stdout
    installed = _preflight(tmp_path, **wiring, django_app_install_project=True)
    assert installed.returncode == 0, installed.stdout[-3000:]


def _cluster(tmp_path: Path, domains: tuple[str, str], **extra: object) -> subprocess.CompletedProcess[str]:
    # Two app hosts: one site when they share a domain, two sites when they do not.
    hosts = "".join(f"    {name}:\n      site_domain: {domain}\n" for name, domain in zip(("app1", "app2"), domains))
    (tmp_path / "hosts.yml").write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        "    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        f"  hosts:\n{hosts}  children:\n    app:\n      hosts:\n        app1:\n        app2:\n")
    return run_playbook(str(ROOT / "playbooks" / "preflight.yml"),
                        "-e", json.dumps({"vault_django_app_secret_key": SECRET, **extra}),
                        inventory=str(tmp_path / "hosts.yml"))


SHARED = {"django_app_database_url": "postgresql://shop:pw@10.0.0.5/shop", "django_app_media_shared": True,
          "django_app_cache_location": "10.0.0.6:11211"}


@pytest.mark.parametrize(("variable", "local"), [
    ("django_app_database_url", "sqlite:////srv/shop/shared/db/db.sqlite3"),
    ("django_app_media_shared", False),
    ("django_app_cache_location", "unix:/run/memcached/memcached.sock"),
])
def test_preflight_refuses_app_hosts_of_one_site_with_data_of_their_own(tmp_path: Path, variable: str,
                                                                         local: object) -> None:
    run = _cluster(tmp_path, ("shop.example.com", "shop.example.com"), **{**SHARED, variable: local})
    assert run.returncode != 0
    assert "shop.example.com is served by 2 app hosts (app1, app2)" in run.stdout and variable in run.stdout


def test_preflight_passes_app_hosts_of_one_site_that_share_its_data(tmp_path: Path) -> None:
    run = _cluster(tmp_path, ("shop.example.com", "shop.example.com"), **SHARED)
    assert run.returncode == 0, run.stdout[-3000:]


def test_preflight_passes_two_sites_each_on_its_own_host_with_sqlite(tmp_path: Path) -> None:
    run = _cluster(tmp_path, ("shop.example.com", "blog.example.com"))
    assert run.returncode == 0, run.stdout[-3000:]


# A copy of the backups to another host: test values only (a real key comes from ansible-vault).
COPY = {"backup_copy_host": "backup.example.com",
        "backup_copy_ssh_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----\n",
        "backup_copy_known_hosts": "# ssh-keyscan backup.example.com\nbackup.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n"}
COPY_VARIABLES = ("backup_copy_host", "backup_copy_port", "backup_copy_user", "backup_copy_path",
                  "backup_copy_ssh_key", "backup_copy_known_hosts")


def test_preflight_passes_with_a_backup_copy(tmp_path: Path) -> None:
    run = _preflight(tmp_path, **COPY)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize(("changes", "named"), [
    ({"backup_copy_host": "-oProxyCommand=touch /tmp/owned"}, "backup_copy_host"),
    ({"backup_copy_port": 0}, "backup_copy_port"),
    ({"backup_copy_user": "Backup Admin"}, "backup_copy_user"),
    ({"backup_copy_path": "/"}, "backup_copy_path"),
    ({"backup_copy_ssh_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 the public half"}, "backup_copy_ssh_key"),
    ({"backup_copy_known_hosts": "other.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\n"}, "backup_copy_known_hosts"),
    # Off port 22, ssh looks the host up as [host]:port.
    ({"backup_copy_port": 2222}, "backup_copy_known_hosts"),
])
def test_preflight_stops_on_a_bad_backup_copy_value_naming_it(tmp_path: Path, changes: dict, named: str) -> None:
    run = _preflight(tmp_path, **{**COPY, **changes})
    assert run.returncode != 0
    named_in_output = [v for v in COPY_VARIABLES if f"{v} must" in run.stdout]
    # Another host name also leaves the pinned keys without a line for it: both are said.
    assert named_in_output[0] == named and set(named_in_output) <= {named, "backup_copy_known_hosts"}
    assert "OPENSSH PRIVATE KEY-----\\nb3Bl" not in run.stdout and "b3BlbnNzaA==" not in run.stdout

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
])
def test_preflight_stops_on_a_bad_value_naming_it(tmp_path: Path, variable: str, value: object) -> None:
    run = _preflight(tmp_path, **{variable: value})
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

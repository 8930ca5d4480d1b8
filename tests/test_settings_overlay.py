"""The settings overlay on a stock project: the role's own templates, rendered by Ansible,
put next to the manage.py of a fresh `startproject` whose settings know nothing of us.

Each request goes through Django's full handler (middleware, URL resolver, host check) in
a subprocess with the environment the env file would give the app server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.playbook import run_playbook

RENDER = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  # The role's own defaults and file list (django_app_settings_module comes as an extra var).
  vars_files:
    - "{{ roles_dir }}/django_app/defaults/main.yml"
    - "{{ roles_dir }}/django_app/vars/main.yml"
  tasks:
    - name: Render the overlay files
      ansible.builtin.template:
        src: "{{ roles_dir }}/django_app/templates/release/{{ item }}.j2"
        dest: "{{ dest }}/{{ item }}"
        mode: "0644"
      loop: "{{ _django_app_overlay_files }}"
"""

# Requests the test client sends, then prints as JSON: the whole handler runs, as under gunicorn.
CLIENT = """
import json, sys
import django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
out = []
for method, path, headers in json.loads(sys.argv[1]):
    response = getattr(client, method)(path, headers=headers)
    out.append({"status": response.status_code, "headers": dict(response.items()),
                "body": response.content.decode("utf-8", "replace")})
print(json.dumps(out))
"""

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("overlay")
    subprocess.run([sys.executable, "-m", "django", "startproject", "stock", str(work)], check=True)
    # What tutorials ship: development values hard-coded, a host that is not ours.
    settings = work / "stock" / "settings.py"
    text = settings.read_text().replace(
        "ALLOWED_HOSTS = []", 'ALLOWED_HOSTS = ["tutorial.example"]')
    settings.write_text(text)
    (work / "stock" / "views.py").write_text(textwrap.dedent("""
        from django.http import HttpResponse

        def boom(request):
            raise RuntimeError("the page is broken")

        def own_header(request):
            response = HttpResponse("mine")
            response["X-App-Release"] = "the project's own"
            return response
    """))
    urls = work / "stock" / "urls.py"
    urls.write_text(urls.read_text() + textwrap.dedent("""
        from stock import views  # noqa: E402
        urlpatterns += [path("boom/", views.boom), path("own/", views.own_header)]
    """))
    (work / "RELEASE").write_text("20261202T170000Z-abc123\n")
    playbook = work / "render.yml"
    playbook.write_text(RENDER)
    run = run_playbook(str(playbook), "-e", f"dest={work}", "-e", f"roles_dir={ROOT / 'roles'}",
                       "-e", "django_app_settings_module=stock.settings")
    assert run.returncode == 0, run.stdout + run.stderr
    return work


def _env(project: Path, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "djstack_settings",
        "DJANGO_SECRET_KEY": "overlay-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
        "DJANGO_ALLOWED_HOSTS": "site.example",
        "DJANGO_DATABASE_URL": f"sqlite:///{project}/db.sqlite3",
        "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
        "DJANGO_SECURE_SSL_REDIRECT": "true",
        "DJANGO_SECURE_HSTS_SECONDS": "3600",
    }
    env.update(extra)
    return env


def _requests(project: Path, *requests: tuple[str, str, dict[str, str]], **env: str) -> list[dict]:
    run = subprocess.run([sys.executable, "-c", CLIENT, json.dumps(requests)], cwd=project,
                         env=_env(project, **env), capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def _one(project: Path, method: str, path: str, headers: dict[str, str] | None = None, **env: str) -> dict:
    return _requests(project, (method, path, headers or {}), **env)[0]


PROXIED = {"X-Forwarded-Proto": "https", "Host": "site.example"}


def test_readiness_on_the_socket_needs_neither_https_nor_an_allowed_host(project: Path):
    # What the canary sends: plain HTTP to the socket, Host: localhost (not allowed here).
    response = _one(project, "get", "/readyz", {"Host": "localhost"})
    assert response["status"] == 200, response
    assert json.loads(response["body"])["checks"] == {"database": "ok", "cache": "ok"}


def test_liveness_on_the_socket_answers_with_the_release(project: Path):
    response = _one(project, "get", "/healthz", {"Host": "localhost"})
    assert response["status"] == 200, response
    assert json.loads(response["body"]) == {"status": "ok", "release": "20261202T170000Z-abc123"}


def test_probes_are_never_cached(project: Path):
    response = _one(project, "get", "/readyz", {"Host": "localhost"})
    assert "no-store" in response["headers"]["Cache-Control"]


def test_readiness_fails_when_the_database_cannot_be_opened(project: Path, tmp_path: Path):
    response = _one(project, "get", "/readyz", {"Host": "localhost"},
                    DJANGO_DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    assert response["status"] == 503, response
    body = json.loads(response["body"])
    assert body["status"] == "fail"
    assert body["checks"]["database"].startswith("fail: OperationalError")


def test_readiness_fails_when_the_cache_is_down(project: Path, tmp_path: Path):
    response = _one(project, "get", "/readyz", {"Host": "localhost"},
                    DJANGO_CACHE_LOCATION=f"unix:{tmp_path}/no-memcached.sock")
    assert response["status"] == 503, response
    assert json.loads(response["body"])["checks"]["cache"].startswith("fail:")


def test_liveness_does_not_ask_the_database(project: Path, tmp_path: Path):
    response = _one(project, "get", "/healthz", {"Host": "localhost"},
                    DJANGO_DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    assert response["status"] == 200, response


def test_proxied_probe_over_http_is_redirected_to_https(project: Path):
    response = _one(project, "get", "/readyz", {"X-Forwarded-Proto": "http", "Host": "site.example"})
    assert response["status"] == 301, response
    assert response["headers"]["Location"] == "https://site.example/readyz"


def test_proxied_probe_for_a_host_not_allowed_is_refused(project: Path):
    response = _one(project, "get", "/readyz", {"X-Forwarded-Proto": "https", "Host": "evil.example"})
    assert response["status"] == 400, response


def test_proxied_probe_over_https_for_the_site_answers(project: Path):
    response = _one(project, "get", "/readyz", PROXIED)
    assert response["status"] == 200, response


def test_probes_refuse_other_methods(project: Path):
    response = _one(project, "post", "/healthz", {"Host": "localhost"})
    assert response["status"] == 405, response


def test_every_page_carries_the_release_header(project: Path):
    statuses = {}
    for path in ("/admin/login/", "/no-such-page/", "/boom/"):
        response = _one(project, "get", path, PROXIED)
        statuses[path] = (response["status"], response["headers"].get("X-App-Release"))
    assert statuses == {
        "/admin/login/": (200, "20261202T170000Z-abc123"),
        "/no-such-page/": (404, "20261202T170000Z-abc123"),
        "/boom/": (500, "20261202T170000Z-abc123"),
    }


def test_redirects_carry_the_release_header(project: Path):
    response = _one(project, "get", "/admin/", {"X-Forwarded-Proto": "http", "Host": "site.example"})
    assert (response["status"], response["headers"].get("X-App-Release")) == (301, "20261202T170000Z-abc123")


def test_the_projects_own_release_header_wins(project: Path):
    response = _one(project, "get", "/own/", PROXIED)
    assert response["headers"]["X-App-Release"] == "the project's own"


def test_project_pages_keep_the_host_check(project: Path):
    response = _one(project, "get", "/admin/login/", {"X-Forwarded-Proto": "https", "Host": "localhost"})
    assert response["status"] == 400, response


def test_overlay_puts_the_probes_outermost_once(project: Path):
    code = ("import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.MIDDLEWARE))")
    run = subprocess.run([sys.executable, "-c", code], cwd=project, env=_env(project),
                         capture_output=True, text=True, check=True)
    middleware = json.loads(run.stdout)
    assert middleware[0] == "djstack_probes.ProbeMiddleware"
    assert middleware.count("djstack_probes.ProbeMiddleware") == 1
    assert "django.middleware.security.SecurityMiddleware" in middleware

"""Two stock projects, unmodified, each on its own host, deployed by playbooks/site.yml
from the inventory variables in molecule.yml alone (see djstack_testlib.stock_projects).

Every test runs on both hosts: tutorial (whitenoise, a settings package, pinned
requirements/production.txt) and packaged (pyproject.toml installed with pip, manage.py
under src/, Django's ManifestStaticFilesStorage)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from testinfra.host import Host

from djstack_testlib import load, nginx
from djstack_testlib.django_app import effective_settings, entry, manage
from djstack_testlib.http import request
from djstack_testlib.site import ROOT, Run, run_site
from djstack_testlib.stock_projects import PAGE, new_version

DEPLOY = ROOT / "playbooks" / "deploy.yml"


@dataclass(frozen=True)
class Project:
    name: str
    domain: str
    root: str
    # Distributions the venv must hold (dist-info names): the project's own pins, the
    # stack's gunicorn where the project names none, the project itself when pip installed it.
    distributions: tuple[str, ...]
    # The database the inventory gives it: packaged's host is also its site's db host.
    database: str

    @property
    def socket(self) -> str:
        return f"/run/{self.root.rsplit('/', 1)[1]}/gunicorn.sock"


PROJECTS = {
    "tutorial": Project("tutorial", "tutorial.localhost", "/srv/tutorial",
                        ("gunicorn-23.0.0", "whitenoise-6.9.0", "dj_database_url-2.3.0", "pymemcache-4.0.0"), "sqlite"),
    "packaged": Project("packaged", "shop.localhost", "/srv/shopfront",
                        ("gunicorn-27.0.1", "shopfront-1.0.0", "pymemcache-4.0.0", "psycopg_binary-3.3.9"),
                        "postgresql"),
}


def _hostname(host: Host) -> str:
    return host.backend.get_hostname()


@pytest.fixture(scope="module")
def project(host: Host) -> Project:
    return PROJECTS[_hostname(host).split("-")[2]]


def _get(host: Host, project: Project, path: str, **kwargs) -> nginx.Response:
    response = nginx.request(host, path, host_header=project.domain, **kwargs)
    assert response.error is None, response.detail
    return response


def _stylesheet(host: Host, project: Project) -> str:
    page = _get(host, project, PAGE).body.decode()
    match = re.search(r'href="(/static/notes/style\.[0-9a-f]{12}\.css)"', page)
    assert match, f"no hashed stylesheet link in the page:\n{page[:2000]}"
    return match.group(1)


def test_page_answers_over_https_through_nginx(host: Host, project: Project):
    response = _get(host, project, PAGE)
    assert response.status == 200, response.body[:500]
    assert b"<h1>Notes</h1>" in response.body


def test_page_names_its_release(host: Host, project: Project):
    assert _get(host, project, PAGE).header("X-App-Release") == entry(host, project.root, "active")["id"]


def test_hashed_stylesheet_comes_from_nginx_as_immutable(host: Host, project: Project):
    response = _get(host, project, _stylesheet(host, project))
    assert response.status == 200
    assert "immutable" in (response.header("Cache-Control") or "")


def test_python_never_serves_the_stylesheet(host: Host, project: Project):
    # Every response of the app carries the release header (the overlay's middleware).
    assert _get(host, project, _stylesheet(host, project)).header("X-App-Release") is None


def test_stylesheet_is_sent_from_its_gzip_copy(host: Host, project: Project):
    path = _stylesheet(host, project)
    response = _get(host, project, path, headers={"Accept-Encoding": "gzip"})
    copy = host.file(f"{project.root}/shared{path}.gz")
    assert response.header("Content-Encoding") == "gzip"
    assert int(response.header("Content-Length")) == copy.size


def test_debug_is_off(host: Host, project: Project):
    response = _get(host, project, "/no-such-page/")
    assert response.status == 404
    assert b"URLconf" not in response.body and b"Traceback" not in response.body


def test_form_posted_over_https_is_saved(host: Host, project: Project):
    page = _get(host, project, PAGE)
    cookie = next(c.split(";", 1)[0] for c in page.all("Set-Cookie") if c.startswith("csrftoken="))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    text = f"saved through nginx on {project.name}"
    posted = _get(host, project, PAGE, method="POST", body=urlencode({"csrfmiddlewaretoken": token, "text": text}),
                  headers={"Cookie": cookie, "Origin": f"https://{project.domain}",
                           "Referer": f"https://{project.domain}{PAGE}",
                           "Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status == 302, posted.body[:1000]
    assert text.encode() in _get(host, project, PAGE).body


def test_check_deploy_is_clean(host: Host, project: Project):
    result = manage(host, project.root, "check", "--deploy", "--fail-level", "WARNING")
    assert result.rc == 0, result.stdout + result.stderr


def test_readiness_on_the_socket_sees_database_and_memcached(host: Host, project: Project):
    response = request(host, project.socket, "GET", "/readyz", user="www-data")
    assert response.status == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_venv_holds_the_projects_pins_and_only_the_missing_stack_packages(host: Host, project: Project):
    listing = host.check_output(f"ls {project.root}/current/venv/lib/python3*/site-packages").split()
    assert {f"{name}.dist-info" for name in project.distributions} <= set(listing)
    assert len([name for name in listing if name.startswith("gunicorn-")]) == 1


# --- the database: SQLite, or PostgreSQL on the site's db host ---------------------------

ENGINES = {"sqlite": "django.db.backends.sqlite3", "postgresql": "django.db.backends.postgresql"}


def _backups(host: Host, project: Project) -> list[dict]:
    root = f"/var/backups/djstack/{project.root.rsplit('/', 1)[1]}"
    return json.loads(host.check_output(f"python3 -I /usr/local/lib/djstack/site_backup.py list --root {root}"))


def test_app_runs_on_the_database_the_inventory_gives_it(host: Host, project: Project):
    engine = effective_settings(host, project.root, ["DATABASES"])["DATABASES"]["default"]["ENGINE"]
    assert engine == ENGINES[project.database]


def test_migrations_ran_into_that_database(host: Host, project: Project):
    if project.database == "postgresql":
        count = host.check_output("runuser -u postgres -- psql -X -Atc 'SELECT count(*) FROM django_migrations' shopfront")
    else:
        query = ("import sqlite3, sys; print(sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True)"
                 ".execute('SELECT count(*) FROM django_migrations').fetchone()[0])")
        count = host.check_output(f"python3 -c {shlex.quote(query)} {project.root}/shared/db/db.sqlite3")
    assert int(count) > 10


def test_scheduled_backup_dumps_that_database(host: Host, project: Project):
    unit = f"{project.root.rsplit('/', 1)[1]}-backup.service"
    host.check_output(f"systemctl start {unit}")
    newest = [b for b in _backups(host, project) if b["kind"] == "scheduled"][-1]
    assert newest["database"]["engine"] == project.database
    if project.database == "postgresql":
        path = f"/var/backups/djstack/shopfront/{newest['name']}/{newest['database']['file']}"
        assert "TABLE public django_migrations" in host.check_output(f"pg_restore --list {path}")


# --- a new release with deploy.yml, under load ------------------------------------------


@dataclass
class Deploy:
    run: Run
    tally: load.Tally
    before: str
    after: str


@pytest.fixture(scope="module")
def deploy(host: Host, project: Project, tmp_path_factory: pytest.TempPathFactory) -> Deploy:
    source = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "projects" / project.name
    tree = tmp_path_factory.mktemp(project.name) / project.name
    shutil.copytree(source, tree)
    new_version(tree, "v2")
    before = entry(host, project.root, "active")["id"]
    load.start(host, project.domain, [PAGE, _stylesheet(host, project), "/readyz"], connections=4)
    try:
        run = run_site("--limit", _hostname(host), "-e", f"django_app_local_path={tree}", playbook=DEPLOY)
    finally:
        tally = load.stop(host)
    return Deploy(run, tally, before, entry(host, project.root, "active")["id"])


def test_new_release_ships_with_deploy(deploy: Deploy, host: Host, project: Project):
    assert deploy.run.rc == 0, deploy.run.output[-4000:]
    assert deploy.after != deploy.before
    assert b'<p class="version">v2</p>' in _get(host, project, PAGE).body


def test_no_request_fails_during_the_deploy(deploy: Deploy):
    assert deploy.tally.requests > 0
    assert deploy.tally.failed == 0, deploy.tally


def test_old_stylesheet_still_served_after_the_deploy(deploy: Deploy, host: Host, project: Project):
    # The page a browser loaded before the switch still finds its assets.
    old = host.check_output(f"ls {shlex.quote(project.root)}/shared/static/notes/").split()
    assert len([name for name in old if re.fullmatch(r"style\.[0-9a-f]{12}\.css", name)]) == 2


def test_deploy_backed_up_the_database_before_migrating(deploy: Deploy, host: Host, project: Project):
    pre = [b for b in _backups(host, project) if b["kind"] == "pre-migrate" and b["release"] == deploy.after]
    assert len(pre) == 1 and pre[0]["database"]["engine"] == project.database

"""The DATABASE_URL the postgresql role's README gives Django reaches PostgreSQL's unix
socket: the django_app settings overlay turns it into Django's DATABASES, and Django's
PostgreSQL backend hands psycopg (libpq) host=/var/run/postgresql, a socket directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import jinja2
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[1]
OVERLAY = ROOT / "roles" / "django_app" / "templates" / "release" / "djstack_settings.py.j2"
README = ROOT / "roles" / "postgresql" / "README.md"
# Every character a URL gives a meaning to, and a space.
PASSWORD = "p@ss/wo:rd%?#&= x"

# Django's own connection parameters, without connecting (no server needed).
CLIENT = """
import json
import django
django.setup()
from django.db import connection
params = connection.get_connection_params()
print(json.dumps({k: v for k, v in params.items() if isinstance(v, (str, int))}))
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("pgurl")
    (work / "stub_settings.py").write_text("INSTALLED_APPS = []\nUSE_TZ = True\n")
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(OVERLAY.read_text())
    (work / "djstack_settings.py").write_text(
        template.render(ansible_managed="Ansible managed", django_app_settings_module="stub_settings"))
    return work


def _settings(project: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(project),
        "DJANGO_SETTINGS_MODULE": "djstack_settings",
        "DJANGO_SECRET_KEY": "pgurl-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
        "DJANGO_DATABASE_URL": url,
    }
    return subprocess.run([sys.executable, "-c", CLIENT], cwd=project, env=env, capture_output=True, text=True,
                          check=False)


def _connection_params(project: Path, url: str) -> dict[str, object]:
    run = _settings(project, url)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _url(password: str = PASSWORD) -> str:
    return f"postgresql://shop:{quote(password, safe='')}@/shop?host=/var/run/postgresql"


def test_readme_gives_this_url():
    assert "postgresql://<user>:<password>@/<database>?host=/var/run/postgresql" in README.read_text()


def test_overlay_sends_django_to_the_socket_directory(project: Path):
    params = _connection_params(project, _url())
    assert params["host"] == "/var/run/postgresql"
    assert (params["dbname"], params["user"], params["password"]) == ("shop", "shop", PASSWORD)
    assert "port" not in params


def test_libpq_reads_the_same_url_alike(project: Path):
    # psql and every libpq client take the URL itself (the scenario connects with it).
    conninfo = psycopg.conninfo.conninfo_to_dict(_url())
    assert conninfo == {"host": "/var/run/postgresql", "dbname": "shop", "user": "shop", "password": PASSWORD}


def test_django_parameters_are_a_unix_socket_conninfo(project: Path):
    params = _connection_params(project, _url())
    conninfo = psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if k != "client_encoding"})
    assert psycopg.conninfo.conninfo_to_dict(conninfo)["host"] == "/var/run/postgresql"


def test_unencoded_slash_in_the_password_breaks_the_url(project: Path):
    # The URL's path starts at the first /: "shop:a" reads as a host and a port.
    run = _settings(project, "postgresql://shop:a/b@/shop?host=/var/run/postgresql")
    assert run.returncode != 0
    assert "Port could not be cast to integer" in run.stderr


def test_readme_encoding_of_the_password_round_trips(project: Path):
    # Ansible's urlencode is Jinja's: it keeps /, hence the README's replace.
    expression = "{{ postgresql_password | urlencode | replace('/', '%2F') }}"
    assert expression in README.read_text()
    encoded = jinja2.Environment().from_string(expression).render(postgresql_password=PASSWORD)
    url = f"postgresql://shop:{encoded}@/shop?host=/var/run/postgresql"
    assert _connection_params(project, url)["password"] == PASSWORD

"""Liveness and readiness probes."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import Client
from pytest_django.fixtures import Settings

from demo_testlib import clean_env, free_port, get_in_subprocess

SECRET = "health-test-secret-key-abcdefghijklmnopqrstuvwxyz-0123456789"


def test_healthz_needs_no_database(client: Client) -> None:
    # No django_db mark: any query would fail this test.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "release": "test-release"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_ok(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "release": "test-release",
        "checks": {"database": "ok", "cache": "ok"},
    }
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_database_down(client: Client) -> None:
    down = OperationalError("could not connect to server: Connection refused")
    with mock.patch.object(connections["default"], "cursor", side_effect=down):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["cache"] == "ok"
    assert body["checks"]["database"].startswith("fail: OperationalError")
    assert "Connection refused" in body["checks"]["database"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_cache_down(client: Client, settings: Settings) -> None:
    # Nothing listens on this loopback port: connection refused at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
            "LOCATION": f"127.0.0.1:{free_port()}",
            "OPTIONS": {"connect_timeout": 2, "timeout": 2},
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"].startswith("fail: ")
    assert "refused" in body["checks"]["cache"].lower()


def prod_like_env(**overrides: str) -> dict[str, str]:
    return clean_env(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_RELEASE="probe-test",
        **overrides,
    )


def test_readyz_real_postgres_unreachable() -> None:
    # A real driver failure: psycopg against a closed loopback port.
    env = prod_like_env(DJANGO_DATABASE_URL=f"postgres://demo:demo@127.0.0.1:{free_port()}/demo")
    response = get_in_subprocess("/readyz", env)
    assert response["status"] == 503
    body = response["json"]
    assert body["checks"]["database"].startswith("fail: OperationalError")
    assert body["checks"]["cache"] == "ok"
    assert body["release"] == "probe-test"


def test_readyz_real_sqlite_unopenable(tmp_path: Path) -> None:
    env = prod_like_env(DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}")
    response = get_in_subprocess("/readyz", env)
    assert response["status"] == 503
    assert "unable to open database file" in response["json"]["checks"]["database"]


def test_readyz_real_memcached_socket_missing(tmp_path: Path) -> None:
    env = prod_like_env(
        DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_CACHE_LOCATION=f"unix:{tmp_path / 'no-memcached.sock'}",
    )
    response = get_in_subprocess("/readyz", env)
    assert response["status"] == 503
    checks = response["json"]["checks"]
    assert checks["database"] == "ok"
    assert checks["cache"].startswith("fail: FileNotFoundError")


@pytest.mark.django_db
def test_probes_are_exempt_from_ssl_redirect(client: Client, settings: Settings) -> None:
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    redirected = client.get("/products/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/products/"


def test_probes_answer_over_plain_http_with_production_settings() -> None:
    env = prod_like_env(
        DJANGO_SECURE_PROXY_SSL_HEADER="true",
        DJANGO_SECURE_SSL_REDIRECT="true",
        DJANGO_SECURE_HSTS_SECONDS="31536000",
    )
    health = get_in_subprocess("/healthz", env)
    assert health["status"] == 200
    assert health["json"] == {"status": "ok", "release": "probe-test"}
    about = get_in_subprocess("/about/", env)
    assert about["status"] == 301
    assert about["headers"]["Location"] == "https://localhost/about/"


def test_probes_only_accept_safe_methods(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200

"""Release resolution and the X-App-Release header."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from demo.release import manage_command, resolve_release
from demo_testlib import clean_env, get_in_subprocess, manage

SECRET = "release-test-secret-key-abcdefghijklmnopqrstuvwxyz-0123456789"


def test_env_wins_over_file(tmp_path: Path) -> None:
    (tmp_path / "RELEASE").write_text("from-file\n")
    assert resolve_release(tmp_path, {"DJANGO_RELEASE": "from-env"}) == "from-env"


def test_first_line_of_release_file(tmp_path: Path) -> None:
    (tmp_path / "RELEASE").write_text("  9f8e7d6c  \nbuilt by ansible\n")
    assert resolve_release(tmp_path, {}) == "9f8e7d6c"


@pytest.mark.parametrize("content", [None, "", "\n\n", "\x00\x01"])
def test_defaults_to_dev(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "RELEASE").write_text(content)
    assert resolve_release(tmp_path, {}) == "dev"
    assert resolve_release(tmp_path, {"DJANGO_RELEASE": "  "}) == "dev"


def test_header_safe(tmp_path: Path) -> None:
    assert resolve_release(tmp_path, {"DJANGO_RELEASE": "v1\r\nX-Evil: 1"}) == "v1"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/products/", 200),
        ("get", "/api/products/", 200),
        ("get", "/about/", 200),
        ("get", "/healthz", 200),
        ("get", "/readyz", 200),
        ("get", "/", 302),
        ("get", "/admin/", 302),
        ("get", "/missing", 404),
        ("post", "/healthz", 405),
    ],
)
def test_every_response_carries_the_release(
    client: Client, method: str, path: str, status: int
) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["X-App-Release"] == "test-release"


def test_header_on_rejected_host(client: Client) -> None:
    response = client.get("/healthz", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["X-App-Release"] == "test-release"


def test_header_on_ssl_redirect(client: Client, settings: Settings) -> None:
    # Set before the first request: SecurityMiddleware reads it at start-up.
    settings.SECURE_SSL_REDIRECT = True
    redirect = client.get("/about/")
    assert redirect.status_code == 301
    assert redirect["X-App-Release"] == "test-release"


def test_header_follows_settings(client: Client, settings: Settings) -> None:
    settings.RELEASE = "abc1234"
    response = client.get("/healthz")
    assert response["X-App-Release"] == "abc1234"
    assert response.json()["release"] == "abc1234"


def test_release_file_in_release_directory(project_copy: Path, tmp_path: Path) -> None:
    release_dir = project_copy
    env = clean_env(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert get_in_subprocess("/healthz", env, cwd=release_dir)["json"]["release"] == "dev"

    (release_dir / "RELEASE").write_text("c0ffee1\n")
    response = get_in_subprocess("/healthz", env, cwd=release_dir)
    assert response["headers"]["X-App-Release"] == "c0ffee1"
    assert response["json"] == {"status": "ok", "release": "c0ffee1"}

    env["DJANGO_RELEASE"] = "override-7"
    response = get_in_subprocess("/healthz", env, cwd=release_dir)
    assert response["headers"]["X-App-Release"] == "override-7"


def test_manage_command_in_a_checkout(tmp_path: Path) -> None:
    assert manage_command(tmp_path / "project", {}) == "python manage.py"


def test_manage_command_in_a_deployed_release(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "manage").write_text("#!/bin/sh\n")
    release = tmp_path / "releases" / "20260101-c0ffee1" / "src"
    assert manage_command(release, {}) == f"sudo {tmp_path}/bin/manage"


def test_manage_command_from_env(tmp_path: Path) -> None:
    env = {"DJANGO_MANAGE_COMMAND": "docker compose run web python manage.py"}
    assert manage_command(tmp_path, env) == "docker compose run web python manage.py"


def test_empty_catalog_hint_names_the_host_command(project_copy: Path, tmp_path: Path) -> None:
    # project_copy sits in <tmp>/releases/<id>, where a djstack host keeps a release;
    # there manage.py is run through <root>/bin/manage, not `python manage.py`.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "manage").write_text("#!/bin/sh\n")
    env = clean_env(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # Unhashed static URLs: this copy has no collectstatic manifest.
        DJANGO_DEBUG="true",
    )
    migrated = manage("migrate", "--noinput", env=env, cwd=project_copy)
    assert migrated.returncode == 0, migrated.stderr
    body = get_in_subprocess("/products/", env, cwd=project_copy)["body"]
    assert f"<code>sudo {tmp_path}/bin/manage seed_products 50</code>" in body
    assert "python manage.py" not in body

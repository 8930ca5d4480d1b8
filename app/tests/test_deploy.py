"""The production environment: check --deploy, migrate, the example env file."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

import pytest

from demo_testlib import APP_DIR, clean_env, load_env_file, manage, read_setting, settings_variables

EXAMPLE = APP_DIR / "production.env.example"


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    values = load_env_file(EXAMPLE)
    values["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    return clean_env(**values)


def test_example_lists_every_variable() -> None:
    assert set(load_env_file(EXAMPLE)) == settings_variables()


def test_example_is_production_shaped() -> None:
    values = load_env_file(EXAMPLE)
    assert values["DJANGO_DEBUG"] == "false"
    assert values["DJANGO_SECRET_KEY"] == "CHANGE_ME"
    assert values["DJANGO_CACHE_BYPASS_ALLOWED"] == "false"
    assert values["DJANGO_CACHE_LOCATION"].startswith("unix:/")


def test_check_deploy_is_clean(production_env: dict[str, str]) -> None:
    assert len(production_env["DJANGO_SECRET_KEY"]) >= 50
    result = manage("check", "--deploy", "--fail-level", "DEBUG", env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    silenced = read_setting("SILENCED_SYSTEM_CHECKS", production_env)
    assert json.loads(silenced.stdout) == []


def test_an_hsts_policy_without_preload_passes_with_its_warning_silenced(production_env: dict[str, str]) -> None:
    env = {**production_env, "DJANGO_SECURE_HSTS_PRELOAD": "false"}
    refused = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert refused.returncode != 0 and "security.W021" in refused.stderr
    accepted = manage("check", "--deploy", "--fail-level", "WARNING",
                      env={**env, "DJANGO_SILENCED_SYSTEM_CHECKS": "security.W021"})
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "(1 silenced)" in accepted.stdout


def test_example_refuses_to_run_with_the_placeholder() -> None:
    result = manage("check", env=clean_env(**load_env_file(EXAMPLE)))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_development_settings_are_flagged_by_check_deploy(tmp_path: Path) -> None:
    # Proves the clean result above is earned, not the check being inert.
    result = manage("check", "--deploy", env=clean_env(DJANGO_DEBUG="true"))
    assert "security.W018" in result.stdout + result.stderr


def test_migrate_creates_a_wal_database_where_the_url_says(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    db_path = tmp_path / "shared" / "db.sqlite3"
    db_path.parent.mkdir()
    env = {**production_env, "DJANGO_DATABASE_URL": f"sqlite:///{db_path}"}
    result = manage("migrate", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT count(*) FROM catalog_product").fetchone()[0] == 0

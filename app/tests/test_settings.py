"""Settings validation, each case in a subprocess so the environment is exact."""

from __future__ import annotations

import json

import pytest

from demo.env import env_bool, env_int, env_list
from django.core.exceptions import ImproperlyConfigured
from demo_testlib import clean_env, read_setting

SECRET = "x" * 10 + "-settings-test-secret-key-abcdefghijklmnopqrstuvwxyz"
PROD = {"DJANGO_SECRET_KEY": SECRET, "DJANGO_ALLOWED_HOSTS": "app.example.com"}


def setting(name: str, **env: str) -> object:
    result = read_setting(name, clean_env(**env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def config_error(**env: str) -> str:
    result = read_setting("DEBUG", clean_env(**env))
    assert result.returncode == 3, (result.stdout, result.stderr)
    return result.stderr


def test_missing_secret_key_names_the_variable() -> None:
    error = config_error(DJANGO_ALLOWED_HOSTS="app.example.com")
    assert "DJANGO_SECRET_KEY" in error


def test_debug_defaults_to_off() -> None:
    # With nothing set, DEBUG is off, so the missing secret is fatal.
    assert "DJANGO_SECRET_KEY" in config_error()
    assert setting("DEBUG", **PROD) is False


def test_placeholder_secret_key_is_refused() -> None:
    error = config_error(DJANGO_SECRET_KEY="CHANGE_ME", DJANGO_ALLOWED_HOSTS="a.example.com")
    assert "DJANGO_SECRET_KEY" in error and "CHANGE_ME" in error


def test_debug_runs_without_secret_key_or_hosts() -> None:
    assert setting("DEBUG", DJANGO_DEBUG="true") is True
    assert setting("ALLOWED_HOSTS", DJANGO_DEBUG="true") == []


@pytest.mark.parametrize("hosts", ["", " , ", None])
def test_empty_allowed_hosts_without_debug_names_the_variable(hosts: str | None) -> None:
    env = {"DJANGO_SECRET_KEY": SECRET}
    if hosts is not None:
        env["DJANGO_ALLOWED_HOSTS"] = hosts
    assert "DJANGO_ALLOWED_HOSTS" in config_error(**env)


def test_allowed_hosts_rejects_urls() -> None:
    error = config_error(DJANGO_SECRET_KEY=SECRET, DJANGO_ALLOWED_HOSTS="https://app.example.com")
    assert "DJANGO_ALLOWED_HOSTS" in error


def test_allowed_hosts_and_csrf_origins_are_comma_separated() -> None:
    env = {
        **PROD,
        "DJANGO_ALLOWED_HOSTS": "a.example.com, b.example.com,",
        "DJANGO_CSRF_TRUSTED_ORIGINS": "https://a.example.com,https://b.example.com",
    }
    assert setting("ALLOWED_HOSTS", **env) == ["a.example.com", "b.example.com"]
    assert setting("CSRF_TRUSTED_ORIGINS", **env) == [
        "https://a.example.com",
        "https://b.example.com",
    ]


def test_csrf_origin_without_scheme_names_the_variable() -> None:
    error = config_error(**PROD, DJANGO_CSRF_TRUSTED_ORIGINS="app.example.com")
    assert "DJANGO_CSRF_TRUSTED_ORIGINS" in error


@pytest.mark.parametrize(
    "variable",
    [
        "DJANGO_DEBUG",
        "DJANGO_SECURE_SSL_REDIRECT",
        "DJANGO_SECURE_PROXY_SSL_HEADER",
        "DJANGO_SESSION_COOKIE_SECURE",
        "DJANGO_CACHE_BYPASS_ALLOWED",
    ],
)
def test_bad_boolean_names_the_variable(variable: str) -> None:
    assert variable in config_error(**PROD, **{variable: "maybe"})


@pytest.mark.parametrize("variable", ["DJANGO_SECURE_HSTS_SECONDS", "DJANGO_CACHE_TIMEOUT"])
@pytest.mark.parametrize("value", ["soon", "1.5", "-1"])
def test_bad_integer_names_the_variable(variable: str, value: str) -> None:
    assert variable in config_error(**PROD, **{variable: value})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_CACHE_LOCATION", "memcached-without-port"),
        ("DJANGO_CACHE_LOCATION", "10.0.0.5:notaport"),
        ("DJANGO_CACHE_LOCATION", "unix:relative.sock"),
        ("DJANGO_DATABASE_URL", "nosuchdb://x/y"),
        ("DJANGO_STATIC_URL", "/static"),
        ("DJANGO_LOG_LEVEL", "CHATTY"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    assert variable in config_error(**PROD, **{variable: value})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("On", True),
        ("false", False),
        ("0", False),
        ("NO", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_accepts_the_documented_spellings(raw: str, expected: bool) -> None:
    assert env_bool("DJANGO_X", environ={"DJANGO_X": raw}) is expected


def test_env_readers_name_the_variable_in_errors() -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_X"):
        env_bool("DJANGO_X", environ={"DJANGO_X": "y"})
    with pytest.raises(ImproperlyConfigured, match="DJANGO_Y"):
        env_int("DJANGO_Y", environ={"DJANGO_Y": "ten"})
    assert env_int("DJANGO_Y", default=7, environ={}) == 7
    assert env_list("DJANGO_Z", environ={"DJANGO_Z": "a,,b ,"}) == ["a", "b"]


def test_security_settings_follow_the_environment() -> None:
    env = {
        **PROD,
        "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
        "DJANGO_SECURE_SSL_REDIRECT": "yes",
        "DJANGO_SECURE_HSTS_SECONDS": "3600",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
        "DJANGO_SECURE_HSTS_PRELOAD": "on",
        "DJANGO_SESSION_COOKIE_SECURE": "true",
        "DJANGO_CSRF_COOKIE_SECURE": "true",
    }
    assert setting("SECURE_PROXY_SSL_HEADER", **env) == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert setting("SECURE_SSL_REDIRECT", **env) is True
    assert setting("SECURE_HSTS_SECONDS", **env) == 3600
    assert setting("SECURE_HSTS_INCLUDE_SUBDOMAINS", **env) is True
    assert setting("SECURE_HSTS_PRELOAD", **env) is True
    assert setting("SESSION_COOKIE_SECURE", **env) is True
    assert setting("CSRF_COOKIE_SECURE", **env) is True
    assert setting("SECURE_REDIRECT_EXEMPT", **env) == ["^healthz$", "^readyz$"]
    # Defaults: plain HTTP works unless the deploy opts in.
    assert setting("SECURE_PROXY_SSL_HEADER", **PROD) is None
    assert setting("SECURE_SSL_REDIRECT", **PROD) is False


def test_cache_defaults_to_local_memory() -> None:
    caches = setting("CACHES", **PROD)
    assert caches["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert setting("CATALOG_CACHE_TIMEOUT", **PROD) == 300
    assert setting("CACHE_BYPASS_ALLOWED", **PROD) is False


def test_cache_unix_socket_location() -> None:
    caches = setting(
        "CACHES",
        **PROD,
        DJANGO_CACHE_LOCATION="unix:/run/memcached/memcached.sock",
        DJANGO_CACHE_KEY_PREFIX="demo",
    )
    default = caches["default"]
    assert default["BACKEND"] == "django.core.cache.backends.memcached.PyMemcacheCache"
    assert default["LOCATION"] == "unix:/run/memcached/memcached.sock"
    assert default["KEY_PREFIX"] == "demo"


def test_cache_host_port_list() -> None:
    caches = setting("CACHES", **PROD, DJANGO_CACHE_LOCATION="10.0.0.5:11211, 10.0.0.6:11211")
    default = caches["default"]
    assert default["BACKEND"] == "django.core.cache.backends.memcached.PyMemcacheCache"
    assert default["LOCATION"] == ["10.0.0.5:11211", "10.0.0.6:11211"]


def test_database_defaults_to_sqlite_in_base_dir() -> None:
    db = setting("DATABASES", **PROD)["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"].endswith("/db.sqlite3")
    assert db["OPTIONS"]["timeout"] == 20
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]


def test_database_sqlite_path_from_url() -> None:
    url = "sqlite:////srv/demo/shared/db.sqlite3"
    db = setting("DATABASES", **PROD, DJANGO_DATABASE_URL=url)["default"]
    assert db["NAME"] == "/srv/demo/shared/db.sqlite3"


def test_database_postgres_url() -> None:
    url = "postgres://demo:s3cret@db.internal:5432/demo"
    db = setting("DATABASES", **PROD, DJANGO_DATABASE_URL=url)["default"]
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"]) == ("db.internal", 5432, "demo", "demo")
    assert db["CONN_HEALTH_CHECKS"] is True


def test_static_and_media_locations() -> None:
    env = {
        **PROD,
        "DJANGO_STATIC_ROOT": "/srv/demo/static",
        "DJANGO_STATIC_URL": "/assets/",
        "DJANGO_MEDIA_ROOT": "/srv/demo/media",
        "DJANGO_MEDIA_URL": "/uploads/",
    }
    assert setting("STATIC_ROOT", **env) == "/srv/demo/static"
    assert setting("STATIC_URL", **env) == "/assets/"
    assert setting("MEDIA_ROOT", **env) == "/srv/demo/media"
    assert setting("MEDIA_URL", **env) == "/uploads/"
    storages = setting("STORAGES", **PROD)
    assert storages["staticfiles"]["BACKEND"].endswith("ManifestStaticFilesStorage")


def test_logging_goes_to_stdout() -> None:
    logging_config = setting("LOGGING", **PROD, DJANGO_LOG_LEVEL="debug")
    assert logging_config["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert logging_config["root"]["level"] == "DEBUG"

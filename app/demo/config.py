"""Builders for the structured settings (DATABASES, CACHES) from env strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

SQLITE_ENGINE = "django.db.backends.sqlite3"


def database_config(url: str, base_dir: Path) -> dict[str, Any]:
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(url))
    except ValueError as exc:
        raise ImproperlyConfigured(f"DJANGO_DATABASE_URL={url!r} is invalid: {exc}") from None

    if config["ENGINE"] == SQLITE_ENGINE:
        name = config.get("NAME", "")
        # A relative path would depend on gunicorn's working directory; anchor
        # it to the project instead so every entry point opens the same file.
        if name and name != ":memory:" and not Path(name).is_absolute():
            config["NAME"] = str(base_dir / name)
        config["OPTIONS"] = {
            # Several gunicorn workers share one file: wait for the write
            # lock instead of failing with "database is locked".
            "timeout": 20,
            # Take the write lock at BEGIN so the busy timeout applies;
            # upgrading a read transaction later fails immediately instead.
            "transaction_mode": "IMMEDIATE",
            # WAL lets readers proceed while a worker writes. The mode is
            # persistent in the file, so repeating it per connection is cheap.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            **config.get("OPTIONS", {}),
        }
        config["CONN_MAX_AGE"] = 0
    else:
        # Network databases: reuse connections across requests, but verify
        # them first so a restarted server does not cost one failed request.
        config["CONN_MAX_AGE"] = 60
        config["CONN_HEALTH_CHECKS"] = True
    return config


def _validate_memcached_server(server: str) -> str:
    host, sep, port = server.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(
            f"DJANGO_CACHE_LOCATION entry {server!r} is not host:port "
            "(expected e.g. 10.0.0.5:11211 or unix:/run/memcached/memcached.sock)."
        )
    return server


def cache_config(location: str, key_prefix: str) -> dict[str, Any]:
    """Return CACHES["default"]: memcached when a location is set, else locmem."""
    if not location:
        # Per-process memory: fine for development, useless across workers.
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "demo",
            "KEY_PREFIX": key_prefix,
        }

    if location.startswith("unix:"):
        path = location.removeprefix("unix:")
        if not path.startswith("/"):
            raise ImproperlyConfigured(
                f"DJANGO_CACHE_LOCATION={location!r}: the unix socket path must be absolute."
            )
        servers: str | list[str] = location
    else:
        entries = [item.strip() for item in location.split(",") if item.strip()]
        servers = [_validate_memcached_server(item) for item in entries]

    return {
        "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
        "LOCATION": servers,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": {
            # A dead memcached must cost a request at most a couple of
            # seconds, not a worker timeout.
            "connect_timeout": 2,
            "timeout": 2,
            "no_delay": True,
            # Bring a recovered server back quickly (pymemcache's default is 60s).
            "dead_timeout": 10,
        },
    }

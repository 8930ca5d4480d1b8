"""Liveness (/healthz) and readiness (/readyz) probes.

Probes talk to gunicorn's unix socket over plain HTTP, so both paths are in
SECURE_REDIRECT_EXEMPT, and both answer with Cache-Control: no-store so no
proxy ever replays a stale verdict.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

OK = "ok"


def _describe(exc: BaseException) -> str:
    # One short line: the body is read by people and by Ansible's uri module.
    text = " ".join(str(exc).split())[:200]
    return f"fail: {type(exc).__name__}: {text}" if text else f"fail: {type(exc).__name__}"


def check_database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return _describe(exc)
    return OK


def check_cache() -> str:
    # A fresh client, not the shared one: pymemcache remembers failed servers
    # and answers "miss" silently for a while, which would hide an outage
    # (or a recovery) from the probe.
    cache = caches.create_connection("default")
    key = f"readyz:{uuid.uuid4().hex}"
    token = uuid.uuid4().hex
    try:
        cache.set(key, token, timeout=30)
        if cache.get(key) != token:
            return "fail: value written to the cache could not be read back"
        cache.delete(key)
    except Exception as exc:
        return _describe(exc)
    finally:
        cache.close()
    return OK


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    # Liveness only: no database or cache, so a database outage does not get
    # healthy workers restarted.
    return JsonResponse({"status": OK, "release": settings.RELEASE})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "cache": check_cache()}
    ready = all(result == OK for result in checks.values())
    if not ready:
        logger.warning("readiness check failed: %s", checks)
    return JsonResponse(
        {"status": OK if ready else "fail", "release": settings.RELEASE, "checks": checks},
        status=200 if ready else 503,
    )

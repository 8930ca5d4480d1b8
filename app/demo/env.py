"""Typed readers for DJANGO_* environment variables.

Every reader raises ImproperlyConfigured naming the variable, so a bad value
in the deploy's environment file fails at start-up with a message an operator
can act on instead of a traceback deep inside Django.

An empty value counts as unset: systemd EnvironmentFile lines such as
``DJANGO_RELEASE=`` are a common way to document a variable without setting it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    value = environ.get(name, "").strip()
    return value if value else default


def env_bool(name: str, default: bool = False, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, environ=environ)
    if not raw:
        return default
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of true/false, 1/0, yes/no, on/off."
    )


def env_int(
    name: str,
    default: int = 0,
    minimum: int | None = 0,
    environ: Mapping[str, str] | None = None,
) -> int:
    raw = env_str(name, environ=environ)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be >= {minimum}.")
    return value


def env_list(name: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Comma-separated list; blanks are dropped so trailing commas are harmless."""
    return [item.strip() for item in env_str(name, environ=environ).split(",") if item.strip()]

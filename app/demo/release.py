"""Which release (commit) this process is serving.

The deploy role writes a RELEASE file into each release directory, so a
rolled-back release reports its own commit without any environment change;
DJANGO_RELEASE wins when set so ad-hoc runs can label themselves.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

RELEASE_FILE = "RELEASE"
DEFAULT_RELEASE = "dev"


def _sanitize(value: str) -> str:
    # Only the first line, and only printable ASCII: the value goes into an
    # HTTP header, where a stray newline or non-latin-1 byte would break it.
    first_line = value.splitlines()[0] if value else ""
    return "".join(ch for ch in first_line if 32 <= ord(ch) < 127).strip()


def resolve_release(base_dir: Path, environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    from_env = _sanitize(environ.get("DJANGO_RELEASE", ""))
    if from_env:
        return from_env
    try:
        from_file = _sanitize((Path(base_dir) / RELEASE_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        from_file = ""
    return from_file or DEFAULT_RELEASE


DEFAULT_MANAGE_COMMAND = "python manage.py"


def manage_command(base_dir: Path, environ: Mapping[str, str] | None = None) -> str:
    """How an operator runs this project's manage.py where it is installed, for hints
    shown on pages. A djstack host keeps each release in <root>/releases/<id>/ and
    runs manage.py through <root>/bin/manage, which needs root to become the app user;
    in a checkout it is plain manage.py. DJANGO_MANAGE_COMMAND wins when set."""
    environ = os.environ if environ is None else environ
    from_env = _sanitize(environ.get("DJANGO_MANAGE_COMMAND", ""))
    if from_env:
        return from_env
    for parent in Path(base_dir).parents:
        if parent.name == "releases":
            wrapper = parent.parent / "bin" / "manage"
            if wrapper.is_file():
                return f"sudo {wrapper}"
            break
    return DEFAULT_MANAGE_COMMAND

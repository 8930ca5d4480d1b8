# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Python a project needs, from what it declares: `requires-python` in its
pyproject.toml and the Django releases its requirements allow.

It runs on the controller (preflight, before any host changes) and on the host (before a
release's venv is built), where `packaging` may be missing: the specifier subset of
PEP 440 that these declarations use is evaluated here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ansible_collections.djstack.stack.plugins.module_utils.venv import declared_requirements, pyproject_dependencies

# The oldest Python each Django feature release supports (Django's release notes).
DJANGO_MIN_PYTHON: dict[tuple[int, int], tuple[int, int]] = {
    (3, 2): (3, 6),
    (4, 0): (3, 8), (4, 1): (3, 8), (4, 2): (3, 8),
    (5, 0): (3, 10), (5, 1): (3, 10), (5, 2): (3, 10),
    (6, 0): (3, 12),
}
# Patch releases tried per feature release: enough for any series so far.
_PATCHES = range(0, 60)
_CLAUSE = re.compile(r"^\s*(===|==|!=|~=|<=|>=|<|>)\s*([0-9][0-9A-Za-z.*+!-]*)\s*$")


def parse_version(text: str) -> tuple[int, ...]:
    """The release part of a version (3.12.1rc1 -> (3, 12, 1)); pre/post/local tags drop."""
    release = re.match(r"^\s*(?:\d+!)?(\d+(?:\.\d+)*)", text)
    if release is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in release.group(1).split("."))


def _pad(version: tuple[int, ...], length: int) -> tuple[int, ...]:
    return version + (0,) * (length - len(version))


def _clause_allows(operator: str, target: str, version: tuple[int, ...]) -> bool:
    if target.endswith(".*"):
        prefix = parse_version(target[:-2])
        matches = _pad(version, len(prefix))[:len(prefix)] == prefix
        return matches if operator == "==" else not matches
    wanted = parse_version(target)
    length = max(len(wanted), len(version))
    mine, theirs = _pad(version, length), _pad(wanted, length)
    if operator in ("==", "==="):
        return mine == theirs
    if operator == "!=":
        return mine != theirs
    if operator == ">=":
        return mine >= theirs
    if operator == "<=":
        return mine <= theirs
    if operator == ">":
        return mine > theirs
    if operator == "<":
        return mine < theirs
    # ~=X.Y.Z: >= X.Y.Z and == X.Y.*
    if len(wanted) < 2:
        raise ValueError(f"~={target} needs at least two version parts")
    return mine >= theirs and mine[:len(wanted) - 1] == wanted[:-1]


def allows(specifiers: str, version: tuple[int, ...]) -> bool:
    """Whether every comma-separated clause of `specifiers` admits `version` ("" admits all)."""
    for clause in (c for c in specifiers.split(",") if c.strip()):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValueError(f"cannot read the version specifier {clause.strip()!r}")
        if not _clause_allows(match.group(1), match.group(2), version):
            return False
    return True


def _django_floor(specifiers: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(oldest Django series the specifiers allow, its oldest Python), or None when they
    allow no series we know (a future Django: pip decides)."""
    for series in sorted(DJANGO_MIN_PYTHON):
        if any(allows(specifiers, series + (patch,)) for patch in _PATCHES):
            return series, DJANGO_MIN_PYTHON[series]
    return None


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def python_problems(root: Path, requirements: str, python: str, version: tuple[int, ...]) -> list[str]:
    """What in the project at `root` rules out the interpreter `python` of `version`,
    each naming the declaration, both versions and what to change; [] when nothing does."""
    problems: list[str] = []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as handle:
            spec = str(tomllib.load(handle).get("project", {}).get("requires-python", "")).strip()
        if spec and not allows(spec, version):
            problems.append(
                f"pyproject.toml says requires-python = \"{spec}\", but the host's {python} is "
                f"Python {_dotted(version)}: use a host whose Python matches (Debian 13 has 3.13), "
                f"or point django_app_python at one that does."
            )
    path = root / requirements if requirements else None
    # Both places that may name Django: pip has to meet each.
    for source, declared in (
        (requirements, declared_requirements(path) if path is not None and path.is_file() else {}),
        ("pyproject.toml", declared_requirements(None, pyproject_dependencies(pyproject))
         if pyproject.is_file() else {}),
    ):
        django = declared.get("django")
        if django is None:
            continue
        floor = _django_floor(django)
        if floor is not None and version[:2] < floor[1]:
            (series, needed) = floor
            older = [s for s, p in DJANGO_MIN_PYTHON.items() if p <= version[:2]]
            advice = f"pin Django {_dotted(max(older))} (or older)" if older else "pin an older Django"
            problems.append(
                f"{source} allows Django{django} and Django {_dotted(series)} needs Python "
                f">= {_dotted(needed)}, but the host's {python} is Python {_dotted(version)}: "
                f"{advice}, or use a host with Python >= {_dotted(needed)} (Debian 13 has 3.13)."
            )
    return problems

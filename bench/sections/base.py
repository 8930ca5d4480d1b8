"""The shape every section has."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.context import Context

Data = dict[str, Any]


@dataclass(frozen=True)
class Goal:
    """A goal the project states (in a README or the issue) and whether this run met it."""

    goal: str
    source: str
    met: bool
    detail: str


@dataclass(frozen=True)
class Section:
    key: str
    number: int  # its place in results.md
    title: str
    run: Callable[[Context], Data]
    render: Callable[[Data], list[str]]
    goals: Callable[[Data], list[Goal]]


_NUMBER = r"[-+]?[\d,]*\.?\d+(?: ?[a-zA-Z%]{1,3})?"


def _numeric(cell: str) -> bool:
    """A number, a range of two, a dash or nothing (bold allowed)."""
    return re.fullmatch(rf"\**(?:{_NUMBER}(?:–{_NUMBER})?|–)?\**", cell.strip()) is not None


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table; columns of numbers right-aligned, the rest left."""
    align = ["---:" if rows and all(_numeric(row[i]) for row in rows) else "---" for i in range(len(header))]
    # A "|" inside a cell (systemd settings such as ~AF_(INET|INET6)) would split it.
    rows = [[re.sub(r"(?<!\\)\|", r"\\|", cell) for cell in row] for row in rows]
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(row) + " |" for row in rows)]


def num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator

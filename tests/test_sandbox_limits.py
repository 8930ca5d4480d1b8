"""The sandbox exposure limit of each service is one number (tools/sandbox.py): the
roles' Molecule tests and the bench's security goal both read it."""

from __future__ import annotations

import re

from bench.sections.security import UNITS
from tools.collection import ROOT
from tools.sandbox import EXPOSURE_LIMITS


def test_bench_goals_use_the_shared_limits() -> None:
    assert {runs: limit for runs, _, limit, _ in UNITS.values()} == EXPOSURE_LIMITS


def test_molecule_tests_compare_exposure_with_the_shared_limits_only() -> None:
    compared = {}
    for test in (ROOT / "molecule").glob("*/tests/test_*.py"):
        for line in test.read_text().splitlines():
            if "exposure(" in line and "<=" in line:
                compared[f"{test.parent.parent.name}: {line.strip()}"] = "EXPOSURE_LIMITS[" in line
    assert compared and all(compared.values()), compared

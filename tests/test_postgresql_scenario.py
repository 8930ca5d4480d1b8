"""The postgresql Molecule scenario runs on the shared base's platform with a memory
limit, which the matrix passes to the platform's `memory`."""

from __future__ import annotations

from pathlib import Path

import yaml

from tools import matrix

ROOT = Path(__file__).resolve().parents[1]


def test_the_scenario_declares_a_memory_limit_the_matrix_passes_on(tmp_path):
    assert matrix.scenario_memory("postgresql") == "1g"
    assert matrix.job_env(matrix.Job("postgresql", "debian12"), tmp_path, None)["DJSTACK_MEMORY"] == "1g"


def test_the_scenario_keeps_the_shared_platform():
    assert "platforms" not in yaml.safe_load((ROOT / "molecule" / "postgresql" / "molecule.yml").read_text())
    base = yaml.safe_load((ROOT / ".config" / "molecule" / "config.yml").read_text())["platforms"]
    assert base[0]["memory"] == "${DJSTACK_MEMORY:-0}"


def test_other_scenarios_have_no_limit(tmp_path):
    assert matrix.job_env(matrix.Job("memcached", "debian12"), tmp_path, None)["DJSTACK_MEMORY"] == "0"

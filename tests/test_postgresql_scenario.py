"""The postgresql Molecule scenario runs on the shared base's platform, plus a memory
limit: Molecule replaces the platforms list whole, so molecule.yml holds a copy."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _platforms(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["platforms"]


def test_platform_is_the_bases_plus_a_memory_limit():
    base = _platforms(ROOT / ".config" / "molecule" / "config.yml")
    scenario = _platforms(ROOT / "molecule" / "postgresql" / "molecule.yml")
    assert len(scenario) == len(base) == 1
    assert scenario[0]["memory"] == "1g"
    assert {k: v for k, v in scenario[0].items() if k != "memory"} == base[0]

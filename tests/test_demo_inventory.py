"""inventory/local, the demo's inventory: its sample data (django_app_manage_commands)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEMO_VARS = ROOT / "inventory" / "local" / "group_vars" / "local" / "main.yml"


def _seed() -> dict:
    commands = yaml.safe_load(DEMO_VARS.read_text())["django_app_manage_commands"]
    [seed] = [command for command in commands if command["argv"][0] == "seed_products"]
    return seed


def test_demo_seeds_sample_products():
    assert int(_seed()["argv"][1]) > 0


# Lines as app/catalog/management/commands/seed_products.py prints them (app/tests/test_seed.py).
def test_seeding_reports_changed_when_it_created_products():
    assert re.search(_seed()["changed"], "Seeded 10 new products (50 in total).", re.MULTILINE)


def test_reseeding_an_existing_catalog_is_not_a_change():
    assert not re.search(_seed()["changed"], "Seeded 0 new products (50 in total).", re.MULTILINE)

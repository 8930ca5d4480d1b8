from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_products", *args, stdout=out)
    return out.getvalue()


def test_seeds_n_products() -> None:
    assert "Seeded 25 new products (25 in total)" in seed("25")
    assert Product.objects.count() == 25
    assert Product.objects.filter(price__lte=0).count() == 0
    assert Product.objects.get(slug="product-00007").name.endswith("00007")


def test_running_twice_is_harmless() -> None:
    seed("10")
    names = list(Product.objects.values_list("name", flat=True))
    assert "Seeded 0 new products (10 in total)" in seed("10")
    assert list(Product.objects.values_list("name", flat=True)) == names


def test_larger_n_adds_only_the_missing_products() -> None:
    seed("5")
    assert "Seeded 7 new products (12 in total)" in seed("12", "--batch-size", "4")


def test_zero_is_allowed_and_negative_is_refused() -> None:
    assert "Seeded 0 new products" in seed("0")
    with pytest.raises(CommandError, match="count"):
        seed("-1")

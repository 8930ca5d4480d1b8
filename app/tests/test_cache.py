"""The cached product list: hit vs miss, invalidation, bypass."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from pytest_django.fixtures import Settings

from catalog import listing
from catalog.models import Product

pytestmark = pytest.mark.django_db

CaptureOnCommit = Callable[..., AbstractContextManager[Any]]
AssertNumQueries = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def product(django_capture_on_commit_callbacks: CaptureOnCommit) -> Product:
    with django_capture_on_commit_callbacks(execute=True):
        return Product.objects.create(name="Lamp", slug="lamp", price=Decimal("12.50"))


def test_second_request_is_a_hit_with_no_queries(
    client: Client, product: Product, django_assert_num_queries: AssertNumQueries
) -> None:
    with django_assert_num_queries(2):  # listing + aggregate
        miss = client.get("/products/")
    assert miss["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        hit = client.get("/products/")
    assert hit["X-Cache"] == "hit"
    assert hit.content == miss.content


def test_saving_a_product_invalidates_the_listing(
    client: Client, product: Product, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client.get("/products/")
    assert client.get("/products/")["X-Cache"] == "hit"

    product.name = "Reading lamp"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        product.save()
    assert len(callbacks) == 1

    response = client.get("/products/")
    assert response["X-Cache"] == "miss"
    assert "Reading lamp" in response.content.decode()


def test_creating_a_product_invalidates_the_listing(
    client: Client, product: Product, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    client.get("/products/")
    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.create(name="Desk", slug="desk", price=Decimal("99"))
    response = client.get("/products/")
    assert response["X-Cache"] == "miss"
    assert "Desk" in response.content.decode()


def test_deleting_a_product_invalidates_the_listing(
    client: Client, product: Product, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    assert "Lamp" in client.get("/products/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        product.delete()
    response = client.get("/products/")
    assert response["X-Cache"] == "miss"
    assert "Lamp" not in response.content.decode()


def test_invalidation_waits_for_commit(client: Client, product: Product) -> None:
    # Without the commit the cached listing must survive: another request
    # could otherwise re-cache rows this transaction has not committed.
    client.get("/products/")
    product.name = "Uncommitted"
    product.save()  # on_commit callback is captured by the test transaction
    assert client.get("/products/")["X-Cache"] == "hit"


def test_seed_command_invalidates_the_listing(client: Client, product: Product) -> None:
    client.get("/products/")
    call_command("seed_products", "3", stdout=io.StringIO())
    response = client.get("/products/")
    assert response["X-Cache"] == "miss"
    assert response.content.decode().count('class="price"') == 4


def test_lost_generation_key_does_not_serve_stale_listings(
    client: Client, product: Product
) -> None:
    client.get("/products/")
    cache.delete(listing.GENERATION_KEY)  # e.g. evicted by memcached
    assert client.get("/products/")["X-Cache"] == "miss"


def test_bypass_ignored_when_not_allowed(
    client: Client,
    product: Product,
    settings: Settings,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    settings.CACHE_BYPASS_ALLOWED = False
    client.get("/products/")
    with django_assert_num_queries(0):
        response = client.get("/products/?nocache=1")
    assert response["X-Cache"] == "hit"
    assert client.get("/api/products/?nocache=1")["X-Cache"] in {"hit", "miss"}


def test_bypass_when_allowed(
    client: Client,
    product: Product,
    settings: Settings,
    django_assert_num_queries: AssertNumQueries,
) -> None:
    settings.CACHE_BYPASS_ALLOWED = True
    client.get("/products/")  # warm the cache
    with django_assert_num_queries(2):
        response = client.get("/products/?nocache=1")
    assert response["X-Cache"] == "bypass"
    assert client.get("/api/products/?nocache=1")["X-Cache"] == "bypass"
    # The bypass neither read nor replaced the cached copy.
    assert client.get("/products/")["X-Cache"] == "hit"


def test_cache_timeout_comes_from_settings(
    client: Client, product: Product, settings: Settings
) -> None:
    settings.CATALOG_CACHE_TIMEOUT = 0  # Django: 0 means "expire immediately"
    client.get("/products/")
    assert client.get("/products/")["X-Cache"] == "miss"


def test_page_survives_a_broken_cache(
    client: Client, product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    class DownCache:
        def __getattr__(self, name: str) -> Callable[..., None]:
            def fail(*args: object, **kwargs: object) -> None:
                raise ConnectionRefusedError("memcached is down")

            return fail

    monkeypatch.setattr(listing, "cache", DownCache())
    response = client.get("/products/")
    assert response.status_code == 200
    assert response["X-Cache"] == "miss"
    assert "Lamp" in response.content.decode()

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from catalog.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def products() -> list[Product]:
    return [
        Product.objects.create(
            name="Teapot", slug="teapot", price=Decimal("19.90"), description="Brews."
        ),
        Product.objects.create(name="Kettle", slug="kettle", price=Decimal("35.00")),
    ]


def test_home_redirects_to_products(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/products/"


def test_product_list_page(client: Client, products: list[Product]) -> None:
    response = client.get("/products/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Teapot" in body and "Kettle" in body
    assert body.index("Kettle") < body.index("Teapot"), "sorted by name"
    assert "2 products" in body
    assert "/static/catalog/css/site.css" in body
    assert response["X-Cache"] in {"hit", "miss"}


def test_product_list_page_when_empty(client: Client) -> None:
    response = client.get("/products/")
    assert response.status_code == 200
    assert "seed_products" in response.content.decode()


def test_empty_product_list_hint_uses_the_manage_command_setting(
    client: Client, settings: Settings
) -> None:
    settings.MANAGE_COMMAND = "sudo /srv/demo/bin/manage"
    body = client.get("/products/").content.decode()
    assert "<code>sudo /srv/demo/bin/manage seed_products 50</code>" in body


def test_product_api(client: Client, products: list[Product]) -> None:
    response = client.get("/api/products/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["count"] == 2
    assert [item["slug"] for item in data["results"]] == ["kettle", "teapot"]
    teapot = data["results"][1]
    assert teapot["price"] == "19.90"
    assert teapot["description"] == "Brews."
    assert teapot["updated_at"]
    assert response["X-Cache"] == "miss"
    assert client.get("/api/products/")["X-Cache"] == "hit"


def test_about_page_uses_static_css_and_image(client: Client) -> None:
    response = client.get("/about/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/static/catalog/css/site.css"' in body
    assert 'src="/static/catalog/img/hero.png"' in body
    assert "test-release" in body


def test_views_reject_writes(client: Client) -> None:
    assert client.post("/products/").status_code == 405
    assert client.post("/api/products/").status_code == 405


def test_admin_is_enabled(client: Client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "/static/admin/css/" in response.content.decode()


def test_admin_can_edit_products(admin_client: Client, products: list[Product]) -> None:
    response = admin_client.get(f"/admin/catalog/product/{products[0].pk}/change/")
    assert response.status_code == 200
    assert "Teapot" in response.content.decode()


def test_unknown_path_is_404(client: Client) -> None:
    assert client.get("/nope/").status_code == 404


def test_security_headers(client: Client) -> None:
    response = client.get("/about/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"

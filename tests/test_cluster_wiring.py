"""A cluster's wiring from the inventory's groups alone (inventory/cluster, through
show_config as the README runs it): the load balancer balances over the app hosts'
private TCP listeners, the app hosts use the cache host's memcached and the db host's
PostgreSQL, and each private port is open to the tier that uses it alone. A host in
every group keeps the single-host wiring (unix sockets, no private ports)."""

from __future__ import annotations

import json

import pytest

from tests.test_group_vars import effective_config

VAULT = json.dumps({"vault_site_database_password": "cluster-db-secret",
                    "vault_django_app_secret_key": "x" * 50})


@pytest.fixture(scope="module")
def cluster() -> dict[str, dict[str, object]]:
    return effective_config("inventory/cluster", "-e", VAULT)


def test_the_balancer_balances_over_both_app_hosts(cluster) -> None:
    assert cluster["lb1.example.com"]["nginx_upstream_servers"] == ["10.0.0.21:8000", "10.0.0.22:8000"]


def test_the_balancers_firewall_opens_no_private_port(cluster) -> None:
    assert cluster["lb1.example.com"]["base_firewall_source_rules"] == []


def test_an_app_host_listens_on_its_private_address_for_the_balancer(cluster) -> None:
    app = cluster["app1.example.com"]
    assert app["gunicorn_listen"] == ["10.0.0.21:8000"]
    assert app["base_firewall_source_rules"] == [{"port": 8000, "sources": ["10.0.0.10"]}]
    # An app host is no web host: its nginx settings are unused, and it balances over nothing.
    assert app["nginx_upstream_servers"] == []


def test_the_app_hosts_use_the_cache_hosts_memcached(cluster) -> None:
    for name in ("app1.example.com", "app2.example.com"):
        assert cluster[name]["django_app_cache_location"] == "10.0.0.30:11211"


def test_the_cache_host_listens_for_the_app_hosts_alone(cluster) -> None:
    cache = cluster["cache1.example.com"]
    assert cache["memcached_listen"] == ["10.0.0.30:11211"]
    assert cache["base_firewall_source_rules"] == [{"port": 11211, "sources": ["10.0.0.21", "10.0.0.22"]}]


def test_the_app_hosts_use_the_db_hosts_postgresql(cluster) -> None:
    for name in ("app1.example.com", "app2.example.com"):
        assert cluster[name]["django_app_database_url"] == "postgresql://shop:***@10.0.0.40:5432/shop"


def test_the_db_host_admits_the_app_hosts_alone(cluster) -> None:
    db = cluster["db1.example.com"]
    assert db["postgresql_clients"] == ["10.0.0.21", "10.0.0.22"]
    assert db["base_firewall_source_rules"] == [{"port": 5432, "sources": ["10.0.0.21", "10.0.0.22"]}]


def test_a_single_host_keeps_unix_sockets_and_no_private_port() -> None:
    host = effective_config("inventory/production")["web1.example.com"]
    assert host["nginx_upstream_servers"] == []
    assert host["gunicorn_listen"] == []
    assert host["memcached_listen"] == ["unix:/run/memcached/memcached.sock"]
    assert host["django_app_cache_location"] == "unix:/run/memcached/memcached.sock"
    assert host["base_firewall_source_rules"] == []

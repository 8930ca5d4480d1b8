"""The product listing and its cache.

Invalidation uses a generation token instead of deleting keys: every listing
key embeds the current token, so replacing the token orphans all cached
listings at once (they expire on their own), with no key enumeration —
which memcached cannot do anyway.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, Max, Min

from catalog.models import Product

logger = logging.getLogger(__name__)

GENERATION_KEY = "catalog:products:generation"
LISTING_KEY = "catalog:products:listing:{generation}"
# Keeps one cached listing well under memcached's 1 MiB item limit.
LISTING_LIMIT = 500

HIT, MISS, BYPASS = "hit", "miss", "bypass"


@dataclass(frozen=True)
class Listing:
    products: list[dict[str, Any]]
    stats: dict[str, Any]
    cache_status: str


def query_listing() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The deliberately "expensive" part: a sorted scan plus an aggregate."""
    products = list(
        Product.objects.order_by("name", "id").values(
            "id", "name", "slug", "description", "price", "updated_at"
        )[:LISTING_LIMIT]
    )
    stats = Product.objects.aggregate(
        count=Count("id"), min_price=Min("price"), max_price=Max("price"), avg_price=Avg("price")
    )
    return products, stats


def current_generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        # A random token, not a counter starting at 1: if the key is evicted,
        # a restarted count could collide with listings cached before.
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)
    if generation is None:
        raise RuntimeError("cache did not keep the generation key")
    return str(generation)


def invalidate_listing() -> None:
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        # A write must not fail because memcached is down; the stale listing
        # lives at most DJANGO_CACHE_TIMEOUT seconds.
        logger.warning("could not invalidate the product listing cache", exc_info=True)


def get_listing(bypass: bool = False) -> Listing:
    if bypass:
        return Listing(*query_listing(), cache_status=BYPASS)
    try:
        key = LISTING_KEY.format(generation=current_generation())
        cached = cache.get(key)
    except Exception:
        # Serve from the database rather than erroring while the cache is down.
        logger.warning("product listing cache unavailable", exc_info=True)
        return Listing(*query_listing(), cache_status=MISS)
    if cached is not None:
        products, stats = cached
        return Listing(products, stats, cache_status=HIT)

    products, stats = query_listing()
    try:
        cache.set(key, (products, stats), timeout=settings.CATALOG_CACHE_TIMEOUT)
    except Exception:
        logger.warning("could not store the product listing in the cache", exc_info=True)
    return Listing(products, stats, cache_status=MISS)

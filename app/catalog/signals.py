"""Invalidate the cached product listing whenever a product changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.listing import invalidate_listing
from catalog.models import Product


@receiver(post_save, sender=Product, dispatch_uid="catalog-product-saved")
@receiver(post_delete, sender=Product, dispatch_uid="catalog-product-deleted")
def product_changed(sender: type[Product], **kwargs: Any) -> None:
    # After commit: invalidating earlier would let a concurrent request
    # re-cache the old rows before this transaction becomes visible.
    transaction.on_commit(invalidate_listing)

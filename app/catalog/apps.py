from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        # Connect the cache-invalidation signal handlers.
        from catalog import signals  # noqa: F401

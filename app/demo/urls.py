from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from demo import health

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="catalog:product-list"), name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("catalog.urls")),
]

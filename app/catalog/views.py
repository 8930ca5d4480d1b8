from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from catalog.listing import Listing, get_listing

CACHE_HEADER = "X-Cache"


def _listing_for(request: HttpRequest) -> Listing:
    # The bypass is for benchmarks; when not allowed the parameter is ignored
    # (not rejected) so the response is the normal cached one.
    wants_bypass = request.GET.get("nocache", "").lower() in {"1", "true", "yes", "on"}
    return get_listing(bypass=wants_bypass and settings.CACHE_BYPASS_ALLOWED)


@require_safe
def product_list(request: HttpRequest) -> HttpResponse:
    listing = _listing_for(request)
    response = render(
        request,
        "catalog/product_list.html",
        {
            "products": listing.products,
            "stats": listing.stats,
            "manage_command": settings.MANAGE_COMMAND,
        },
    )
    response[CACHE_HEADER] = listing.cache_status
    return response


@require_safe
def product_api(request: HttpRequest) -> JsonResponse:
    listing = _listing_for(request)
    response = JsonResponse(
        {
            "count": listing.stats["count"],
            "returned": len(listing.products),
            "results": listing.products,
        }
    )
    response[CACHE_HEADER] = listing.cache_status
    return response


@require_safe
def about(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/about.html", {"release": settings.RELEASE})

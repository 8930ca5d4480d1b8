"""Stamp every response with the release that produced it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

RELEASE_HEADER = "X-App-Release"

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]


@sync_and_async_middleware
def release_header_middleware(get_response: GetResponse) -> Callable:
    # During a rolling deploy, or after a rollback, this header is how a
    # client or a test tells which release answered.
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            response = await get_response(request)
            response[RELEASE_HEADER] = settings.RELEASE
            return response

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        response[RELEASE_HEADER] = settings.RELEASE
        return response

    return middleware

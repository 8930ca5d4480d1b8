"""What `make demo` checks from the browser's side before it says the site is up.

The demo sits behind port-forwards (8080, 8443), which is exactly where a site that
works on 80/443 breaks: redirects that drop the port, CSRF origin checks that fail.
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import secrets
import ssl
import urllib.error
import urllib.parse
import urllib.request

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# One table row per product the catalog page lists (app/catalog/templates/catalog/product_list.html).
_PRODUCT_ROW = re.compile(r'<tr>\s*<td><strong>')


def _self_signed() -> ssl.SSLContext:
    # The demo's certificate is self-signed: skip verification for these probes only.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def readyz(url: str) -> tuple[int, str]:
    """(status, release id) of the site's /readyz."""
    with urllib.request.urlopen(f"{url}readyz", context=_self_signed(), timeout=10) as response:
        return response.status, str(json.loads(response.read()).get("release", "?"))


def redirect_target(http_url: str) -> str:
    """Where plain HTTP sends a browser (the Location of the first answer)."""
    parts = urllib.parse.urlsplit(http_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
    try:
        connection.request("GET", parts.path or "/", headers={"Host": parts.netloc})
        return connection.getresponse().getheader("Location") or ""
    finally:
        connection.close()


def csrf_token(page: str) -> str:
    match = _TOKEN.search(page)
    if match is None:
        raise ValueError("no csrfmiddlewaretoken in the page")
    return match.group(1)


def product_rows(page: str) -> int:
    """How many products a catalog page lists."""
    return len(_PRODUCT_ROW.findall(page))


def products_listed(url: str) -> int:
    """How many products the site's /products/ page lists."""
    with urllib.request.urlopen(f"{url}products/", context=_self_signed(), timeout=10) as response:
        return product_rows(response.read().decode())


def admin_login_status(url: str) -> int:
    """Status of a wrong-password admin login posted as a browser would (Origin, cookie,
    token): 200 is the form again with an error, 403 is Django's CSRF refusal."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=_self_signed()),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )
    login = f"{url}admin/login/"
    with opener.open(login, timeout=10) as response:
        token = csrf_token(response.read().decode())
    form = urllib.parse.urlencode({
        "csrfmiddlewaretoken": token, "username": "probe", "password": secrets.token_hex(16),
        "next": "/admin/",
    }).encode()
    origin = urllib.parse.urlunsplit(urllib.parse.urlsplit(url)[:2] + ("", "", ""))
    request = urllib.request.Request(login, data=form, headers={"Origin": origin, "Referer": login})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def problems(https_url: str, http_url: str) -> list[str]:
    """What a browser would trip over; empty when the site works through these URLs."""
    found = []
    if (target := redirect_target(http_url)) != https_url:
        found.append(f"{http_url} redirects to {target!r}, not to {https_url}")
    if (status := admin_login_status(https_url)) != 200:
        found.append(f"an admin login POST to {https_url}admin/login/ got {status}, not 200 "
                     "(403: Django's CSRF check refused the browser's Origin)")
    return found

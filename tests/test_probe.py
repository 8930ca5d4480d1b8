"""tools/probe.py: the browser-side checks `make demo` runs (end to end in make demo-smoke)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tools import probe

LOGIN_FORM = """<form method="post" id="login-form">
<input type="hidden" name="csrfmiddlewaretoken" value="Zx9-abc_DEF">
<input type="text" name="username"></form>"""


class _Redirector(BaseHTTPRequestHandler):
    # Echoes the Host it was sent into the Location, like nginx's $host (port dropped).
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        host = self.headers["Host"].split(":")[0]
        self.send_response(301)
        self.send_header("Location", f"https://{host}{self.path}")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_csrf_token_read_from_the_login_form():
    assert probe.csrf_token(LOGIN_FORM) == "Zx9-abc_DEF"


def test_csrf_token_missing_is_an_error():
    with pytest.raises(ValueError, match="csrfmiddlewaretoken"):
        probe.csrf_token("<form></form>")


def test_redirect_target_is_the_location_header(redirector):
    assert probe.redirect_target(redirector) == "https://localhost/"


def test_redirect_dropping_the_port_is_reported(redirector, monkeypatch):
    monkeypatch.setattr(probe, "admin_login_status", lambda url: 200)
    found = probe.problems("https://localhost:8443/", redirector)
    assert found == [f"{redirector} redirects to 'https://localhost/', not to https://localhost:8443/"]


def test_csrf_refusal_is_reported(monkeypatch):
    monkeypatch.setattr(probe, "redirect_target", lambda url: "https://localhost:8443/")
    monkeypatch.setattr(probe, "admin_login_status", lambda url: 403)
    [problem] = probe.problems("https://localhost:8443/", "http://localhost:8080/")
    assert "got 403" in problem


def test_no_problems_when_both_checks_pass(monkeypatch):
    monkeypatch.setattr(probe, "redirect_target", lambda url: "https://localhost:8443/")
    monkeypatch.setattr(probe, "admin_login_status", lambda url: 200)
    assert probe.problems("https://localhost:8443/", "http://localhost:8080/") == []


PRODUCT_PAGE = """<table class="products">
  <thead><tr><th>Name</th><th>Price</th><th>Updated</th></tr></thead>
  <tbody>
    <tr>
      <td><strong>Eco Lamp 00001</strong><br><small>a sample</small></td>
      <td class="price">12.00</td>
    </tr>
    <tr>
      <td><strong>Smart Kettle 00002</strong><br><small>a sample</small></td>
      <td class="price">7.50</td>
    </tr>
  </tbody>
</table>"""


def test_product_rows_counts_the_listed_products():
    assert probe.product_rows(PRODUCT_PAGE) == 2


def test_empty_catalog_lists_no_products():
    assert probe.product_rows("<p>No products yet. Run <code>sudo /srv/demo/bin/manage seed_products 50</code>.</p>") == 0

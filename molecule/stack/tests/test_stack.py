"""The whole site on one host, seen from outside: through nginx over HTTPS."""

import json
import shlex

import pytest
from djstack_testlib import nginx
from djstack_testlib.memcache import exchange

DOMAIN = "demo.localhost"
SOCKET = "/run/memcached/memcached.sock"


def get(host, path, **kwargs):
    return nginx.request(host, path, host_header=DOMAIN, **kwargs)


def current_release(host) -> str:
    return host.file("/srv/demo/current/RELEASE").content_string.strip()


def memcached_stat(host, name: str) -> int:
    out = exchange(host, "unix", SOCKET, "stats\n").stdout
    return int(next(line.split()[2] for line in out.splitlines() if line.startswith(f"STAT {name} ")))


def gunicorn_requests(host) -> str:
    """What gunicorn's access log (journald) recorded."""
    return host.check_output("journalctl --no-pager -o cat -u demo.service")


@pytest.mark.parametrize("path", ["/products/", "/about/", "/api/products/", "/healthz"])
def test_page_served_with_release_header(host, path):
    response = get(host, path)
    assert response.status == 200
    assert response.header("X-App-Release") == current_release(host)


def test_http_redirects_to_https(host):
    response = get(host, "/products/", tls=False)
    assert response.status == 301
    assert response.header("Location") == f"https://{DOMAIN}/products/"


def test_readyz_green(host):
    response = get(host, "/readyz")
    assert response.status == 200
    assert json.loads(response.body)["checks"] == {"database": "ok", "cache": "ok"}


def test_second_list_request_is_a_memcached_hit(host):
    get(host, "/products/")  # fills the cache if empty
    hits_before = memcached_stat(host, "get_hits")
    response = get(host, "/products/")
    assert response.header("X-Cache") == "hit"
    assert memcached_stat(host, "get_hits") > hits_before


def _static_paths(host) -> list[str]:
    manifest = json.loads(host.file("/srv/demo/current/staticfiles.json").content_string)
    paths = manifest["paths"]
    return ["/static/" + paths["catalog/css/site.css"], "/static/" + paths["admin/css/base.css"]]


def test_static_files_served_by_nginx_with_immutable_cache(host):
    for path in _static_paths(host):
        response = get(host, path)
        assert response.status == 200, path
        assert "immutable" in response.header("Cache-Control"), path


def test_pages_and_static_files_send_one_hsts_policy(host):
    page = get(host, "/products/").header("Strict-Transport-Security")
    static_file = get(host, _static_paths(host)[0]).header("Strict-Transport-Security")
    assert page == static_file == "max-age=31536000; includeSubDomains; preload"


def test_gzipped_css_is_the_copy_written_at_deploy(host):
    # Byte for byte the deploy's .gz: nginx compressing on the fly would give other bytes.
    path = _static_paths(host)[0]
    response = get(host, path, headers={"Accept-Encoding": "gzip"})
    assert response.header("Content-Encoding") == "gzip"
    assert response.body == host.file(f"/srv/demo/shared{path}.gz").content


def test_static_requests_never_reach_gunicorn(host):
    paths = _static_paths(host) + ["/static/catalog/missing.css"]
    for path in paths:
        get(host, path)
    log = gunicorn_requests(host)
    assert "/products/" in log  # the log does record proxied requests
    assert "/static/" not in log


def test_check_deploy_clean(host):
    result = host.run("/srv/demo/bin/manage check --deploy --fail-level WARNING")
    assert result.rc == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_memcached_socket_reserved_for_app_group(host):
    assert host.file(SOCKET).group == "demo"
    assert exchange(host, "unix", SOCKET, "version\n", user="www-data").rc != 0


# Saved through the app's own storage, as the app user (bin/manage) and under the
# umask of gunicorn's unit, into a directory the app creates itself, as an upload lands.
UPLOAD = """
import os, secrets
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
os.umask({umask:#o})
print(default_storage.save(f"uploads/2026/{{secrets.token_hex(8)}}.txt", ContentFile({content!r})))
"""
MEDIA_ROOT = "/srv/demo/shared/media"


def test_file_the_app_uploads_into_a_new_directory_is_served_by_nginx(host):
    umask = int(host.check_output("systemctl show -p UMask --value demo.service"), 8)
    content = b"an upload in a directory the app made"
    host.run(f"rm -rf {MEDIA_ROOT}/uploads")
    try:
        code = UPLOAD.format(umask=umask, content=content)
        saved = host.run(f"/srv/demo/bin/manage shell -c {shlex.quote(code)}")
        assert saved.rc == 0, saved.stderr
        name = saved.stdout.strip().splitlines()[-1]
        assert name.startswith("uploads/2026/")
        response = get(host, f"/media/{name}")
        assert response.status == 200, host.check_output(f"ls -laR {MEDIA_ROOT}")
        assert response.body == content
    finally:
        host.run(f"rm -rf {MEDIA_ROOT}/uploads")

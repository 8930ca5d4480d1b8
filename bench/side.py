"""Bench-only servers started inside the bench host next to the stack, each as a
transient systemd unit (systemd-run) so that stopping it leaves nothing behind:

- the ceiling: the stack's own nginx binary with a minimal config, serving the same
  static root (HTTPS with the stack's certificate, and plain HTTP), plus a TLS server
  that accepts every protocol so the probes can show the client could speak them;
- the static files through gunicorn and Django (the stack's gunicorn config, on TCP,
  with the app wrapped to serve STATIC_ROOT through django.views.static.serve);
- `manage.py runserver --insecure`, Django's development server.

All listen on the container's loopback only.
"""

from __future__ import annotations

import contextlib
import shlex
import time
from collections.abc import Iterator

from bench.host import BenchHost

APP_ROOT = "/srv/demo"
STATIC_ROOT = f"{APP_ROOT}/shared/static"
ENV_FILE = f"{APP_ROOT}/shared/env"
CURRENT = f"{APP_ROOT}/current"
PYTHON = f"{CURRENT}/venv/bin/python"
STACK_GUNICORN_CONF = "/etc/demo/gunicorn.conf.py"
TLS_FILE = "/etc/nginx/tls/demo.selfsigned"
SIDE_DIR = "/opt/djstack-bench"

CEILING_HTTPS_PORT = 9443
CEILING_HTTP_PORT = 9080
TLS_CONTROL_PORT = 9444
GUNICORN_PORT = 9001
RUNSERVER_PORT = 9000

CEILING_CONF = f"""\
# The ceiling: the stack's nginx binary, nothing but the static root.
user www-data;
worker_processes auto;
pid /run/djstack-bench-nginx.pid;
error_log /var/log/djstack-bench-nginx.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {{
        listen 127.0.0.1:{CEILING_HTTPS_PORT} ssl;
        ssl_certificate {TLS_FILE}.crt;
        ssl_certificate_key {TLS_FILE}.key;
        location /static/ {{ alias {STATIC_ROOT}/; }}
    }}
    server {{
        listen 127.0.0.1:{CEILING_HTTP_PORT};
        location /static/ {{ alias {STATIC_ROOT}/; }}
    }}
    # Control for the TLS probes: every protocol and cipher the library has.
    server {{
        listen 127.0.0.1:{TLS_CONTROL_PORT} ssl;
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
        ssl_ciphers DEFAULT@SECLEVEL=0;
        ssl_certificate {TLS_FILE}.crt;
        ssl_certificate_key {TLS_FILE}.key;
        return 204;
    }}
}}
"""

# The app wrapped by Django's StaticFilesHandler, but serving the collected STATIC_ROOT
# (hashed names, as nginx does) instead of the finders' source files.
STATIC_WSGI = '''\
"""The demo app with its static files served by Django (bench only)."""
from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application
from django.views import static


class CollectedStaticFilesHandler(StaticFilesHandler):
    def serve(self, request):
        return static.serve(request, self.file_path(request.path), document_root=settings.STATIC_ROOT)


application = CollectedStaticFilesHandler(get_wsgi_application())
'''


def _start(host: BenchHost, unit: str, argv: list[str], as_app: bool) -> None:
    props = ["--unit", unit, "--collect", "--quiet"]
    if as_app:
        props += ["--uid", "demo", "--gid", "demo", "-p", f"EnvironmentFile={ENV_FILE}",
                  "-p", f"WorkingDirectory={CURRENT}", "--setenv", "PYTHONUNBUFFERED=1"]
    host.sh(f"systemctl stop {unit} 2>/dev/null; systemd-run {shlex.join(props)} {shlex.join(argv)}")


def _stop(host: BenchHost, unit: str) -> None:
    host.sh(f"systemctl stop {unit} 2>/dev/null || true", check=False)


def _wait_port(host: BenchHost, port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        probe = host.netns(["bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"], timeout=5)
        if probe.returncode == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} in {host.name} after {timeout_s:.0f}s")


@contextlib.contextmanager
def _served(host: BenchHost, unit: str, argv: list[str], as_app: bool, port: int) -> Iterator[None]:
    """A side server as a transient unit, up once its port answers, stopped on the way out."""
    _start(host, unit, argv, as_app=as_app)
    try:
        _wait_port(host, port)
        yield
    finally:
        _stop(host, unit)


@contextlib.contextmanager
def ceiling_nginx(host: BenchHost) -> Iterator[None]:
    host.put(f"{SIDE_DIR}/nginx.conf", CEILING_CONF)
    host.sh(f"nginx -t -q -c {SIDE_DIR}/nginx.conf")
    argv = ["/usr/sbin/nginx", "-c", f"{SIDE_DIR}/nginx.conf", "-g", "daemon off;"]
    with _served(host, "djstack-bench-nginx", argv, as_app=False, port=CEILING_HTTP_PORT):
        yield


@contextlib.contextmanager
def stack_gunicorn_stopped(host: BenchHost) -> Iterator[None]:
    """Frees the stack's workers' memory while a second gunicorn runs, so two sets of
    workers do not share the bench host's 512 MB. The socket comes back afterwards and
    starts the service on the next connection, as after any restart."""
    host.sh("systemctl stop demo.socket demo.service")
    try:
        yield
    finally:
        host.sh("systemctl start demo.socket")


@contextlib.contextmanager
def django_static_gunicorn(host: BenchHost) -> Iterator[None]:
    host.put(f"{SIDE_DIR}/bench_static_wsgi.py", STATIC_WSGI)
    argv = [PYTHON, "-m", "gunicorn", "--config", STACK_GUNICORN_CONF, "--bind", f"127.0.0.1:{GUNICORN_PORT}",
            "--pythonpath", SIDE_DIR, "--name", "djstack-bench-static", "bench_static_wsgi:application"]
    with _served(host, "djstack-bench-gunicorn", argv, as_app=True, port=GUNICORN_PORT):
        yield


@contextlib.contextmanager
def runserver(host: BenchHost) -> Iterator[None]:
    # --noreload: one process, no file-watching parent; --insecure: static files with DEBUG off.
    argv = [PYTHON, "manage.py", "runserver", "--insecure", "--noreload", f"127.0.0.1:{RUNSERVER_PORT}"]
    with _served(host, "djstack-bench-runserver", argv, as_app=True, port=RUNSERVER_PORT):
        yield

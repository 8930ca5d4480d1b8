"""2. Dynamic pages: the cached product list, the same with the cache bypassed, and
/healthz, through nginx -> gunicorn and under runserver, at 1, 16 and 64 connections."""

from __future__ import annotations

import contextlib

from bench import side
from bench import security as heads
from bench.context import PROXIED, SITE, Context
from bench.sections.memory import worker_boots
from bench.sections.base import Data, Goal, Section, num, ratio, table

ENDPOINTS = {
    "cached": ("/products/", "hit"),
    "uncached": ("/products/?nocache=1", "bypass"),
    "healthz": ("/healthz", None),
}
SERVERS = {
    "stack": ("nginx → gunicorn (HTTPS)", SITE, {}),
    "runserver": ("runserver (HTTP)", f"http://localhost:{side.RUNSERVER_PORT}", PROXIED),
}


def _preflight(ctx: Context, name: str, url: str, headers: dict[str, str]) -> Data:
    # Twice: the first request after a restart may fill the cache (X-Cache: miss).
    ctx.fetch(name, url, headers)
    status, fields = heads.response_headers(ctx.fetch(name, url, headers))
    values = {k.lower(): v for k, v in fields}
    return {"status": status, "x_cache": values.get("x-cache"), "bytes": int(values.get("content-length", 0)) or None}


def run(ctx: Context) -> Data:
    results: dict[str, dict[str, Data]] = {}
    extra: Data = {}
    for server, (_, base, headers) in SERVERS.items():
        servers = side.runserver(ctx.host) if server == "runserver" else contextlib.nullcontext()
        since = ctx.host.sh("date +%s").strip()
        with servers:
            for endpoint, (path, _) in ENDPOINTS.items():
                url = base + path
                entry = _preflight(ctx, f"dynamic-{server}-{endpoint}", url, headers)
                entry["runs"] = {}
                if " 200" in entry["status"]:
                    ctx.warm(url, 16, headers)
                    for conns in ctx.settings.dynamic_connections:
                        entry["runs"][str(conns)] = ctx.wrk(f"dynamic-{server}-{endpoint}-c{conns}", url, conns,
                                                            ctx.settings.seconds, headers)
                results.setdefault(server, {})[endpoint] = entry
            if server == "runserver":
                # The same client without keep-alive: shows what runserver's per-connection
                # pause costs at one connection.
                extra["runserver_healthz_close"] = ctx.wrk("dynamic-runserver-healthz-c1-close", base + "/healthz", 1,
                                                           ctx.settings.seconds, {**headers, "Connection": "close"})
        if server == "stack":
            journal = ctx.host.sh(f"journalctl -u demo.service --since @{since} --no-pager -o cat", check=False)
            ctx.keep("journal-dynamic-stack", journal)
            extra["stack_worker_boots"] = worker_boots(journal)
    return {"seconds": ctx.settings.seconds, "connections": list(ctx.settings.dynamic_connections),
            "products": ctx.settings.products, "results": results, **extra}


def goals(data: Data) -> list[Goal]:
    found = []
    for endpoint, (path, want) in ENDPOINTS.items():
        if want is None:
            continue
        entry = data["results"].get("stack", {}).get(endpoint, {})
        found.append(Goal(f"`{path}` answers X-Cache: {want}", "app/README.md", entry.get("x_cache") == want,
                          f"{entry.get('status', '?')}, X-Cache: {entry.get('x_cache')}"))
    return found


def render(data: Data) -> list[str]:
    lines = [f"wrk, {data['seconds']} s per run; {data['products']} products seeded "
             "(`/srv/demo/bin/manage seed_products`). runserver gets `X-Forwarded-Proto: https` "
             "as nginx would send, else Django's HTTPS redirect answers instead of the page. "
             "Latency in ms; errors = non-2xx/3xx + socket errors (timeouts after 10 s).", ""]
    rows = []
    for endpoint, (path, _) in ENDPOINTS.items():
        for server, (label, _, _) in SERVERS.items():
            entry = data["results"].get(server, {}).get(endpoint)
            if entry is None:
                continue
            if not entry["runs"]:
                rows.append([f"`{path}`", label, "", entry["status"], "", "", "", ""])
            for conns, w in entry["runs"].items():
                rows.append([f"`{path}`", label, conns, num(w["requests_per_s"]), num(w["latency_ms"].get("50"), 1),
                             num(w["latency_ms"].get("99"), 1), num(w["latency_max_ms"], 1), str(w["errors"])])
    lines += table(["page", "server", "connections", "requests/s", "p50", "p99", "max", "errors"], rows)
    lines += ["", "Requests/s of nginx → gunicorn relative to runserver:", ""]
    ratio_rows = []
    for endpoint, (path, _) in ENDPOINTS.items():
        stack = data["results"].get("stack", {}).get(endpoint, {}).get("runs", {})
        dev = data["results"].get("runserver", {}).get(endpoint, {}).get("runs", {})
        ratio_rows.append([f"`{path}`"] + [num(ratio(stack.get(c, {}).get("requests_per_s"),
                                                     dev.get(c, {}).get("requests_per_s")), 2)
                                           for c in map(str, data["connections"])])
    stack = data["results"].get("stack", {})
    ratio_rows.append(["cache gain: `/products/` / `?nocache=1`, nginx → gunicorn"]
                      + [num(ratio(stack.get("cached", {}).get("runs", {}).get(c, {}).get("requests_per_s"),
                                   stack.get("uncached", {}).get("runs", {}).get(c, {}).get("requests_per_s")), 2)
                         for c in map(str, data["connections"])])
    lines += table(["page", *(f"{c} conn." for c in data["connections"])], ratio_rows)
    if "stack_worker_boots" in data:
        lines += ["", f"gunicorn booted {data['stack_worker_boots']} workers during the nginx → gunicorn runs "
                  "(`max_requests` 1000 + jitter recycles each worker; a boot imports Django again, on the "
                  "same single CPU that serves the requests)."]
    close = data.get("runserver_healthz_close")
    keep = data["results"].get("runserver", {}).get("healthz", {}).get("runs", {}).get("1")
    if close and keep:
        lines += ["", f"runserver at one connection: with keep-alive (wrk's default, and browsers') `/healthz` "
                  f"did {num(keep['requests_per_s'])} requests/s at p50 {num(keep['latency_ms'].get('50'), 1)} ms; "
                  f"the same with `Connection: close` did {num(close['requests_per_s'])} requests/s at p50 "
                  f"{num(close['latency_ms'].get('50'), 1)} ms."]
        if close["requests_per_s"] > 3 * keep["requests_per_s"]:
            lines[-1] += (" So its one-connection numbers above measure a pause between the requests of a "
                          "kept-alive connection more than Django.")
    return lines


SECTION = Section("dynamic", 2, "Dynamic pages", run, render, goals)

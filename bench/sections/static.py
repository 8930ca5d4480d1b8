"""1. Static files: the stack's nginx against the ceiling (the same nginx binary with a
minimal config), Django behind gunicorn, and runserver, for a hashed CSS file and the
~200 KB image, at one connection count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import ContextManager

from bench import side, wrk
from bench.context import SITE, Context
from bench.sections.base import Data, Goal, Section, num, ratio, table

# name -> (what it is, base URL, which name of the file it serves: hashed or the source's)
TARGETS: dict[str, tuple[str, str, str]] = {
    "stack": ("the stack's nginx (HTTPS, its full config)", SITE, "hashed"),
    "ceiling": ("ceiling: same nginx, minimal config (HTTPS)", f"https://localhost:{side.CEILING_HTTPS_PORT}",
                "hashed"),
    "ceiling-http": ("ceiling over plain HTTP", f"http://localhost:{side.CEILING_HTTP_PORT}", "hashed"),
    "gunicorn": ("gunicorn + Django static view (HTTP)", f"http://localhost:{side.GUNICORN_PORT}", "hashed"),
    "runserver": ("`runserver --insecure` (HTTP)", f"http://localhost:{side.RUNSERVER_PORT}", "source"),
}
FILES = {"css": "catalog/css/site.css", "image": "catalog/img/hero.png"}


def _servers(ctx: Context, group: str) -> ContextManager[None]:
    host = ctx.host
    if group == "nginx":
        return side.ceiling_nginx(host)
    if group == "gunicorn":
        return _chain(side.stack_gunicorn_stopped(host), side.django_static_gunicorn(host))
    return side.runserver(host)


@contextlib.contextmanager
def _chain(*managers: ContextManager[None]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for manager in managers:
            stack.enter_context(manager)
        yield


def _content_length(head: str) -> int | None:
    for line in head.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return int(value.strip())
    return None


# The ceiling nginx idles while the stack is measured, so those alternate run by run;
# gunicorn and runserver need the memory the stack's gunicorn holds, so they come apart.
GROUPS = (("nginx", ("stack", "ceiling", "ceiling-http")), ("gunicorn", ("gunicorn",)), ("runserver", ("runserver",)))


def _first_look(ctx: Context, target: str, kind: str) -> tuple[str, Data]:
    """The file's URL on this server, and its status and size from one GET."""
    _, base, naming = TARGETS[target]
    path = "/static/" + (ctx.facts["static"][kind] if naming == "hashed" else FILES[kind])
    head = ctx.fetch(f"static-{target}-{kind}", base + path)
    status = head.splitlines()[0].strip() if head else "no answer"
    return base + path, {"path": path, "status": status, "bytes": _content_length(head)}


def run(ctx: Context) -> Data:
    conns = ctx.settings.static_connections
    results: dict[str, dict[str, Data]] = {}
    for group, targets in GROUPS:
        with _servers(ctx, group):
            urls = {}
            for target in targets:
                for kind in FILES:
                    url, entry = _first_look(ctx, target, kind)
                    results.setdefault(target, {})[kind] = entry
                    if " 200" in entry["status"]:
                        ctx.warm(url, conns)
                        urls[target, kind] = url
            runs: dict[tuple[str, str], list[Data]] = {key: [] for key in urls}
            for rep in range(1, ctx.settings.static_repeats + 1):
                for (target, kind), url in urls.items():
                    name = f"static-{target}-{kind}-{rep}"
                    runs[target, kind].append(ctx.wrk(name, url, conns, ctx.settings.seconds))
            for (target, kind), measured in runs.items():
                results[target][kind]["wrk"] = wrk.aggregate(measured)
    return {"connections": conns, "seconds": ctx.settings.seconds, "repeats": ctx.settings.static_repeats,
            "results": results}


def _rps(data: Data, target: str, kind: str) -> float | None:
    entry = data["results"].get(target, {}).get(kind, {})
    return entry["wrk"]["requests_per_s"] if "wrk" in entry else None


def ratios(data: Data) -> dict[str, dict[str, float | None]]:
    """Requests/s of the stack relative to the ceiling and to runserver, per file."""
    return {kind: {"stack/ceiling": ratio(_rps(data, "stack", kind), _rps(data, "ceiling", kind)),
                   "stack/runserver": ratio(_rps(data, "stack", kind), _rps(data, "runserver", kind))}
            for kind in FILES}


def goals(data: Data) -> list[Goal]:
    found = []
    for kind in FILES:
        entry = data["results"].get("stack", {}).get(kind, {})
        w = entry.get("wrk", {})
        found.append(Goal(f"nginx serves the static {kind} itself, without errors", "README: djstack",
                          " 200" in entry.get("status", "") and w.get("errors", 1) == 0,
                          f"{entry.get('status', '?')}, {w.get('errors', '?')} errors"))
    return found


def render(data: Data) -> list[str]:
    repeats = data.get("repeats", 1)
    lines = [f"wrk, {data['connections']} connections, {data['seconds']} s per run, HTTP/1.1 keep-alive, "
             "no `Accept-Encoding` (every server sends the same bytes). "
             + (f"Each server {repeats} times, the servers alternating; requests/s and latency (ms) are the "
                "means of its runs, the range their lowest and highest requests/s." if repeats > 1 else
                "Latency in ms."), ""]
    rows = []
    for target, (label, _, _) in TARGETS.items():
        for kind in FILES:
            entry = data["results"].get(target, {}).get(kind)
            if entry is None:
                continue
            w = entry.get("wrk")
            if w is None:
                rows.append([label, f"`{entry['path']}`", num(entry["bytes"]), entry["status"], "", "", "", ""])
                continue
            low, high = w.get("requests_per_s_range", [w["requests_per_s"]] * 2)
            rows.append([label, f"`{entry['path']}`", num(entry["bytes"]), num(w["requests_per_s"]),
                         f"{num(low)}–{num(high)}", num(w["latency_ms"].get("50"), 2),
                         num(w["latency_ms"].get("99"), 2), str(w["errors"])])
    lines += table(["server", "file", "bytes", "requests/s", "range", "p50", "p99", "errors"], rows)
    lines += ["", "Ratios of requests/s:", ""]
    rat = ratios(data)
    lines += table(["file", "stack / ceiling", "stack / runserver"],
                   [[kind, num(r["stack/ceiling"], 2), num(r["stack/runserver"], 2)] for kind, r in rat.items()])
    lines += ["", "The stack and the ceiling speak HTTPS; gunicorn and runserver plain HTTP, so the "
              "stack/runserver ratio is conservative (the stack pays for TLS, runserver does not). "
              "runserver serves the source file (`hero.png`; the CSS before ManifestStaticFilesStorage "
              "rewrites its URLs, hence a few bytes fewer): it resolves names through the finders, "
              "which do not know the hashed names. gunicorn runs the stack's own gunicorn.conf.py "
              "(same workers) on TCP, with the app wrapped by a StaticFilesHandler serving STATIC_ROOT; "
              "the stack's gunicorn is stopped meanwhile, so two sets of workers do not share the 512 MB."]
    return lines


SECTION = Section("static", 1, "Static files", run, render, goals)

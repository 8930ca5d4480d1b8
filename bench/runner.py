"""One bench run: a fresh host, every section in REGISTRY order, the report, and the host
removed again whatever happens."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from bench import chart, report
from bench.context import Context, Settings
from bench.host import HOST, OVERRIDES, STATE, BenchHost
from bench.sections import REGISTRY
from bench.sections.static import FILES as STATIC_FILES

OUT = Path(__file__).resolve().parent
RESULTS_JSON = STATE / "results.json"


# Django's own answer for the hashed names, wherever its storage keeps the manifest
# (STATIC_ROOT/staticfiles.json, or per release).
STORED_NAMES = ("import json; from django.contrib.staticfiles.storage import staticfiles_storage as s; "
                f"print(json.dumps({{k: s.stored_name(v) for k, v in {STATIC_FILES!r}.items()}}))")


def static_names(output: str) -> dict[str, str]:
    """The hashed names of the bench's two files: the JSON line STORED_NAMES prints."""
    names: dict[str, str] = json.loads(output.strip().splitlines()[-1])
    if set(names) != set(STATIC_FILES) or any(name == STATIC_FILES[k] for k, name in names.items()):
        raise ValueError(f"no hashed names for {STATIC_FILES}: {names}")
    return names


def first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else "?"


def controller_meta(ctx: Context) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    meminfo = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    os_release = dict(line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line)
    return {"cpu_model": model.group(1).strip() if model else platform.processor(), "cores": os.cpu_count(),
            "memory_gb": int(meminfo.group(1)) / 2**20 if meminfo else None,
            "os": os_release.get("PRETTY_NAME", "?").strip('"'), "kernel": platform.release()}


def versions(ctx: Context) -> dict[str, str]:
    sh = ctx.host.sh
    app = sh("/srv/demo/current/venv/bin/python -c 'import sys, django, gunicorn; "
             "print(sys.version.split()[0], django.get_version(), gunicorn.__version__)'", check=False).split()
    return {
        "wrk (controller)": first_line(ctx.controller(["wrk", "-v"])).split(" Copyright")[0],
        "OpenSSL (controller, probes)": ctx.controller(["openssl", "version"]),
        "curl (controller)": " ".join(ctx.controller(["curl", "--version"]).split()[:2]),
        "ansible-core": first_line(ctx.controller(["ansible", "--version"])),
        "ansible (package)": ctx.controller(["ansible-community", "--version"]),
        "Docker engine": ctx.controller(["docker", "version", "--format", "{{.Server.Version}}"]),
        "nginx (host)": sh("nginx -v 2>&1", check=False).strip(),
        "OpenSSL (host)": sh("openssl version", check=False).strip(),
        "Python (host app venv)": app[0] if len(app) == 3 else "?",
        "Django": app[1] if len(app) == 3 else "?",
        "gunicorn": app[2] if len(app) == 3 else "?",
        "memcached": sh("memcached -V", check=False).strip(),
        "systemd (host)": first_line(sh("systemctl --version", check=False)),
    }


def machine_load(own: str) -> dict[str, Any]:
    """What else the machine was doing: its 1-minute load average and the other containers
    (a Molecule run next to the bench takes CPU from both the stack and wrk)."""
    names = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True,
                           check=False).stdout.split()
    return {"load1": float(Path("/proc/loadavg").read_text().split()[0]),
            "others": sorted(n for n in names if n != own)}


def prepare(ctx: Context) -> None:
    """What the sections need from the provisioned host: data and the static names."""
    ctx.log(f"seeding {ctx.settings.products} products")
    ctx.keep("seed", ctx.host.sh(f"/srv/demo/bin/manage seed_products {ctx.settings.products}"))
    ctx.facts["static"] = static_names(ctx.host.sh(f"/srv/demo/bin/manage shell -c {shlex.quote(STORED_NAMES)}"))


def host_meta(host: BenchHost) -> dict[str, Any]:
    image_id = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", host.image],
                              capture_output=True, text=True, check=False).stdout.strip()
    return {"container": host.name, "image": host.image, "image_id": image_id.removeprefix("sha256:")[:12],
            "debian": "Debian " + host.sh("cat /etc/debian_version").strip(),
            "docker_args": list(HOST.docker_args),
            "overrides": "; ".join(f"`{name}: {json.dumps(value)}` ({why})"
                                   for name, (value, why) in OVERRIDES.items())}


def run(image: str, keep: bool, settings: Settings) -> int:
    host = BenchHost(image)
    ctx = Context(host=host, raw=STATE / "raw", settings=settings)
    shutil.rmtree(ctx.raw, ignore_errors=True)  # only this run's outputs next to its results
    results: dict[str, Any] = {"meta": {}, "sections": {}}
    started = time.monotonic()
    failed = False
    # A SIGTERM (a CI time limit, kill) becomes SystemExit, so the finally below still
    # removes the container.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        ctx.log(f"starting a fresh {image} host {host.name} ({' '.join(HOST.docker_args)})")
        ctx.facts["host_start_seconds"] = round(host.start(), 1)
        results["meta"] = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                           "controller": controller_meta(ctx), "host": host_meta(host), "load": []}
        for section in REGISTRY:
            ctx.log(f"section {section.number}: {section.title}")
            results["meta"]["load"].append({"section": section.key, **machine_load(host.name)})
            try:
                results["sections"][section.key] = section.run(ctx)
            except Exception as error:  # noqa: BLE001 - one failed section must not lose the others
                if section.key == "provisioning":
                    raise
                traceback.print_exc()
                failed = True
                results["sections"][section.key] = {"error": f"{type(error).__name__}: {error}"}
            if section.key == "provisioning":
                prepare(ctx)
                results["meta"]["versions"] = versions(ctx)
        results["meta"]["load"].append({"section": "end", **machine_load(host.name)})
    finally:
        results["meta"]["seconds"] = round(time.monotonic() - started, 1)
        RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(results, indent=1))
        if keep:
            print(f"Kept {host.name} (--keep); `python -m bench down` removes it.")
        else:
            host.remove()
    write_outputs(results)
    return 1 if failed else 0


def write_outputs(results: dict[str, Any], out: Path = OUT) -> None:
    (out / "results.md").write_text(report.render(results))
    chart.write(results, out / "results.png")
    print(f"Wrote {out / 'results.md'} and {out / 'results.png'} (raw data: {RESULTS_JSON}).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    run_p = sub.add_parser("run", help="stand up a bench host, measure, write bench/results.md and .png")
    run_p.add_argument("--image", default=os.environ.get("DJSTACK_IMAGE", "djstack-systemd:debian12"))
    run_p.add_argument("--seconds", type=int, default=Settings.seconds, help="duration of each measured wrk run")
    run_p.add_argument("--keep", action="store_true", help="leave the bench host running afterwards")
    render_p = sub.add_parser("render", help="rewrite results.md and .png from a results.json")
    render_p.add_argument("json", nargs="?", type=Path, default=RESULTS_JSON)
    sub.add_parser("down", help="remove the bench host")
    args = parser.parse_args(argv)
    if args.action == "run":
        return run(args.image, args.keep, Settings(seconds=args.seconds))
    if args.action == "render":
        write_outputs(json.loads(args.json.read_text()))
        return 0
    BenchHost("unused").remove()
    return 0

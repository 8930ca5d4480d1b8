"""6. Deploy under load: requests, errors and the longest wait while playbooks/deploy.yml
ships a new release, and while playbooks/rollback.yml goes back, with wrk on the
cached product list through nginx the whole time."""

from __future__ import annotations

import shutil
import signal
import subprocess

from bench import wrk
from bench.context import SITE, Context
from bench.host import ROOT
from bench.sections.base import Data, Goal, Section, num, table

CONNECTIONS = 16
# Upper bound of each load run; wrk is stopped as soon as the playbook ends.
MAX_SECONDS = 600
PATH = "/products/"
STEPS = (
    ("deploy", "deploy.yml, a new release (same requirements: its venv is reused)"),
    ("rollback", "rollback.yml, back to the release before"),
)
_IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "staticfiles", "staticfiles.json", "media",
                                 "db.sqlite3*", "RELEASE", "*.env", ".venv")


def new_release(ctx: Context) -> str:
    """A copy of the sample app with one visible change: a new revision, so a new release."""
    tree = ctx.raw / "app-next"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(ROOT / "app", tree, ignore=_IGNORE)
    about = tree / "catalog" / "templates" / "catalog" / "about.html"
    about.write_text(about.read_text() + "\n<!-- bench: the next release -->\n")
    return str(tree)


def _under_load(ctx: Context, key: str, playbook: str, extra: list[str]) -> Data:
    cmd = wrk.command(SITE + PATH, CONNECTIONS, MAX_SECONDS)
    ctx.log(f"deploy-{key}: {' '.join(cmd)} while {playbook} runs")
    load = ctx.host.netns_background(cmd)
    try:
        run = ctx.host.playbook(ctx.raw / f"{key}.log", extra, playbook=playbook)
    finally:
        load.send_signal(signal.SIGINT)
        try:
            out, err = load.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            load.kill()
            out, err = load.communicate()
    ctx.keep(f"wrk-deploy-{key}", out + err)
    released = ctx.fetch(f"deploy-{key}-after", SITE + "/readyz")
    release = next((line.split(":", 1)[1].strip() for line in released.splitlines()
                    if line.lower().startswith("x-app-release:")), None)
    return {"playbook": playbook, "returncode": run.returncode, "seconds": round(run.seconds, 1),
            "release_after": release, "load": wrk.parse(out).to_dict()}


def run(ctx: Context) -> Data:
    steps: dict[str, Data] = {}
    before = ctx.fetch("deploy-before", SITE + "/readyz")
    steps["deploy"] = _under_load(ctx, "deploy", "deploy.yml", ["-e", f"django_app_local_path={new_release(ctx)}"])
    steps["rollback"] = _under_load(ctx, "rollback", "rollback.yml", [])
    first = next((line.split(":", 1)[1].strip() for line in before.splitlines()
                  if line.lower().startswith("x-app-release:")), None)
    return {"connections": CONNECTIONS, "path": PATH, "release_before": first, "steps": steps}


def _measured(data: Data) -> list[tuple[str, Data, Data]]:
    """(label, step, its load) of each step the run got to, in STEPS order."""
    return [(label, data["steps"][key], data["steps"][key]["load"]) for key, label in STEPS if key in data["steps"]]


def goals(data: Data) -> list[Goal]:
    found = []
    for label, step, load in _measured(data):
        found.append(Goal(f"no failed request during {label.split(',')[0]}", "issue 8: zero-downtime deploys",
                          step["returncode"] == 0 and load["errors"] == 0,
                          f"exit {step['returncode']}, {load['errors']} errors in {load['requests']:,} requests"))
    deployed = data["steps"].get("deploy", {}).get("release_after")
    rolled = data["steps"].get("rollback", {}).get("release_after")
    found.append(Goal("the deploy serves a new release and the rollback the one before", "issue 8",
                      deployed not in (None, data.get("release_before")) and rolled == data.get("release_before"),
                      f"{data.get('release_before')} → {deployed} → {rolled}"))
    return found


def render(data: Data) -> list[str]:
    rows = []
    for label, step, load in _measured(data):
        rows.append([label, f"{num(step['seconds'], 1)} s", str(step["returncode"]), f"{load['requests']:,}",
                     str(load["errors"]), f"{num(load['latency_ms'].get('99'), 0)} ms",
                     f"{num(load['latency_max_ms'], 0)} ms"])
    return [f"wrk with {data['connections']} connections on `{data['path']}` through nginx for the whole "
            "playbook run (errors: non-2xx/3xx answers and socket errors).", "",
            *table(["run", "playbook", "exit", "requests", "errors", "p99", "max latency"], rows), "",
            f"Releases: {data.get('release_before')} → {data['steps'].get('deploy', {}).get('release_after')} "
            f"→ {data['steps'].get('rollback', {}).get('release_after')}."]


SECTION = Section("deploy", 6, "Deploy under load", run, render, goals)

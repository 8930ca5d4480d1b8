"""results.md from the collected results (the JSON the runner keeps in .cache/bench/)."""

from __future__ import annotations

from typing import Any

from bench.sections import REGISTRY, Goal, Section
from bench.sections.base import num, table

LOAD_PATH_NOTE = (
    "wrk, curl and openssl run on the controller inside the bench container's network namespace "
    "(`nsenter --net`), against the container's own loopback: no docker-proxy, no bridge, nothing "
    "leaves the container's namespace. Their CPU is the controller's, outside the container's 1-CPU limit."
)


def section_goals(section: Section, data: dict[str, Any]) -> list[Goal]:
    if "error" in data:
        return [Goal(f"section {section.number}. {section.title} completes", "make bench", False, data["error"])]
    try:
        return section.goals(data)
    except (KeyError, TypeError, ValueError) as error:
        return [Goal(f"section {section.number}. {section.title} has its data", "make bench", False, repr(error))]


def all_goals(results: dict[str, Any]) -> list[tuple[Section, Goal]]:
    found = []
    for section in sorted(REGISTRY, key=lambda s: s.number):
        data = results["sections"].get(section.key)
        if data is not None:
            found += [(section, goal) for goal in section_goals(section, data)]
    return found


def _setup(meta: dict[str, Any]) -> list[str]:
    host = meta.get("host", {})
    ctl = meta.get("controller", {})
    lines = [
        f"- Machine: {ctl.get('cpu_model', '?')}, **{ctl.get('cores', '?')} cores**, "
        f"{num(ctl.get('memory_gb'), 1)} GB RAM, {ctl.get('os', '?')}, kernel {ctl.get('kernel', '?')}.",
        f"- Bench host: container `{host.get('container', '?')}` from image `{host.get('image', '?')}` "
        f"(`{host.get('image_id', '?')}`, {host.get('debian', '?')}), started with "
        f"`{' '.join(host.get('docker_args', []))}`; systemd as PID 1, provisioned over SSH by "
        "`ansible-playbook playbooks/site.yml`.",
        f"- Bench-only settings on top of the stack's defaults: {host.get('overrides', '?')}.",
        f"- Load path: {LOAD_PATH_NOTE}",
    ]
    load = meta.get("load", [])
    if load:
        others = sorted({name for entry in load for name in entry["others"]})
        lines.append(f"- Machine load (1-minute load average at each section's start, on {ctl.get('cores', '?')} "
                     "cores): " + ", ".join(f"{e['section']} {e['load1']:.1f}" for e in load) + ".")
        if others:
            lines.append(f"- **The machine was shared during this run**: other containers were running "
                         f"({', '.join(others)}), so the numbers are lower than an idle machine gives.")
    lines.append("")
    versions = meta.get("versions", {})
    lines += table(["tool", "version"], [[name, f"`{value}`"] for name, value in versions.items()])
    return lines


def render(results: dict[str, Any]) -> str:
    meta = results.get("meta", {})
    lines = [
        "# Benchmarks: the deployed stack, measured",
        "",
        f"Written by `make bench` on {meta.get('date', '?')} from one run of {num(meta.get('seconds', 0) / 60, 1)} "
        "minutes; every number below comes from that run (raw outputs in `.cache/bench/raw/`). "
        "Re-run `make bench` rather than editing this file.",
        "",
        "![requests per second and memory](results.png)",
        "",
        "## Setup",
        "",
        *_setup(meta),
        "",
        "## Goals",
        "",
        "What the project's READMEs and issue 7 promise, checked against this run:",
        "",
    ]
    goals = all_goals(results)
    lines += table(["", "goal", "source", "this run"],
                   [["met" if g.met else "**MISSED**", g.goal, g.source, g.detail]
                    for _, g in goals])
    missed = [g for _, g in goals if not g.met]
    lines += ["", f"{len(goals) - len(missed)} of {len(goals)} met" + (f"; missed: {', '.join(g.goal for g in missed)}."
                                                                      if missed else ".")]
    for section in sorted(REGISTRY, key=lambda s: s.number):
        data = results["sections"].get(section.key)
        lines += ["", f"## {section.number}. {section.title}", ""]
        if data is None:
            lines.append("Not run.")
        elif "error" in data:
            lines.append(f"**This section failed:** `{data['error']}`")
        else:
            lines += section.render(data)
    return "\n".join(lines) + "\n"

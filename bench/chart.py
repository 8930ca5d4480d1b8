"""results.png: requests/s of the static and dynamic runs, and memory idle vs under load.

matplotlib comes from bench/requirements.txt in the bench's own venv (`make bench`);
the series are plain functions of the results so the tests need no matplotlib.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.sections import dynamic, memory, static

Series = dict[str, list[float]]


def static_series(data: dict[str, Any]) -> tuple[list[str], Series]:
    """Server labels, and per file the requests/s of each server (0 when not measured)."""
    servers = [t for t in static.TARGETS if t in data["results"]]
    series = {kind: [data["results"][t].get(kind, {}).get("wrk", {}).get("requests_per_s", 0.0) for t in servers]
              for kind in static.FILES}
    return servers, series


def dynamic_series(data: dict[str, Any]) -> tuple[list[str], Series]:
    """"<page> @<connections>" labels, and per server the requests/s of each."""
    labels = [f"{endpoint} @{c}" for endpoint in dynamic.ENDPOINTS for c in data["connections"]]
    series = {}
    for server in dynamic.SERVERS:
        runs = data["results"].get(server, {})
        series[server] = [runs.get(endpoint, {}).get("runs", {}).get(str(c), {}).get("requests_per_s", 0.0)
                          for endpoint in dynamic.ENDPOINTS for c in data["connections"]]
    return labels, series


def memory_series(data: dict[str, Any]) -> tuple[list[str], Series]:
    groups = [g for g in memory.GROUP_ORDER if g in data["idle"]["summary"] or g in data["under_load"]["summary"]]
    return groups, {
        "idle PSS": [data["idle"]["summary"].get(g, {}).get("pss_mb", 0.0) for g in groups],
        "under load PSS": [data["under_load"]["summary"].get(g, {}).get("pss_mb", 0.0) for g in groups],
    }


def _bars(ax: Any, labels: list[str], series: Series, title: str, ylabel: str, log: bool = False) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        positions = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        bars = ax.bar(positions, values, width, label=name)
        ax.bar_label(bars, labels=[f"{v:,.0f}" if v else "" for v in values], fontsize=6, rotation=90, padding=2)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.margins(y=0.25)
    ax.legend(fontsize=8)


def write(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sections = results["sections"]
    panels = [(key, fn) for key, fn in (("static", static_series), ("dynamic", dynamic_series),
                                        ("memory", memory_series)) if key in sections and "error" not in sections[key]]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 4.2 * max(1, len(panels))), squeeze=False)
    titles = {
        "static": ("Static files: requests/s at 64 connections (log scale)", "requests/s", True),
        "dynamic": ("Dynamic pages: requests/s by connections (log scale)", "requests/s", True),
        "memory": ("Memory (PSS, MB) on a 512 MB / 1 CPU host", "MB", False),
    }
    for ax, (key, fn) in zip(axes[:, 0], panels):
        labels, series = fn(sections[key])
        title, ylabel, log = titles[key]
        _bars(ax, labels, series, title, ylabel, log)
    meta = results.get("meta", {})
    fig.suptitle(f"djstack bench, {meta.get('date', '')}: {meta.get('host', {}).get('image', '')}, "
                 f"{meta.get('controller', {}).get('cores', '?')} cores", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

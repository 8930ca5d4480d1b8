"""The bench's sections, in the order they run. Each one measures (run), then turns its
own data into results.md lines (render) and into goal checks (goals), both from the
data alone so the report can be rebuilt from results.json and unit-tested.

To add a section, write a module with a SECTION like the others and append it to
REGISTRY; its number places it in results.md.
"""

from __future__ import annotations

from bench.sections import deploy, dynamic, memory, provisioning, security, static
from bench.sections.base import Goal, Section

# Run order: provisioning stands the host up; security and the idle memory snapshot
# come before any load; the loads next; deploys last, as they change the release.
REGISTRY: list[Section] = [
    provisioning.SECTION,
    security.SECTION,
    memory.SECTION,
    static.SECTION,
    dynamic.SECTION,
    deploy.SECTION,
]

__all__ = ["Goal", "REGISTRY", "Section"]

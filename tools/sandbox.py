"""The highest `systemd-analyze security` exposure each sandboxed service may score.

One number per service, read by the roles' Molecule tests (which fail above it) and by
`make bench` (whose security goal is the same number), so the two cannot drift apart.
"""

from __future__ import annotations

EXPOSURE_LIMITS = {
    "gunicorn": 1.5,
    "memcached": 3.0,
    "nginx": 3.0,
}

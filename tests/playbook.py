"""Run ansible-playbook on the controller against the working tree as the collection
(this repository's ansible.cfg, .cache/collections on the collections path): the one
way the controller-side tests run a role's tasks for real."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tools.collection import COLLECTIONS, ROOT


def run_playbook(*args: str, inventory: str = "localhost,",
                 env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`env` adds to (or overrides) the environment, e.g. ANSIBLE_CALLBACKS_ENABLED."""
    environ = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
               **(env or {})}
    return subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", inventory, *args],
                          capture_output=True, text=True, env=environ, check=False)

"""Run the site playbook from the controller against a Molecule instance, as an
operator would against a VM, and read what it reports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "playbooks" / "site.yml"
# What a copy of the sample app leaves out: build and run leftovers of a checkout.
APP_IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "staticfiles", "staticfiles.json", "media",
                                    "db.sqlite3*", "RELEASE", "*.env", ".venv")


@dataclass
class Run:
    rc: int
    output: str

    def changed_tasks(self) -> set[str]:
        """Names ("role : task") of the tasks that reported a change."""
        changed = set()
        for block in re.split(r"^TASK \[", self.output, flags=re.M)[1:]:
            name, _, body = block.partition("]")
            if re.search(r"^changed: \[", body, re.M):
                changed.add(name.strip())
        return changed

    def drift_summary(self) -> list[str]:
        """The drift report's items (the role drift_report at the end of site.yml), without
        its heading: empty for a host without drift."""
        block = self.output.split("Report the drift of this host]", 1)
        assert len(block) == 2, f"no drift report in:\n{self.output[-3000:]}"
        match = re.search(r"=> (\{.*?^\})", block[1], re.S | re.M)
        assert match, f"no drift report result in:\n{block[1][:3000]}"
        lines = json.loads(match.group(1))["msg"]
        return [] if lines == ["no drift"] else lines[1:]

    def recap(self) -> dict[str, int]:
        """The PLAY RECAP counters of the (single) host."""
        match = re.search(r"^\S+\s+:\s+(ok=.*)$", self.output.split("PLAY RECAP", 1)[-1], re.M)
        assert match, f"no PLAY RECAP in:\n{self.output[-3000:]}"
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def inventory() -> str:
    """Molecule's inventory directory (with its group_vars, e.g. the test secret)."""
    return str(Path(os.environ["MOLECULE_INVENTORY_FILE"]).parent)


def run_site(*args: str, playbook: Path = SITE) -> Run:
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1",
               ANSIBLE_CONFIG=os.environ.get("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg")))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(["ansible-playbook", "-i", inventory(), str(playbook), *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return Run(proc.returncode, proc.stdout + proc.stderr)


def app_version(base: Path, name: str) -> Path:
    """A copy of the sample app with a visible change, in a page and in a stylesheet (a new
    hashed static file): its own revision."""
    tree = base / name
    shutil.copytree(ROOT / "app", tree, ignore=APP_IGNORE)
    about = tree / "catalog" / "templates" / "catalog" / "about.html"
    about.write_text(about.read_text() + f"\n<!-- {name} -->\n")
    with (tree / "catalog" / "static" / "catalog" / "css" / "site.css").open("a") as css:
        css.write(f"\n/* {name} */\n")
    return tree

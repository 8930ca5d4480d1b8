"""Run a collection module the way Ansible does: its own process, its arguments as
the ANSIBLE_MODULE_ARGS JSON file, its result as JSON on stdout. Tests use this for
the module protocol (check mode, diff, failure messages) and call module_utils
functions directly for the logic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.collection import COLLECTIONS, ROOT

MODULES = ROOT / "plugins" / "modules"


def run_module(name: str, args: dict[str, Any], tmp_path: Path, *, check: bool = False,
               diff: bool = False, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The module's JSON result; `rc` holds its exit status (1 when it failed)."""
    params = dict(args, _ansible_check_mode=check, _ansible_diff=diff)
    args_file = tmp_path / f"{name}-args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
    run_env = dict(os.environ, PYTHONPATH=str(COLLECTIONS), **(env or {}))
    done = subprocess.run([sys.executable, str(MODULES / f"{name}.py"), str(args_file)],
                          capture_output=True, text=True, env=run_env, check=False)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{name} printed no JSON (rc {done.returncode}):\n{done.stdout}\n{done.stderr}") from exc
    result["rc"] = done.returncode
    return result

#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_code
short_description: Finish and seal the code of a django_app release
description:
  - O(state=prepared) writes the release id into C(RELEASE) at the top of the release and next to
    C(manage.py) (the app reads that one), then precompiles the code with O(python), since the app
    cannot write C(__pycache__) into its read-only code. A file that does not compile (e.g. a
    template named C(.py)) is not fatal (RV(compile_errors)), C(check --deploy) imports what the
    project really uses.
  - O(state=sealed) writes O(venv_key) into the venv (a venv without it is unfinished and never
    reused), then makes everything owned by root and O(group), directories and executables 0750, other files
    0640, so the app reads its code and venv and writes neither.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  path:
    description: The release directory.
    type: path
    required: true
  state:
    description: V(prepared) for the RELEASE files and bytecode, V(sealed) for the venv key and ownership.
    type: str
    choices: [prepared, sealed]
    required: true
  release_id:
    description: The release id written into the RELEASE files (required with O(state=prepared)).
    type: str
  project_dir:
    description: The directory holding C(manage.py), relative to O(path); empty for the top.
    type: str
    default: ""
  python:
    description: The interpreter that compiles the code (the one the venv is built with).
    type: path
    default: /usr/bin/python3
  group:
    description: The app's group, owning group of every file (required with O(state=sealed)).
    type: str
  venv_key:
    description: The venv key written into C(venv/.djstack-venv-key); empty writes none.
    type: str
    default: ""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports the RELEASE files, the sources without fresh bytecode and the paths to re-own; writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The RELEASE files' content, or the venv key and a count of the paths to re-own.
"""

EXAMPLES = r"""
- name: Write the release id and precompile the code
  djstack.stack.release_code:
    path: /srv/demo/releases/20261122T101500Z-3f2a9c1d7e4b
    state: prepared
    release_id: 20261122T101500Z-3f2a9c1d7e4b

- name: Mark the venv complete and make the release read-only to the app
  djstack.stack.release_code:
    path: /srv/demo/releases/20261122T101500Z-3f2a9c1d7e4b
    state: sealed
    group: demo
    venv_key: 9e8d...
"""

RETURN = r"""
compile_errors:
  description: Some file did not compile (not fatal).
  returned: when O(state=prepared)
  type: bool
compiled:
  description: Bytecode files written (in check mode, sources that would be compiled).
  returned: when O(state=prepared)
  type: int
fixed:
  description: Paths whose owner or mode was (or would be) set.
  returned: when O(state=sealed)
  type: int
paths:
  description: The first 20 of those paths, each with its owner and mode as found and as set.
  returned: when O(state=sealed)
  type: list
  elements: str
  sample: ["/srv/demo/releases/20261122T101500Z-3f2a9c1d7e4b/manage.py root:root 0700 -> root:demo 0750"]
"""

import grp
import subprocess
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.releases import ReleaseError
from ansible_collections.djstack.stack.plugins.module_utils.venv import finish_code, seal


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "required": True, "choices": ["prepared", "sealed"]},
            "release_id": {"type": "str"},
            "project_dir": {"type": "str", "default": ""},
            "python": {"type": "path", "default": "/usr/bin/python3"},
            "group": {"type": "str"},
            "venv_key": {"type": "str", "default": "", "no_log": False},
        },
        required_if=[("state", "prepared", ("release_id",)), ("state", "sealed", ("group",))],
        supports_check_mode=True,
    )
    params = module.params
    path = Path(params["path"])
    if not path.is_dir():
        module.fail_json(msg=f"release directory {path} does not exist")
    try:
        if params["state"] == "prepared":
            result = finish_code(path, params["release_id"], params["project_dir"], params["python"],
                                 check=module.check_mode)
        else:
            try:
                gid = grp.getgrnam(params["group"]).gr_gid
            except KeyError:
                module.fail_json(msg=f"group {params['group']} does not exist: create the app account first")
            result = seal(path, gid, params["venv_key"] or None, check=module.check_mode)
    except (ReleaseError, OSError) as exc:
        module.fail_json(msg=str(exc))
    except subprocess.CalledProcessError as exc:
        module.fail_json(msg=f"{params['python']} cannot tell its bytecode tag: {(exc.stderr or '').strip()}")
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()

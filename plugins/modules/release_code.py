#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_code
short_description: Finish the code of a django_app release and mark its venv complete
description:
  - O(state=prepared) writes the release id into C(RELEASE) at the top of the release and next to
    C(manage.py) (the app reads that one), then precompiles the code with O(python), since the app
    cannot write C(__pycache__) into its read-only code. A file that does not compile (e.g. a
    template named C(.py)) is not fatal (RV(compile_errors)), C(check --deploy) imports what the
    project really uses.
  - O(state=complete) writes O(venv_key) into the venv once the install succeeded; a venv
    without it is unfinished and never reused. Owners and modes of the release are
    M(djstack.stack.owned_tree)'s.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  path:
    description: The release directory.
    type: path
    required: true
  state:
    description: V(prepared) for the RELEASE files and bytecode, V(complete) for the venv key.
    type: str
    choices: [prepared, complete]
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
  venv_key:
    description: The venv key written into C(venv/.djstack-venv-key) (required with O(state=complete)).
    type: str
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Reports the RELEASE files, the sources without fresh bytecode and the venv key; writes nothing.
  diff_mode:
    support: full
    details: The RELEASE files' content, or the venv key.
"""

EXAMPLES = r"""
- name: Write the release id and precompile the code
  djstack.stack.release_code:
    path: /srv/demo/releases/20261122T101500Z-3f2a9c1d7e4b
    state: prepared
    release_id: 20261122T101500Z-3f2a9c1d7e4b

- name: Mark the venv complete
  djstack.stack.release_code:
    path: /srv/demo/releases/20261122T101500Z-3f2a9c1d7e4b
    state: complete
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
"""

import subprocess
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.releases import ReleaseError
from ansible_collections.djstack.stack.plugins.module_utils.venv import finish_code, mark_complete


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "required": True, "choices": ["prepared", "complete"]},
            "release_id": {"type": "str"},
            "project_dir": {"type": "str", "default": ""},
            "python": {"type": "path", "default": "/usr/bin/python3"},
            "venv_key": {"type": "str", "no_log": False},
        },
        required_if=[("state", "prepared", ("release_id",)), ("state", "complete", ("venv_key",))],
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
            result = mark_complete(path, params["venv_key"], check=module.check_mode)
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

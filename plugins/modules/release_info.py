#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_info
short_description: Read the release history and the current release of a django_app root
description:
  - Reads C(<root>/releases.json), the release history the module M(djstack.stack.release) keeps,
    and the release the symlink C(<root>/current) points at. Changes nothing.
  - A root that does not exist yet (a first deploy, or a check run on a fresh host) has an
    empty history and no current release.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  root:
    description: The app root holding C(releases/), C(current) and C(releases.json).
    type: path
    required: true
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Reads only; runs the same in check mode.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Read the release history
  djstack.stack.release_info:
    root: /srv/demo
  register: releases

- name: Show the active release
  ansible.builtin.debug:
    msg: "{{ releases.active.id | default('none') }}"
"""

RETURN = r"""
history:
  description: The history, oldest first; each entry has id, revision, build, time, status and
    usually venv_key, venv_source, activation, reason.
  returned: always
  type: list
  elements: dict
active:
  description: The entry recorded as active, V({}) when there is none.
  returned: always
  type: dict
current:
  description: The release C(current) points at, V("") when it is not a symlink.
  returned: always
  type: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.releases import (
    ReleaseError,
    active_entry,
    current_id,
    load_history,
)


def main() -> None:
    module = AnsibleModule(argument_spec={"root": {"type": "path", "required": True}}, supports_check_mode=True)
    root = Path(module.params["root"])
    try:
        history = load_history(root)
    except (ReleaseError, OSError, ValueError) as exc:
        module.fail_json(msg=f"cannot read the release history: {exc}")
    module.exit_json(changed=False, history=history, active=active_entry(history), current=current_id(root) or "")


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take or give back the per-host deploy lock of a django_app
description:
  - One deploy at a time per host. The lock is a file (in C(/run/lock), which a reboot empties)
    created with C(O_EXCL) and holding the run's token, a description of its owner and the time.
  - The same run (same O(token)) may take the lock again; another run is refused with a message
    naming the holder, unless O(break_lock) is set.
  - The lock is bookkeeping of the run, not a change to the host, so the module always reports
    C(changed=false) (a converged host reports C(changed=0) after a deploy that took and gave
    back the lock); RV(taken) and RV(released) say what it did.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  path:
    description: The lock file.
    type: path
    required: true
  state:
    description:
      - V(present) takes the lock (or keeps it, when this run holds it already).
      - V(absent) gives it back, only if this run (O(token)) still holds it; someone may have broken it.
    type: str
    choices: [present, absent]
    default: present
  token:
    description: A random string naming this run; the same for taking and giving back.
    type: str
    required: true
  owner:
    description: Who takes the lock, shown to a run that is refused (e.g. user, host and play).
    type: str
    default: "?"
  break_lock:
    description: Take the lock even if another run holds it (for a lock left by a run that died).
    type: bool
    default: false
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reports what it would do, refuses a lock held by another run as a real run would, writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The holder of the lock before and after.
"""

EXAMPLES = r"""
- name: Take the deploy lock
  djstack.stack.deploy_lock:
    path: /run/lock/django_app-demo.deploy
    state: present
    token: "{{ lock_token }}"
    owner: alice on laptop (deploy)

- name: Give back the deploy lock
  djstack.stack.deploy_lock:
    path: /run/lock/django_app-demo.deploy
    state: absent
    token: "{{ lock_token }}"
"""

RETURN = r"""
taken:
  description: This call created (or, with O(break_lock), took over) the lock file.
  returned: when O(state=present)
  type: bool
released:
  description: This call removed the lock file.
  returned: when O(state=absent)
  type: bool
held_by:
  description: The owner of the lock afterwards (V("") when nobody holds it).
  returned: always
  type: str
broken:
  description: The owner and time of the claim that O(break_lock) replaced.
  returned: when a lock held by another run was broken
  type: dict
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.releases import (
    ReleaseError,
    lock_holder,
    release_lock,
    take_lock,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "token": {"type": "str", "required": True, "no_log": True},
            "owner": {"type": "str", "default": "?"},
            "break_lock": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    path = Path(params["path"])
    before = lock_holder(path)
    try:
        if params["state"] == "present":
            done = take_lock(path, params["token"], params["owner"], params["break_lock"], check=module.check_mode)
            result = {"taken": done["changed"], "held_by": done["held_by"]}
            if "broken" in done:
                result["broken"] = done["broken"]
        else:
            done = release_lock(path, params["token"], check=module.check_mode)
            result = {"released": done["changed"], "held_by": done.get("held_by", "")}
    except (ReleaseError, OSError) as exc:
        module.fail_json(msg=str(exc))
    if module._diff:
        result["diff"] = {"before": {"path": str(path), "held_by": before},
                          "after": {"path": str(path), "held_by": result["held_by"]}}
    # Holding the lock is the run's bookkeeping, not a change to the host (see the description).
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

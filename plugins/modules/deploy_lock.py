#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: deploy_lock
short_description: Take, give back or look up the per-host lock of a djstack run
description:
  - One run that changes a host at a time (C(site.yml), a tier's playbook, a deploy, a rollback).
    The lock is a file (in C(/run/lock), which a reboot empties) created with C(O_EXCL) and
    holding the run's token, a description of its owner, the time and the run's name on the
    controller (the lookup P(djstack.stack.controller_run#lookup)).
  - The same run (same O(token)) may take the lock again; another run is refused with a message
    naming the holder, unless O(break_lock) is set or O(replace_run) names the holder's run (the
    caller found that run over, with the filter P(djstack.stack.run_is_over#filter)).
  - The lock is bookkeeping of the run, not a change to the host, so the module always reports
    C(changed=false) (a converged host reports C(changed=0) after a run that took and gave
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
      - V(query) only reports the holder (RV(held_by), RV(held_run), RV(held_since)).
    type: str
    choices: [present, absent, query]
    default: present
  token:
    description: A random string naming this run; the same for taking and giving back. Not needed for V(query).
    type: str
  owner:
    description: Who takes the lock, shown to a run that is refused (e.g. user, host and play).
    type: str
    default: "?"
  run:
    description: This run's name on the controller, recorded with the claim.
    type: str
    default: ""
  replace_run:
    description:
      - Take the lock over if, and only if, it is held by this run (one the caller knows is over).
        Checked and replaced under an C(flock), so two runs cannot both take over the same claim.
    type: str
    default: ""
  break_lock:
    description: Take the lock even if another run holds it (for a lock left by a run that died).
    type: bool
    default: false
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Reports what it would do, refuses a lock held by another run as a real run would, writes nothing.
  diff_mode:
    support: full
    details: The holder of the lock before and after.
"""

EXAMPLES = r"""
- name: Take the host lock
  djstack.stack.deploy_lock:
    path: /run/lock/djstack.lock
    state: present
    token: "{{ lock_token }}"
    owner: alice on laptop (deploy)
    run: "{{ lookup('djstack.stack.controller_run') }}"

- name: Give back the host lock
  djstack.stack.deploy_lock:
    path: /run/lock/djstack.lock
    state: absent
    token: "{{ lock_token }}"
"""

RETURN = r"""
taken:
  description: This call created (or took over) the lock file.
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
held_run:
  description: The controller run of the holder (V("") when nobody holds it or the claim names none).
  returned: when O(state=query), and when another run's lock refused O(state=present)
  type: str
held_since:
  description: When the holder took the lock.
  returned: when O(state=query)
  type: str
broken:
  description: The owner, time and run of the claim that was replaced.
  returned: when a lock held by another run was broken or taken over
  type: dict
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.releases import (
    ReleaseError,
    lock_claim,
    lock_holder,
    release_lock,
    take_lock,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent", "query"]},
            "token": {"type": "str", "no_log": True},
            "owner": {"type": "str", "default": "?"},
            "run": {"type": "str", "default": ""},
            "replace_run": {"type": "str", "default": ""},
            "break_lock": {"type": "bool", "default": False},
        },
        required_if=[("state", "present", ["token"]), ("state", "absent", ["token"])],
        supports_check_mode=True,
    )
    params = module.params
    path = Path(params["path"])
    before = lock_holder(path)
    try:
        if params["state"] == "query":
            claim = lock_claim(path)
            module.exit_json(changed=False, held_by=claim.get("owner", "?") if claim else "",
                             held_run=claim.get("run", ""), held_since=claim.get("since", ""))
        if params["state"] == "present":
            done = take_lock(path, params["token"], params["owner"], params["break_lock"], check=module.check_mode,
                             run=params["run"], replace_run=params["replace_run"])
            result = {"taken": done["changed"], "held_by": done["held_by"]}
            if "broken" in done:
                result["broken"] = done["broken"]
                module.warn(f"took over the host lock {path} from {done['broken'].get('owner', '?')} (since "
                            f"{done['broken'].get('since', '?')}): "
                            + ("broken on purpose" if params["break_lock"] else "that run is over"))
        else:
            done = release_lock(path, params["token"], check=module.check_mode)
            result = {"released": done["changed"], "held_by": done.get("held_by", "")}
    except ReleaseError as exc:
        # The holder's run, so the caller can tell whether it is over (filter run_is_over).
        claim = lock_claim(path)
        module.fail_json(msg=str(exc), held_by=claim.get("owner", "?"), held_run=claim.get("run", ""))
    except OSError as exc:
        module.fail_json(msg=str(exc))
    if module._diff:
        result["diff"] = {"before": {"path": str(path), "held_by": before},
                          "after": {"path": str(path), "held_by": result["held_by"]}}
    # Holding the lock is the run's bookkeeping, not a change to the host (see the description).
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: release
short_description: Switch, record, roll back and prune the releases of a django_app root
description:
  - Keeps C(<root>/releases.json), the release history of the role django_app, and the
    symlink C(<root>/current) that points at the release serving.
  - Statuses in the history are V(active) (what C(current) points at), V(previous) (the release
    that served before it, the default rollback target), V(inactive) and V(failed) (never serves again).
  - Every change of the history happens under C(<root>/.releases.lock), and C(current) is
    re-pointed with a temporary symlink and a rename, so readers never see it missing.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  root:
    description: The app root holding C(releases/), C(current) and C(releases.json).
    type: path
    required: true
  state:
    description:
      - V(active) switches C(current) to the built release O(id) and records it as the newest
        activation (nothing changes when it is already the active one).
      - V(failed) records O(id) as failed without touching C(current).
      - V(reverted) records O(id) as failed and, if C(current) points at it, puts back O(to).
      - V(rolled_back) switches C(current) to the good release O(to), or to the one that served
        before the current one when O(to) is empty (from the activation order, never directory times).
      - V(pruned) deletes old releases, keeping the newest O(keep) good ones, current and previous;
        failed ones go once a later release is active.
    type: str
    choices: [active, failed, reverted, rolled_back, pruned]
    required: true
  id:
    description: The release (for O(state=active), O(state=failed) and O(state=reverted)).
    type: str
  revision:
    description: The source revision recorded with O(id).
    type: str
  build:
    description: The hash of the build settings recorded with O(id).
    type: str
  venv_key:
    description: The key of the release's venv, recorded with O(id) (omitted when empty).
    type: str
    default: ""
  venv_source:
    description: The release whose venv was reused, recorded with O(id) (omitted when empty).
    type: str
    default: ""
  reason:
    description: Why the release failed (O(state=failed) and O(state=reverted)).
    type: str
    default: ""
  to:
    description:
      - With O(state=reverted), the release that served before the deploy; empty on a first deploy.
      - With O(state=rolled_back), the target release; empty for the one that served before current.
    type: str
    default: ""
  keep:
    description:
      - Good releases to keep, at least 2. Required with O(state=pruned); with O(state=active)
        it prunes right after the switch.
    type: int
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Plans on a copy of the history and changes nothing on the host.
  diff_mode:
    support: full
    details: The target of C(current) and the history entries that change, before and after.
notes:
  - The history holds no secrets, so the diff shows whole entries.
"""

EXAMPLES = r"""
- name: Switch current to the new release
  djstack.stack.release:
    root: /srv/demo
    state: active
    id: 20261122T101500Z-3f2a9c1d7e4b
    revision: 3f2a9c1d7e4b...
    build: 0b1c...
    venv_key: 9e8d...

- name: Roll back to the release that served before
  djstack.stack.release:
    root: /srv/demo
    state: rolled_back

- name: Prune old releases
  djstack.stack.release:
    root: /srv/demo
    state: pruned
    keep: 5
"""

RETURN = r"""
current:
  description: The release C(current) points at afterwards (V("") when there is none).
  returned: always
  type: str
previous:
  description: The release C(current) pointed at before the switch (O(state=active); V("") on a first deploy).
  returned: when O(state=active)
  type: str
from:
  description: The release C(current) pointed at before the rollback.
  returned: when O(state=rolled_back)
  type: str
venv_changed:
  description: The rollback target's venv key differs from the one of the release it replaces.
  returned: when O(state=rolled_back)
  type: bool
failed_release:
  description: The release recorded as failed (not C(failed), which would fail the task).
  returned: when O(state=failed) or O(state=reverted)
  type: str
switched_back:
  description: C(current) had moved to the failed release and was put back to O(to).
  returned: when O(state=reverted)
  type: bool
removed:
  description: The releases pruned (directories deleted, entries dropped from the history).
  returned: when O(state=pruned), or O(state=active) with O(keep)
  type: list
  elements: str
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.releases import (
    ReleaseError,
    activate,
    current_id,
    prune,
    record_failed,
    revert,
    rollback,
)


def _fields(params: dict) -> dict:
    fields = {"id": params["id"], "revision": params["revision"], "build": params["build"]}
    for name in ("venv_key", "venv_source"):
        if params[name]:
            fields[name] = params[name]
    return fields


def _run(module: AnsibleModule) -> dict:
    params = module.params
    root = Path(params["root"])
    state = params["state"]
    check = module.check_mode
    if state == "active":
        return activate(root, _fields(params), params["keep"], check=check)
    if state == "failed":
        return record_failed(root, {**_fields(params), "reason": params["reason"]}, check=check)
    if state == "reverted":
        return revert(root, _fields(params), params["to"] or None, params["reason"], check=check)
    if state == "rolled_back":
        return rollback(root, params["to"] or None, check=check)
    result = prune(root, params["keep"], check=check)
    result["current"] = current_id(root) or ""
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "state": {"type": "str", "required": True,
                      "choices": ["active", "failed", "reverted", "rolled_back", "pruned"]},
            "id": {"type": "str"},
            "revision": {"type": "str"},
            "build": {"type": "str"},
            "venv_key": {"type": "str", "default": "", "no_log": False},
            "venv_source": {"type": "str", "default": ""},
            "reason": {"type": "str", "default": ""},
            "to": {"type": "str", "default": ""},
            "keep": {"type": "int"},
        },
        required_if=[
            ("state", "active", ("id", "revision", "build")),
            ("state", "failed", ("id", "revision", "build")),
            ("state", "reverted", ("id", "revision", "build")),
            ("state", "pruned", ("keep",)),
        ],
        supports_check_mode=True,
    )
    try:
        result = _run(module)
    except (ReleaseError, OSError) as exc:
        module.fail_json(msg=str(exc))
    diff = result.pop("diff")
    for key in ("current", "previous", "from"):
        if key in result and result[key] is None:
            result[key] = ""
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()

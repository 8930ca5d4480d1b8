#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: owned_tree
short_description: Own the owners and modes of a whole directory tree
description:
  - Sets the owner and group of O(path) and of everything below it, and the modes of its
    directories and regular files, and reports each path it had to change.
  - For trees whose contents another step writes (a release's code and venv, collected static
    files, uploads, a SQLite directory). A C(chown -R) or C(chmod -R) by hand there is drift like
    an edited file, reported by a C(--check --diff) run and repaired by the next run.
  - Symlinks get their owner (C(lchown)); they are never followed and their mode is never set.
    Sockets and FIFOs get their owner and keep their mode.
  - Modes are compared whole, setgid and sticky bits included.
  - Entries are reached through their directory's file descriptor and never through a symlink,
    so a tree the app can write to cannot redirect the module's C(chown) or C(chmod) elsewhere.
  - The module fails on a missing O(path) (the task creating it comes first; in check mode, where
    that task only reports, a missing O(path) has nothing to own yet) and on an unknown O(owner) or
    O(group).
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  path:
    description: The top of the tree, usually a directory.
    type: path
    required: true
  owner:
    description: The user owning every entry.
    type: str
    default: root
  group:
    description: The group owning every entry.
    type: str
    required: true
  dir_mode:
    description:
      - The mode of every directory, a quoted octal string (V("0750"), V("2750") with setgid).
      - An unquoted number is refused, since YAML reads C(0750) as decimal 488.
    type: raw
    required: true
  file_mode:
    description:
      - The mode of every regular file, a quoted octal string (V("0640")).
      - Omitted, files keep the mode their writer gave them (uploads, databases) and only their
        owners are set.
    type: raw
  exec_mode:
    description:
      - The mode of regular files with the owner-execute bit, a quoted octal string (V("0750")).
      - Omitted, they get O(file_mode) like the other files.
    type: raw
  recurse:
    description: V(false) owns O(path) alone.
    type: bool
    default: true
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Reports the paths to change and changes none.
  diff_mode:
    support: full
    details:
      - The first 20 paths to change, one per line as C(<path> <owner>:<group> <mode>), before and
        after; a last line counts the others.
"""

EXAMPLES = r"""
- name: Keep every release read-only to the app
  djstack.stack.owned_tree:
    path: /srv/demo/releases
    group: demo
    dir_mode: "0750"
    file_mode: "0640"
    exec_mode: "0750"

- name: Keep the static files root's and readable by nginx
  djstack.stack.owned_tree:
    path: /srv/demo/shared/static
    group: root
    dir_mode: "0755"
    file_mode: "0644"

- name: Keep the uploads the app's and readable by nginx, whatever mode the app gave them
  djstack.stack.owned_tree:
    path: /srv/demo/shared/media
    owner: demo
    group: www-data
    dir_mode: "2750"

- name: See what differs, and no more
  djstack.stack.owned_tree:
    path: /srv/demo/db
    owner: demo
    group: demo
    dir_mode: "0750"
  check_mode: true
  diff: true
"""

RETURN = r"""
path:
  description: The top of the tree.
  returned: always
  type: str
  sample: /srv/demo/releases
fixed:
  description: Paths whose owner or mode was (or in check mode would be) set.
  returned: always
  type: int
  sample: 3
total:
  description: Paths examined.
  returned: always
  type: int
  sample: 5120
paths:
  description: The first 20 fixed paths, each with its owner and mode as found and as wanted
    (the others are counted in RV(fixed)).
  returned: always
  type: list
  elements: str
  sample: ["/srv/demo/releases/20261122T101500Z-3f2a9c1d7e4b root:root 0700 -> root:demo 0750"]
"""

import re
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.djstack.stack.plugins.module_utils.ownership import UnknownAccount, ids, own_tree

OCTAL = re.compile(r"^0?[0-7]{3,4}$")


def parse_mode(name: str, value: Any) -> int | None:
    """The mode an option's octal string means; ValueError says what is wrong."""
    if value is None:
        return None
    # YAML reads an unquoted 0644 as the number 420, which as text is a valid but wrong
    # mode (0420): only a string says which digits were meant.
    if not isinstance(value, str) or not OCTAL.match(value):
        raise ValueError(f"{name} must be a quoted octal string like \"0750\" (got {value!r})")
    return int(value, 8)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "owner": {"type": "str", "default": "root"},
            "group": {"type": "str", "required": True},
            "dir_mode": {"type": "raw", "required": True},
            "file_mode": {"type": "raw"},
            "exec_mode": {"type": "raw"},
            "recurse": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    top = Path(params["path"])
    result: dict[str, Any] = {"changed": False, "path": str(top), "fixed": 0, "total": 0, "paths": []}
    try:
        modes = {name: parse_mode(name, params[name]) for name in ("dir_mode", "file_mode", "exec_mode")}
    except ValueError as exc:
        module.fail_json(msg=str(exc), **result)
    missing = not top.exists() and not top.is_symlink()
    try:
        uid, gid = ids(params["owner"], params["group"])
    except UnknownAccount as exc:
        # In check mode the task creating the account only reported that it would: the
        # tree is nothing to own yet, or all of it will change owner once it exists.
        if not module.check_mode:
            module.fail_json(msg=str(exc), **result)
        if not missing:
            result.update(changed=True, msg=f"{exc}: in a run, the account comes first")
        module.exit_json(**result)
    # A tree that is not there is a mistake in the play (the task creating it comes first).
    # In check mode that task only reported it would create it: nothing to own yet.
    if missing:
        if module.check_mode:
            module.exit_json(**result)
        module.fail_json(msg=f"{top} does not exist: create it before owning it", **result)
    try:
        fix = own_tree(top, uid, gid, modes["dir_mode"], modes["file_mode"], modes["exec_mode"],
                       recurse=params["recurse"], check=module.check_mode)
    except OSError as exc:
        module.fail_json(msg=f"cannot own {top}: {exc}", **result)
    result.update(changed=fix.fixed > 0, fixed=fix.fixed, total=fix.total, paths=fix.paths)
    if module._diff and fix.fixed:
        result["diff"] = dict(fix.diff(), before_header=f"{top} (owners and modes)",
                              after_header=f"{top} (owners and modes)")
    module.exit_json(**result)


if __name__ == "__main__":
    main()

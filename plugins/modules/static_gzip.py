#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: static_gzip
short_description: Keep a gzip copy beside each static text file, for nginx's gzip_static
description:
  - Writes C(file.gz) beside each text file (CSS, JS, SVG, JSON, fonts, ...) under O(path), at
    gzip level O(level), with its file's mode and mtime; nginx's C(gzip_static) then sends the copy
    instead of compressing the same bytes on every request.
  - A copy is rewritten when the CRC-32 and length in its gzip trailer differ from its file's
    content (content, not mtime, since collectstatic re-saves hashed CSS on every run with the same bytes).
  - No copy is kept for files smaller than O(min_size) or that would not get smaller; a copy
    left from an earlier version of such a file is removed.
  - The same content always packs to the same bytes (no time in the gzip header).
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  path:
    description: The static root (Django's C(STATIC_ROOT)).
    type: path
    required: true
  min_size:
    description: Files smaller than this many bytes get no copy.
    type: int
    default: 256
  level:
    description: The gzip compression level.
    type: int
    default: 9
    choices: [1, 2, 3, 4, 5, 6, 7, 8, 9]
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Counts and lists what it would write and remove, writes nothing.
  diff_mode:
    support: full
    details: The files whose copies are written or removed (a first deploy lists hundreds).
"""

EXAMPLES = r"""
- name: Write the gzip copies of the static text files
  djstack.stack.static_gzip:
    path: /srv/demo/shared/static
    min_size: 256
"""

RETURN = r"""
written:
  description: Copies written (new or stale), or that would be in check mode.
  returned: always
  type: int
removed:
  description: Copies removed because they no longer help.
  returned: always
  type: int
kept:
  description: Copies already up to date.
  returned: always
  type: int
"""

from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.static_gzip import compress


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "min_size": {"type": "int", "default": 256},
            "level": {"type": "int", "default": 9, "choices": list(range(1, 10))},
        },
        supports_check_mode=True,
    )
    root = Path(module.params["path"])
    if not root.is_dir():
        module.fail_json(msg=f"{root} is not a directory")
    if module.params["min_size"] < 0:
        module.fail_json(msg=f"min_size must be 0 or more (got {module.params['min_size']})")
    try:
        done = compress(root, module.params["min_size"], module.params["level"], dry_run=module.check_mode)
    except OSError as exc:
        module.fail_json(msg=f"writing the gzip copies under {root}: {exc}")
    # Counts, not names: a first deploy writes hundreds (Django's admin alone); the diff lists them.
    result = {"written": len(done["written"]), "removed": len(done["removed"]), "kept": done["kept"]}
    if module._diff:
        result["diff"] = {"before": {"written": [], "removed": []},
                          "after": {"written": [f"{name}.gz" for name in done["written"]],
                                    "removed": [f"{name}.gz" for name in done["removed"]]}}
    module.exit_json(changed=bool(done["written"] or done["removed"]), **result)


if __name__ == "__main__":
    main()

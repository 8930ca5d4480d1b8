#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: static_publish
short_description: Move a release's collected static files into the live static root, one rename per file
description:
  - Moves every file under O(src) (a release's collectstatic output, with its gzip copies) that is
    new or differs from the file of the same name under O(dest) (the static root nginx serves)
    into place with C(rename(2)), so a reader always gets the complete old file or the complete
    new one, never a missing or half-written one. O(src) should be on the file system of O(dest);
    otherwise each file is copied beside its live name first, then renamed.
  - A file differs when its content, mode or (if given) owner or group do; the mtime is ignored,
    since collectstatic re-saves post-processed files on every run.
  - Files under O(dest) that O(src) does not have are kept, for pages of older releases still open
    in browsers. The exception is a gzip copy C(name.gz) that O(src) has no copy for and that no
    longer matches C(name) is removed, since nginx's gzip_static would send it instead.
  - Afterwards O(src) is removed.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  src:
    description: The staging directory the release's static files were collected into.
    type: path
    required: true
  dest:
    description: The live static root (what nginx serves).
    type: path
    required: true
  owner:
    description: Owner of the published files and of the directories created; unchanged if not given.
    type: str
  group:
    description: Group of the published files and of the directories created; unchanged if not given.
    type: str
  mode:
    description: Mode of every published file (octal string).
    type: str
    default: "0644"
  directory_mode:
    description: Mode of the directories created under O(dest) (octal string).
    type: str
    default: "0755"
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Counts and lists what it would add, replace and remove; changes nothing, O(src) included.
  diff_mode:
    support: full
    details: The files added, replaced and removed (a first deploy lists hundreds).
"""

EXAMPLES = r"""
- name: Publish the release's static files
  djstack.stack.static_publish:
    src: /srv/demo/shared/.static-staging/20261122T101500Z-3f2a9c1d7e4b
    dest: /srv/demo/shared/static
    owner: root
    group: root
"""

RETURN = r"""
added:
  description: Files that were not live before (or would be, in check mode).
  returned: always
  type: int
replaced:
  description: Live files replaced by the release's version.
  returned: always
  type: int
removed:
  description: Stale gzip copies removed.
  returned: always
  type: int
kept:
  description: Files of the release already live, left untouched.
  returned: always
  type: int
"""

import grp
import pwd
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.static_publish import (
    Attributes,
    PublishError,
    publish,
)


def _mode(module: AnsibleModule, name: str) -> int:
    value = module.params[name]
    try:
        mode = int(value, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg=f"{name} must be an octal mode such as 0644 (got {value!r})")
    return mode


def _id(module: AnsibleModule, name: str) -> int | None:
    value = module.params[name]
    if value is None:
        return None
    try:
        return pwd.getpwnam(value).pw_uid if name == "owner" else grp.getgrnam(value).gr_gid
    except KeyError:
        module.fail_json(msg=f"{name} {value!r} does not exist")
    return None  # not reached


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "src": {"type": "path", "required": True},
            "dest": {"type": "path", "required": True},
            "owner": {"type": "str"},
            "group": {"type": "str"},
            "mode": {"type": "str", "default": "0644"},
            "directory_mode": {"type": "str", "default": "0755"},
        },
        supports_check_mode=True,
    )
    attrs = Attributes(mode=_mode(module, "mode"), directory_mode=_mode(module, "directory_mode"),
                       uid=_id(module, "owner"), gid=_id(module, "group"))
    src, dest = Path(module.params["src"]), Path(module.params["dest"])
    try:
        done = publish(src, dest, attrs, dry_run=module.check_mode)
    except (PublishError, OSError) as exc:
        module.fail_json(msg=f"publishing {src} into {dest}: {exc}")
    # Counts, not names: a first deploy publishes hundreds (Django's admin alone); the diff lists them.
    result = {"added": len(done.added), "replaced": len(done.replaced), "removed": len(done.removed),
              "kept": done.kept}
    if module._diff:
        result["diff"] = {"before": {"added": [], "replaced": [], "removed": []},
                          "after": {"added": done.added, "replaced": done.replaced, "removed": done.removed}}
    module.exit_json(changed=done.changed, **result)


if __name__ == "__main__":
    main()

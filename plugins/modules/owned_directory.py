#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: owned_directory
short_description: Own a directory whole, so nothing the role did not write there takes effect
description:
  - Lists the entries of O(path) that are neither O(managed) (what the role writes there) nor
    O(allowed) (what the user keeps there on purpose), and removes them or moves them aside
    into a dated directory under O(backup_dir).
  - For directories a service reads every file of (nginx's C(sites-enabled), a unit's
    C(.d) drop-in directory), where a file dropped by hand or by a package would otherwise
    take effect at the next reload, unseen by a C(--check --diff) run.
  - A missing O(path) has nothing to own; the role creates it.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  path:
    description: The directory.
    type: path
    required: true
  managed:
    description: Names of the entries the role writes there.
    type: list
    elements: str
    default: []
  allowed:
    description: Names or shell patterns (C(*.conf)) of entries the user keeps there; never touched.
    type: list
    elements: str
    default: []
  unmanaged:
    description: V(remove) deletes the other entries; V(backup) moves them into O(backup_dir).
    type: str
    choices: [remove, backup]
    default: remove
  backup_dir:
    description:
      - With O(unmanaged=backup), entries go to C(<backup_dir>/<path>/<UTC time>/),
        root-only (C(0700)).
    type: path
    default: /var/backups/djstack
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Reports the unmanaged entries and removes nothing.
  diff_mode:
    support: full
    details: The directory's entries before and after, one per line.
"""

EXAMPLES = r"""
- name: Own nginx's site directory
  djstack.stack.owned_directory:
    path: /etc/nginx/sites-enabled
    managed: [djstack-default.conf, demo.conf]
  notify: Reload nginx

- name: Own memcached's drop-in directory, keeping a user's own tuning
  djstack.stack.owned_directory:
    path: /etc/systemd/system/memcached.service.d
    managed: [djstack.conf]
    allowed: [local-*.conf]
    unmanaged: backup
"""

RETURN = r"""
unmanaged:
  description: Entries that were neither managed nor allowed (removed or moved unless in check mode).
  returned: always
  type: list
  elements: str
  sample: [stray-site.conf]
backup:
  description: Where the entries were moved to.
  returned: when entries were moved aside
  type: str
  sample: /var/backups/djstack/etc/nginx/sites-enabled/20261202T014500Z
"""

import fnmatch
import os
import shutil
import time
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule


def unmanaged_entries(path: Path, managed: list[str], allowed: list[str]) -> list[str]:
    """Names in `path` that are neither managed nor match an allowed pattern, sorted."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n not in managed and not any(fnmatch.fnmatchcase(n, p) for p in allowed))


def _remove(entry: Path) -> None:
    # A symlink (sites-enabled's usual kind) goes, never what it points to.
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry)
    else:
        entry.unlink()


def backup_target(backup_dir: Path, path: Path, now: float) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return backup_dir / str(path).lstrip("/") / stamp


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "managed": {"type": "list", "elements": "str", "default": []},
            "allowed": {"type": "list", "elements": "str", "default": []},
            "unmanaged": {"type": "str", "choices": ["remove", "backup"], "default": "remove"},
            "backup_dir": {"type": "path", "default": "/var/backups/djstack"},
        },
        supports_check_mode=True,
    )
    params = module.params
    path = Path(params["path"])
    if path.exists() and not path.is_dir():
        module.fail_json(msg=f"{path} is not a directory")
    stray = unmanaged_entries(path, params["managed"], params["allowed"])
    result: dict[str, object] = {"changed": bool(stray), "unmanaged": stray}
    if module._diff:
        present = sorted(os.listdir(path)) if path.is_dir() else []
        result["diff"] = {
            "before_header": f"{path}/", "after_header": f"{path}/",
            "before": "".join(f"{n}\n" for n in present),
            "after": "".join(f"{n}\n" for n in present if n not in stray),
        }
    if stray and not module.check_mode:
        try:
            if params["unmanaged"] == "backup":
                target = backup_target(Path(params["backup_dir"]), path, time.time())
                target.mkdir(parents=True, exist_ok=True)
                os.chmod(Path(params["backup_dir"]), 0o700)
                for name in stray:
                    shutil.move(str(path / name), str(target / name))
                result["backup"] = str(target)
            else:
                for name in stray:
                    _remove(path / name)
        except OSError as exc:
            module.fail_json(msg=f"cannot clear {path} of {', '.join(stray)}: {exc}", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

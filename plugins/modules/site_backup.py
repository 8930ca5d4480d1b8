#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: site_backup
short_description: Back up a Django site's database and media, or restore a backup
description:
  - With O(state=present), writes one backup under O(root) of the database behind O(database_url)
    (SQLite through its online backup API, consistent while the app writes; PostgreSQL with
    C(pg_dump) in its custom format) and of the O(media) directory (a tar file keeping owners and
    modes), then removes the oldest backups of the same O(kind) beyond O(keep). Every run makes a new
    backup, so it always reports a change.
  - With O(state=restored), puts the backup called O(name), or the newest pre-migrate backup of
    O(release), back in place of the live database and media. Every file is checked against the
    checksum it was written with before anything is touched. SQLite is restored through the same API
    into the live file, so the app's connections see the result at once. PostgreSQL's is one
    transaction of C(psql) in which everything the app's role owns is dropped (C(DROP OWNED), so a table
    a later migration created goes too) and the archive's SQL from C(pg_restore) replayed; an
    error leaves the database as it was. The live database is read first; the archive's entries
    for extensions another role installed (a superuser's C(CREATE EXTENSION citext)) are skipped and
    the extensions left as they are; objects of other roles that the archive would recreate, or that
    depend on the app's role's objects, refuse the restore before anything changes, each named with
    its owner and the C(ALTER ... OWNER TO) that would let the restore through. The media
    directory's contents become the backup's exactly; the directory itself stays.
  - Each backup is a directory named C(<UTC time>-<kind>[-<release>]) holding C(manifest.json), the
    database file and C(media.tar), root's and owner-only. It is written under a C(.partial) name and
    renamed when whole. A lock file keeps a timer's backup and a deploy's apart.
  - The database tools run as O(user), the app's account, and hand their output over a pipe.
  - The backup role's timer runs the same code (C(module_utils/site_backup.py create)).
  - With copy settings under O(root) (C(.copy/settings.json), written by the backup role when
    C(backup_copy_host) is set), O(state=present) then copies the backups of O(kind) to that host
    with C(rsync) over SSH (its key and pinned C(known_hosts) beside the settings), owner-only
    (C(0700)/C(0600)), each backup's C(manifest.json) last so a copy with one is whole, and removes
    the copies there beyond O(keep). A failed copy fails the task; the backup written here stays.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  root:
    description: The directory holding the site's backups; created root's and C(0700).
    type: path
    required: true
  state:
    description: V(present) writes a new backup; V(restored) restores one.
    type: str
    choices: [present, restored]
    default: present
  database_url:
    description:
      - The site's database URL (C(sqlite:////path) or C(postgresql://user:password@host/name), as
        Django's settings overlay reads it).
      - It holds the database password; it never appears in the output.
    type: str
    required: true
  user:
    description: The app's account, which reads and writes the database.
    type: str
    required: true
  media:
    description: The media directory; omitted or missing, the backup holds the database only.
    type: path
  kind:
    description: What the backup is for; O(keep) counts backups of the same kind only.
    type: str
    choices: [scheduled, pre-migrate, manual]
    default: manual
  release:
    description:
      - With O(state=present), the release the backup is taken for (a pre-migrate backup's).
      - With O(state=restored) and no O(name), restore that release's newest pre-migrate backup.
    type: str
    default: ""
  name:
    description: With O(state=restored), the backup to restore.
    type: str
    default: ""
  keep:
    description: Backups of O(kind) kept after a new one is written (at least 1).
    type: int
    default: 7
  app_root:
    description:
      - With O(state=present), the app's root; the release its C(current) points at is recorded as the one serving.
      - With O(state=restored), the app's root whose releases the backup's serving release must still be
        among (a good one in C(releases.json), its directory under C(releases/)); otherwise the restore is
        refused before anything is touched, naming the release and the backups that could be restored.
    type: path
    default: ""
notes:
  - A pre-migrate backup of a SQLite database that does not exist yet (a first deploy) writes nothing
    and reports no change.
  - In check mode nothing is written; O(state=restored) still finds the backup and checks its files,
    so a typo in O(name) or a damaged backup fails the check run too. In check mode the other host
    of a copy is not contacted; RV(copy) says where the backups would go.
"""

EXAMPLES = r"""
- name: Back up the database before the migrations
  djstack.stack.site_backup:
    root: /var/backups/djstack/shop
    database_url: "{{ django_app_database_url }}"
    user: shop
    media: /srv/shop/shared/media
    kind: pre-migrate
    release: 20261203T101500Z-3f2a9c1d7e4b
    keep: 3

- name: Restore the backup taken before that release migrated
  djstack.stack.site_backup:
    root: /var/backups/djstack/shop
    state: restored
    database_url: "{{ django_app_database_url }}"
    user: shop
    media: /srv/shop/shared/media
    release: 20261203T101500Z-3f2a9c1d7e4b
"""

RETURN = r"""
backup:
  description: The name of the backup written or restored (in check mode with V(present), the name it would get).
  returned: always
  type: str
  sample: 20261203T101502Z-pre-migrate-20261203T101500Z-3f2a9c1d7e4b
manifest:
  description: The backup's manifest (kind, release, created, serving, database and media files with sizes and checksums).
  returned: always
  type: dict
removed:
  description: Backups of the same kind removed beyond O(keep).
  returned: when O(state=present)
  type: list
  elements: str
copy:
  description:
    - With copy settings under O(root), where the backups were copied (V(target)), the backups of
      O(kind) sent (V(sent)) and the copies removed there beyond O(keep) (V(removed)); empty without.
    - In check mode, V(sent) is what would be sent and V(removed) is not known (empty).
  returned: when O(state=present)
  type: dict
  sample: {"target": "djbackup@backup.example.com:demo/app1 (port 22)", "sent": ["20261203T030211Z-scheduled"],
           "removed": []}
serving:
  description: The release that served when the restored backup was taken (empty when unknown).
  returned: when O(state=restored)
  type: str
"""

import time
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils import site_backup as sb
from ansible_collections.djstack.stack.plugins.module_utils.releases import (
    GOOD, ReleaseError, load_history, present_releases)


def _present(module: AnsibleModule, root: Path) -> dict:
    params = module.params
    db = sb.parse_database_url(params["database_url"])
    if params["kind"] == "pre-migrate" and db.engine == "sqlite" and not Path(db.path).exists():
        # A first deploy: its migrations create the database, there is nothing to lose yet.
        return {"changed": False, "backup": "", "removed": [], "copy": {}, "manifest": {},
                "msg": f"no database at {db.path} yet"}
    if module.check_mode:
        name = sb.free_name(root, params["kind"], params["release"], time.time())[0]
        existing = sb.backups(root) + [{"name": name, "kind": params["kind"]}]
        removed = sb.plan_prune(existing, params["kind"], params["keep"])
        target = sb.read_copy_target(root)
        copy = ({"target": target.label, "removed": [],
                 "sent": [item["name"] for item in existing
                          if item["kind"] == params["kind"] and item["name"] not in removed]}
                if target else {})
        return {"changed": True, "backup": name, "removed": removed, "copy": copy,
                "manifest": {"name": name, "kind": params["kind"], "release": params["release"]}}
    done = sb.create(root, kind=params["kind"], database_url=params["database_url"], user=params["user"],
                     media=params["media"] or "", release=params["release"], app_root=params["app_root"],
                     keep=params["keep"])
    result = {"changed": True, "backup": done["backup"], "manifest": done["manifest"], "removed": done["removed"],
              "copy": done["copy"]}
    if done["copy_error"]:
        module.fail_json(msg=done["copy_error"], **result)
    return result


def _restored(module: AnsibleModule, root: Path) -> dict:
    params = module.params
    if not params["name"] and not params["release"]:
        module.fail_json(msg="state=restored needs name (a backup) or release (its pre-migrate backup)")
    manifest = sb.find(root, name=params["name"], release=params["release"])
    if params["app_root"]:
        # Before any file is touched, in check mode too: a restore's pre-check runs so.
        app_root = Path(params["app_root"])
        problem = sb.serving_problem(
            manifest, present=present_releases(app_root), existing=sb.backups(root), app_root=str(app_root),
            good={entry.get("id") for entry in load_history(app_root) if entry.get("status") in GOOD})
        if problem:
            module.fail_json(msg=problem, backup=manifest["name"], manifest=manifest, serving=manifest["serving"])
    if module.check_mode:
        sb.parse_database_url(params["database_url"])
        sb.check(root, manifest)
    else:
        sb.restore(root, manifest, database_url=params["database_url"], user=params["user"],
                   media=params["media"] or "")
    return {"changed": True, "backup": manifest["name"], "manifest": manifest, "serving": manifest["serving"]}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["present", "restored"], "default": "present"},
            "database_url": {"type": "str", "required": True, "no_log": True},
            "user": {"type": "str", "required": True},
            "media": {"type": "path"},
            "kind": {"type": "str", "choices": list(sb.KINDS), "default": "manual"},
            "release": {"type": "str", "default": ""},
            "name": {"type": "str", "default": ""},
            "keep": {"type": "int", "default": 7, "no_log": False},
            "app_root": {"type": "path", "default": ""},
        },
        supports_check_mode=True,
    )
    root = Path(module.params["root"])
    try:
        result = (_present if module.params["state"] == "present" else _restored)(module, root)
    except (sb.BackupError, ReleaseError) as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"backup under {root}: {exc}")
    if module._diff:
        what = result["backup"]
        copy = result.get("copy") or {}
        result["diff"] = ({"before": "", "after": f"backup {what}\n"
                           + "".join(f"removed {old}\n" for old in result["removed"])
                           + (f"copied to {copy['target']}\n" if copy else "")
                           + "".join(f"removed on {copy['target']}: {old}\n" for old in copy.get("removed", []))}
                          if module.params["state"] == "present"
                          else {"before": "live database and media\n", "after": f"restored from backup {what}\n"})
    module.exit_json(**result)


if __name__ == "__main__":
    main()

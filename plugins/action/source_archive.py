# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin djstack.stack.source_archive: pack a controller directory into a
deterministic .tar.gz and return its content hash. Documented in
plugins/modules/source_archive.py (there is no module: it all runs here)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ansible.plugins.action import ActionBase

from ansible_collections.djstack.stack.plugins.plugin_utils.source_archive import SourceArchiveError, build

# Matches DOCUMENTATION in plugins/modules/source_archive.py.
ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "src": {"type": "path", "required": True},
    "dest": {"type": "path", "required": True},
    "excludes": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # Controller-only by design: no connection to the host, whatever the play's connection is.
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        result = super().run(tmp, task_vars)
        del tmp  # unused: nothing goes to the host

        # Relative paths mean what they meant to the `command` task this replaces, whose
        # local process ran in the playbook's directory.
        basedir = self._loader.get_basedir()
        src = Path(os.path.join(basedir, args["src"]))
        dest = Path(os.path.join(basedir, args["dest"]))

        # Check mode packs too: a check run compares this revision with the host's.
        try:
            packed = build(src, dest, args["excludes"])
        except SourceArchiveError as exc:
            return dict(result, failed=True, changed=False, msg=str(exc))
        except OSError as exc:
            return dict(result, failed=True, changed=False, msg=f"cannot pack {src} into {dest}: {exc}")
        # Nothing on the host changed; the archive is controller scratch.
        return dict(result, changed=False, src=str(src), dest=str(dest), **packed)

# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: controller_run
author: djstack maintainers (@djstack)
version_added: 0.1.0
short_description: This ansible-playbook run's name on the controller, for the host lock
description:
  - Returns C(<controller host>:<pid>:<start>), the pid of this run's C(ansible-playbook)
    process and its start time in clock ticks since boot.
  - The host lock records it, so that a later run on the same controller can tell that the
    run which left a lock behind is over (see the filter P(djstack.stack.run_is_over#filter)).
  - The pid is V(0) when no C(ansible-playbook) process is found among this process's
    ancestors; such a run is never taken for over.
notes:
  - Takes no terms.
"""

EXAMPLES = r"""
- name: Show this run's name
  ansible.builtin.debug:
    msg: "{{ lookup('djstack.stack.controller_run') }}"
"""

RETURN = r"""
_raw:
  description: The run's name, one string.
  type: list
  elements: str
"""

from typing import Any

from ansible.plugins.lookup import LookupBase

from ansible_collections.djstack.stack.plugins.plugin_utils.controller_run import this_run


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        return [this_run()]

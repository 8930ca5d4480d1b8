# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether an ansible-playbook run recorded by the host lock is over."""

from __future__ import annotations

DOCUMENTATION = r"""
name: run_is_over
short_description: Whether a run named by the lookup djstack.stack.controller_run is over
version_added: 0.1.0
author: djstack maintainers (@djstack)
description:
  - True only when the run ran on this controller and its C(ansible-playbook) process is
    gone (no process with that pid, or one started at another time).
  - A run of another controller, or one whose pid is unknown, may still be going on, so it
    is never over; only the user can say so (the host lock's C(host_lock_break)).
options:
  _input:
    description: A run's name, C(<controller host>:<pid>:<start>).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Take over a lock left by a run of this controller that failed or was killed
  djstack.stack.deploy_lock:
    path: /run/lock/djstack.lock
    token: "{{ token }}"
    run: "{{ lookup('djstack.stack.controller_run') }}"
    replace_run: "{{ holder.held_run if holder.held_run | djstack.stack.run_is_over else '' }}"
"""

RETURN = r"""
_value:
  description: Whether the run is known to be over.
  type: bool
"""

from ansible_collections.djstack.stack.plugins.plugin_utils.controller_run import is_over


def run_is_over(run: object) -> bool:
    return is_over(str(run or ""))


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"run_is_over": run_is_over}

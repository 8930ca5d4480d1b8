# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CPUs or memory a host gives its services, from whichever facts the play has."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible.template import AnsibleUndefined

DOCUMENTATION = r"""
name: host_limit
short_description: The CPUs or memory a host gives its services, from its facts
version_added: 0.1.0
author: djstack maintainers (@djstack)
description:
  - Once the module M(djstack.stack.host_limits) has run, its fact C(djstack_host_limits)
    (the tightest cgroup limits) answers.
  - Before it has run (e.g. in the preflight play), Ansible's own facts stand in, which show
    the whole machine; C(processor_vcpus) (1 without it) and C(memtotal_mb) (undefined
    without it, as the fact is).
options:
  _input:
    description: The host's facts, C(ansible_facts).
    type: dict
    required: true
  name:
    description: What to return.
    type: str
    choices: [vcpus, memory_mb]
    required: true
"""

EXAMPLES = r"""
- name: Size the workers from the host's limits
  ansible.builtin.debug:
    msg: "{{ 2 * ansible_facts | djstack.stack.host_limit('vcpus') + 1 }} workers"
"""

RETURN = r"""
_value:
  description: The CPUs (C(vcpus)) or the memory in MB (C(memory_mb)).
  type: int
"""

# What each limit falls back to among Ansible's facts, and its value when that fact is missing too
# (None: undefined, as the fact is).
_MACHINE_FACTS = {"vcpus": ("processor_vcpus", 1), "memory_mb": ("memtotal_mb", None)}


def host_limit(facts: Mapping[str, object], name: str) -> object:
    if not isinstance(facts, Mapping):
        raise AnsibleFilterError(f"host_limit needs the host's facts (ansible_facts), got {type(facts).__name__}")
    if name not in _MACHINE_FACTS:
        raise AnsibleFilterError(f"host_limit: unknown limit {name!r}; one of {', '.join(_MACHINE_FACTS)}")
    limits = facts.get("djstack_host_limits")
    if limits is not None:
        return limits[name]
    fact, missing = _MACHINE_FACTS[name]
    value = facts.get(fact, missing)
    if value is None:
        # Undefined, not an error: a play that gathers no facts (show_config.yml) still
        # shows the sizes as their default(), and using one fails, naming what is missing.
        return AnsibleUndefined(hint=f"host_limit({name!r}) needs the fact {fact}: gather facts, "
                                     "or run djstack.stack.host_limits, first")
    return value


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"host_limit": host_limit}

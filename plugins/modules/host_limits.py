#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_limits
short_description: The CPUs and memory this host really gives its services
description:
  - Sets the fact C(djstack_host_limits) with the CPUs and memory a service on this host may use.
  - Ansible's own facts (C(processor_vcpus), C(memtotal_mb)) show the whole machine, also inside a
    container or a systemd slice with limits; sizing workers or a cache from them gets the service
    OOM-killed under load.
  - The tightest cgroup limit (v2 C(cpu.max) and C(memory.max), or v1 C(cpu.cfs_quota_us) and
    C(memory.limit_in_bytes)) from the module's own cgroup up to the root wins; a fractional CPU
    quota is rounded up. Without limits the machine's own numbers stand (the CPUs this process may
    run on, and C(MemTotal) of C(/proc/meminfo)).
  - Reads only; never changes anything.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options: {}
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  diff_mode:
    support: none
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
notes:
  - Linux only (it reads C(/proc) and C(/sys/fs/cgroup)).
"""

EXAMPLES = r"""
- name: Read the CPU and memory limits of the host
  djstack.stack.host_limits:

- name: Size the workers from them
  ansible.builtin.debug:
    msg: "{{ 2 * ansible_facts['djstack_host_limits']['vcpus'] + 1 }} workers"
"""

RETURN = r"""
ansible_facts:
  description: The facts this module sets.
  returned: always
  type: dict
  contains:
    djstack_host_limits:
      description: What this host gives its services.
      returned: always
      type: dict
      contains:
        vcpus:
          description: CPUs, at least 1; a cgroup CPU quota rounded up, if it is below the CPUs present.
          returned: always
          type: int
          sample: 2
        memory_mb:
          description: Memory in MB; the tightest cgroup memory limit, if it is below the machine's memory.
          returned: always
          type: int
          sample: 512
        memory_limited:
          description: Whether a cgroup limit, not the machine, set C(memory_mb).
          returned: always
          type: bool
          sample: true
        cpu_limited:
          description: Whether a cgroup quota, not the machine, set C(vcpus).
          returned: always
          type: bool
          sample: false
        source:
          description:
            - Where the numbers come from, V(machine) when no cgroup limit is tighter than the machine,
              else the cgroup version(s) whose limit won (V(cgroup v2), V(cgroup v1) or V(cgroup v2+v1)).
          returned: always
          type: str
          sample: cgroup v2
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.djstack.stack.plugins.module_utils.host_limits import host_limits


def main() -> None:
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    try:
        facts = host_limits()
    except (OSError, ValueError) as exc:
        module.fail_json(msg=f"Cannot read this host's CPU and memory limits ({exc}): "
                             "host_limits needs Linux's /proc/self/cgroup and /proc/meminfo.")
    module.exit_json(changed=False, ansible_facts={"djstack_host_limits": facts})


if __name__ == "__main__":
    main()

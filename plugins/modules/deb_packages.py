#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: deb_packages
short_description: Make sure Debian packages are installed, with a check mode that needs no python3-apt
description:
  - Asks C(dpkg-query) which of O(names) are not fully installed. When none are missing
    the module reports no change and runs no apt command at all.
  - In check mode it reports a change when any are missing and runs nothing else, so a
    C(--check --diff) run previews the install on a fresh minimal host that lacks
    C(python3-apt) (which M(ansible.builtin.apt) needs for its check mode).
  - Otherwise it refreshes the package lists when they are older than O(cache_valid_time)
    (or there are none), then runs C(apt-get install -y) for the missing packages with
    C(DEBIAN_FRONTEND=noninteractive) and the dpkg options M(ansible.builtin.apt) uses to
    keep existing configuration files (C(--force-confdef), C(--force-confold)).
  - While another process holds a dpkg or apt lock (unattended-upgrades often does at a
    fresh VM's first boot) it waits and retries for up to O(lock_timeout) seconds.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  names:
    description:
      - Debian package names, each optionally with an C(:arch) qualifier (C(libc6:amd64)).
      - Versions (C(name=1.2)), releases (C(name/bookworm)) and wildcards are refused.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) installs the missing packages; installed ones are never upgraded.
    type: str
    choices: [present]
    default: present
  update_cache:
    description:
      - Run C(apt-get update) before installing, when the package lists are older than
        O(cache_valid_time) or absent. Nothing is refreshed when nothing is missing.
    type: bool
    default: false
  cache_valid_time:
    description:
      - Age in seconds up to which the package lists count as fresh (with O(update_cache)).
      - The age is read where M(ansible.builtin.apt) reads it
        (C(/var/lib/apt/periodic/update-success-stamp), else C(/var/lib/apt/lists)).
      - V(0) refreshes them before every install.
    type: int
    default: 0
  install_recommends:
    description:
      - V(true) installs the packages' recommended packages too, V(false) does not.
      - Unset, apt's own configuration decides (Debian's default installs them), exactly
        as M(ansible.builtin.apt) without this option.
    type: bool
  lock_timeout:
    description:
      - Seconds each C(apt-get) call (update, install) waits for a dpkg or apt lock another
        process holds (apt-get's C(DPkg::Lock::Timeout), and retries every 5 seconds for
        the other locks) before the task fails with apt's message.
      - The default covers unattended-upgrades' first run on a fresh VM.
    type: int
    default: 300
attributes:
  check_mode:
    description: Reports which packages would be installed; runs only dpkg-query.
    support: full
  diff_mode:
    description: Lists the missing packages, not installed before and installed after.
    support: full
notes:
  - Only reads dpkg's database to decide, so it runs without C(python3-apt).
"""

EXAMPLES = r"""
- name: Install nginx and openssl
  djstack.stack.deb_packages:
    names:
      - nginx
      - openssl
    state: present
    update_cache: true
    cache_valid_time: 3600
  register: _nginx_packages

- name: Do this only where nginx is there (not in a check run on a fresh host)
  ansible.builtin.debug:
    msg: nginx is installed
  when: not (ansible_check_mode and _nginx_packages is changed)
"""

RETURN = r"""
missing:
  description: The packages that were not installed before the task, in the order given.
  returned: always
  type: list
  elements: str
  sample: [nginx]
installed:
  description: The packages the task installed (empty in check mode and when none were missing).
  returned: always
  type: list
  elements: str
  sample: [nginx]
cache_updated:
  description: Whether C(apt-get update) ran.
  returned: always
  type: bool
  sample: true
stdout:
  description: C(apt-get install)'s output (on a failure, the failing apt-get's).
  returned: when packages were installed or apt-get failed
  type: str
stderr:
  description: C(apt-get install)'s error output (on a failure, the failing apt-get's).
  returned: when packages were installed or apt-get failed
  type: str
diff:
  description:
    - "The missing packages as text lines: C(name: not installed) before, C(name: installed) after."
  returned: when diff mode is on
  type: dict
  sample:
    before: "nginx: not installed\n"
    after: "nginx: installed\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.deb_packages import (
    DebPackagesError,
    Runner,
    ensure_present,
)


def _runner(module: AnsibleModule) -> Runner:
    def run(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        return module.run_command(argv, environ_update=env)

    return run


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            state=dict(type="str", choices=["present"], default="present"),
            update_cache=dict(type="bool", default=False),
            cache_valid_time=dict(type="int", default=0),
            install_recommends=dict(type="bool"),
            lock_timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    params = module.params
    run = _runner(module)
    try:
        outcome = ensure_present(
            params["names"],
            query=run,
            apt=run,
            check_mode=module.check_mode,
            update_cache=params["update_cache"],
            cache_valid_time=params["cache_valid_time"],
            install_recommends=params["install_recommends"],
            lock_timeout=params["lock_timeout"],
        )
    except DebPackagesError as exc:
        failure = dict(msg=str(exc))
        if exc.stdout or exc.stderr:
            failure.update(stdout=exc.stdout, stderr=exc.stderr)
        module.fail_json(**failure)

    result = dict(
        changed=outcome.changed,
        missing=outcome.missing,
        installed=outcome.installed,
        cache_updated=outcome.cache_updated,
    )
    if outcome.installed:
        result.update(stdout=outcome.stdout, stderr=outcome.stderr)
    if module._diff:
        result["diff"] = outcome.diff()
    module.exit_json(**result)


if __name__ == "__main__":
    main()

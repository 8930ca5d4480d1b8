#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: nft_table
short_description: Keep one live nftables table as a ruleset file loads it
description:
  - Compares the table O(family) O(table) the kernel holds now with the one O(path) loads,
    and loads O(path) (C(nft -f)) when the table is missing or differs.
  - For a firewall changed on the live host (C(nft flush ruleset), a rule added or deleted
    by hand), which leaves the file as it was, so a template task alone neither reports
    nor repairs it.
  - What O(path) loads is learnt by loading it into a throwaway, empty network namespace
    (C(unshare --net)) and listing the table there with the same nft, so both sides are
    nft's canonical listing. Rule handles are not compared, and counters are compared
    without their values.
  - Only that one table is compared; tables of other tools (Docker's, for one) in the live
    ruleset are ignored. O(path) must replace the table whole, as the role's file does
    (C(table inet djstack_filter) then C(delete table inet djstack_filter) then the table),
    or a load would add its rules to the live ones; the module fails when a load leaves
    the table differing from the file's.
  - Where no network namespace can be created (no C(CAP_SYS_ADMIN), as in an unprivileged
    container), the module warns and only detects a missing table or a missing chain
    that O(path) declares; a changed rule then goes unnoticed.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
requirements:
  - nftables (the C(nft) binary)
  - util-linux's C(unshare) and C(CAP_SYS_ADMIN) (root) for the full comparison
notes:
  - O(path) is loaded in a namespace whose only interface is C(lo), so rules that match
    another interface by index (C(iif "eth0")) do not load there; match by name
    (C(iifname "eth0")) instead.
  - State kept in the table itself (quotas' usage, set elements added by rules) counts as
    a difference.
options:
  path:
    description: The ruleset file, as C(nft -f) reads it.
    type: path
    default: /etc/nftables.conf
  family:
    description: The table's address family.
    type: str
    choices: [ip, ip6, inet, arp, bridge, netdev]
    default: inet
  table:
    description: The table's name, as O(path) declares it.
    type: str
    required: true
  nft:
    description: The nft binary.
    type: path
    default: /usr/sbin/nft
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Reports a missing or differing table and loads nothing into the live ruleset.
  diff_mode:
    support: full
    details:
      - The live table's listing before and the file's after, counters without their values.
      - Without a network namespace, the file's text stands for the after side when the
        table or a chain is missing.
"""

EXAMPLES = r"""
- name: Write the nftables ruleset
  ansible.builtin.template:
    src: etc/nftables.conf.j2
    dest: /etc/nftables.conf
    mode: "0644"
    validate: /usr/sbin/nft --check --file %s

# After the template, so an edited file is what gets compared and loaded.
- name: Keep the live firewall table as the ruleset file loads it
  djstack.stack.nft_table:
    path: /etc/nftables.conf
    table: djstack_filter
"""

RETURN = r"""
live_present:
  description: Whether the live ruleset held the table before the module ran.
  returned: always
  type: bool
  sample: true
compared:
  description:
    - V(listing) when the live table was compared with the file's listing in a throwaway
      network namespace; V(chains) when none could be created and only the table's and its
      chains' presence were checked.
  returned: always
  type: str
  sample: listing
"""

import os
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.djstack.stack.plugins.module_utils.nft_table import (
    NETNS_LISTER,
    NETNS_LOAD_FAILED,
    NETNS_NO_TABLE,
    displayed,
    has_table,
    missing_chains,
    normalised,
)


def _live_listing(module: AnsibleModule, nft: str, family: str, table: str) -> str | None:
    """The live table's listing, None when the live ruleset has no such table."""
    rc, out, err = module.run_command([nft, "list", "tables", family])
    if rc != 0:
        module.fail_json(msg=f"`{nft} list tables {family}` failed (rc {rc}): {err.strip()}; "
                             "listing the ruleset needs root (become: true)")
    if not has_table(out, family, table):
        return None
    rc, out, err = module.run_command([nft, "list", "table", family, table])
    if rc != 0:
        module.fail_json(msg=f"`{nft} list table {family} {table}` failed (rc {rc}): {err.strip()}")
    return out


def _desired_listing(module: AnsibleModule, nft: str, path: str, family: str, table: str) -> str | None:
    """The table as `path` loads it into an empty network namespace; None (after a
    warning) when this host cannot create one."""
    unshare = module.get_bin_path("unshare")
    if unshare is None:
        module.warn("unshare (util-linux) is not installed: the live table is only checked for "
                    f"its presence and the chains {path} declares, not compared rule by rule")
        return None
    # The module's own interpreter: it is there on every managed host, and runs both nft
    # commands without a shell (see NETNS_LISTER).
    rc, out, err = module.run_command([unshare, "--net", "--", sys.executable, "-c", NETNS_LISTER,
                                       nft, path, family, table], expand_user_and_vars=False)
    if rc == 0:
        return out
    if rc == NETNS_LOAD_FAILED:
        # The namespace has lo only: an index lookup (iif/oif) of any other interface fails
        # there even when the host has that interface.
        hint = (" A rule there matches an interface other than lo by index: match it by name "
                "(iifname/oifname) instead." if "Interface does not exist" in err else "")
        module.fail_json(msg=f"{path} does not load (`nft -f {path}` in an empty network namespace): "
                             f"fix the file.{hint} nft said:\n{err.strip()}")
    if rc == NETNS_NO_TABLE:
        module.fail_json(msg=f"{path} loads but creates no table {family} {table} ({err.strip()}): "
                             "set family and table to the table the file declares")
    if "unshare" in err:
        module.warn(f"cannot create a network namespace to list what {path} loads ({err.strip()}): "
                    f"the live table is only checked for its presence and the chains {path} declares, "
                    "not compared rule by rule. Run as root outside an unprivileged container for the "
                    "full comparison")
        return None
    module.fail_json(msg=f"listing what {path} loads in a throwaway network namespace failed (rc {rc}): "
                         f"{err.strip()}")
    return None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/etc/nftables.conf"},
            "family": {"type": "str", "choices": ["ip", "ip6", "inet", "arp", "bridge", "netdev"],
                       "default": "inet"},
            "table": {"type": "str", "required": True},
            "nft": {"type": "path", "default": "/usr/sbin/nft"},
        },
        supports_check_mode=True,
    )
    params = module.params
    path, family, table, nft = params["path"], params["family"], params["table"], params["nft"]
    if not os.access(nft, os.X_OK):
        module.fail_json(msg=f"{nft} is not an executable: install nftables, or set nft to its path")
    try:
        with open(path, encoding="utf-8") as handle:
            ruleset = handle.read()
    except OSError as exc:
        module.fail_json(msg=f"cannot read the ruleset file {path}: {exc.strerror}")

    live = _live_listing(module, nft, family, table)
    desired = _desired_listing(module, nft, path, family, table)
    before = displayed(live) if live is not None else ""
    if desired is not None:
        after = displayed(desired)
        changed = live is None or normalised(live) != normalised(desired)
    else:
        changed = live is None or bool(missing_chains(ruleset, live))
        # No listing to show: what will be loaded is the file itself.
        after = ruleset if changed else before
    result: dict[str, object] = {"changed": changed, "live_present": live is not None,
                                 "compared": "chains" if desired is None else "listing"}
    if module._diff:
        result["diff"] = {"before_header": f"nft list table {family} {table}", "before": before,
                          "after_header": path, "after": after}

    if changed and not module.check_mode:
        rc, _out, err = module.run_command([nft, "-f", path])
        if rc != 0:
            module.fail_json(msg=f"`{nft} -f {path}` failed (rc {rc}), the live ruleset is as it was: "
                                 f"{err.strip()}", **result)
        reloaded = _live_listing(module, nft, family, table)
        if reloaded is None:
            module.fail_json(msg=f"`{nft} -f {path}` left no table {family} {table} in the live ruleset: "
                                 "does the file delete it after creating it?", **result)
        if desired is not None and normalised(reloaded) != normalised(desired):
            # The file added to the live table instead of replacing it: the next run would
            # load it again, and again.
            module.fail_json(msg=f"after `{nft} -f {path}` the live table {family} {table} still differs "
                                 f"from what the file loads into an empty ruleset: {path} must replace "
                                 f"the table whole (`table {family} {table}` then `delete table {family} "
                                 f"{table}` before the table's definition)", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

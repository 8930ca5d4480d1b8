# Copyright: djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: site_hosts
author: djstack maintainers (@djstack)
version_added: 0.1.0
short_description: The hosts of an inventory group that serve the same site as this host
description:
  - Returns, in inventory order, the hosts of each named group whose C(site_domain) (as the
    lookup C(djstack.stack.site) resolves it for that host) is the current host's.
  - One inventory may hold several sites (each host its own C(site_domain)); the app hosts
    of one site share its database, and its C(db) host is the one with its domain.
options:
  _terms:
    description: Inventory group names (C(app), C(db), ...); a group the inventory lacks has no hosts.
    required: true
    type: list
    elements: str
  setting:
    description:
      - Return this stack-wide setting of each host (C(private_address), ...), as the lookup
        C(djstack.stack.site) resolves it for that host, instead of its name.
    type: str
  others:
    description: Leave the current host out.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Show the app hosts of this site
  ansible.builtin.debug:
    msg: "{{ query('djstack.stack.site_hosts', 'app') }}"
- name: Show the private addresses of this site's other web hosts
  ansible.builtin.debug:
    msg: "{{ query('djstack.stack.site_hosts', 'web', setting='private_address', others=true) }}"
"""

RETURN = r"""
_raw:
  description: Inventory host names (or their O(setting)), the groups' in the order given.
  type: list
  elements: raw
"""

from typing import Any

from ansible.plugins.loader import lookup_loader
from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms: list[str], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        setting = self.get_option("setting")
        site = lookup_loader.get("djstack.stack.site", loader=self._loader, templar=self._templar)
        mine = site.run(["domain"], variables)[0]
        me = variables.get("inventory_hostname")
        groups = variables.get("groups", {})
        found: list[str] = []
        for group in terms:
            for host in groups.get(str(group), []):
                if host in found or (self.get_option("others") and host == me):
                    continue
                if site.run(["domain"], variables, host=host)[0] == mine:
                    found.append(host)
        if setting:
            return [site.run([setting], variables, host=host)[0] for host in found]
        return found

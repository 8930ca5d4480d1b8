# Copyright: djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: site
author: djstack maintainers (@djstack)
version_added: 0.1.0
short_description: A stack-wide setting (site_*) that every role's defaults derive from
description:
  - Returns the variable C(site_<term>) when the inventory, the play or extra vars set it,
    else the collection's default for it, from the collection's C(group_vars/all.yml).
  - The roles' defaults read the stack-wide settings through this lookup, so the roles fit
    together however a playbook calls them (the collection's C(site) playbook or a user's
    own play listing the roles) and an inventory's C(group_vars/all) sets them like any
    other variable.
  - A default may refer to other stack-wide settings (C(site_app_root) derives from
    C(site_app_name)); those resolve the same way, so setting C(site_app_name) moves every
    path that derives from it.
options:
  _terms:
    description: Names of stack-wide settings, without the C(site_) prefix (C(app_name), C(domain), ...).
    required: true
    type: list
    elements: str
  host:
    description:
      - Resolve the settings as they are for this inventory host (its variables, then the
        defaults) instead of the current one, e.g. to find the hosts that serve the same site.
    type: str
notes:
  - An unknown name fails, listing the known ones.
"""

EXAMPLES = r"""
- name: Show where the app lives
  ansible.builtin.debug:
    msg: "{{ lookup('djstack.stack.site', 'app_root') }}"

# In a role's defaults/main.yml:
# gunicorn_socket_path: "{{ lookup('djstack.stack.site', 'gunicorn_socket') }}"

- name: Show the domain another host serves
  ansible.builtin.debug:
    msg: "{{ lookup('djstack.stack.site', 'domain', host=groups['app'][0]) }}"
"""

RETURN = r"""
_raw:
  description: The setting's value, one per term (a string, a number or a list, as the setting is).
  type: list
  elements: raw
"""

from collections import ChainMap
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.template import trust_as_template

# The collection's single list of stack-wide settings and their defaults.
DEFAULTS_FILE = Path(__file__).resolve().parents[2] / "group_vars" / "all.yml"
PREFIX = "site_"


@lru_cache(maxsize=1)
def site_defaults(path: Path = DEFAULTS_FILE) -> dict[str, Any]:
    """The site_* entries of the defaults file: nothing else belongs there."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {key: value for key, value in data.items() if key.startswith(PREFIX)}


def _trusted(value: Any) -> Any:
    # The file is the collection's own code: its Jinja is meant to be rendered.
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


class LookupModule(LookupBase):
    def run(self, terms: list[str], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[Any]:
        variables = variables or {}
        self.set_options(var_options=variables, direct=kwargs)
        host = self.get_option("host")
        if host:
            hostvars = variables.get("hostvars", {})
            if host not in hostvars:
                raise AnsibleLookupError(f"host={host!r} is not a host of the inventory.")
            # The host's own variables untemplated, as its own tasks would see them: they
            # are templated below with the same scope.
            variables = dict(hostvars.raw_get(host))
        defaults = {key: _trusted(value) for key, value in site_defaults().items()}
        # What the play sets wins; the defaults only fill in what it does not.
        scope = ChainMap(variables, defaults)
        templar = self._templar.copy_with_new_env(available_variables=scope)
        values = []
        for term in terms:
            name = PREFIX + str(term)
            if name not in scope:
                known = ", ".join(sorted(key[len(PREFIX):] for key in defaults))
                raise AnsibleLookupError(f"{term!r} is not a stack-wide setting (site_*); known: {known}.")
            values.append(templar.template(scope[name]))
        return values

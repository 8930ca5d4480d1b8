# Copyright: djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: python_requirement
author: djstack maintainers (@djstack)
version_added: 0.1.0
short_description: What rules out a host's Python for a project on the controller
description:
  - Reads the project at the term's path on the controller (a local source, before it is
    packed) and returns one message per declaration the given Python does not satisfy
    (none when it runs the project).
  - Declarations read are C(requires-python) in the project's C(pyproject.toml) and the
    Django releases its requirements file (and the files it includes) allows, against the
    oldest Python each Django feature release supports.
  - Each message names the declaration, both versions and what to change.
options:
  _terms:
    description: The project's root directory on the controller.
    required: true
    type: list
    elements: path
  requirements:
    description: The requirements file, relative to the root; empty for none.
    type: str
    default: ""
  python:
    description: The host's interpreter path, for the messages.
    type: str
    required: true
  python_version:
    description: The interpreter's version, like V(3.11.2).
    type: str
    required: true
notes:
  - Use it with C(query), which always returns a list.
"""

EXAMPLES = r"""
- name: Fail when the host's Python cannot run the project
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: "{{ query('djstack.stack.python_requirement', '/src/mysite', requirements='requirements.txt',
                        python='/usr/bin/python3', python_version='3.11.2') }}"
"""

RETURN = r"""
_raw:
  description: One message per unmet declaration; empty when the Python runs the project.
  type: list
  elements: str
"""

from pathlib import Path
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.djstack.stack.plugins.module_utils.python_requirement import (
    parse_version,
    python_problems,
)


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[str]:
        self.set_options(var_options=variables, direct=kwargs)
        problems: list[str] = []
        try:
            version = parse_version(self.get_option("python_version"))
            for term in terms:
                problems += python_problems(Path(term), self.get_option("requirements"),
                                            self.get_option("python"), version)
        except (OSError, ValueError) as exc:
            raise AnsibleLookupError(f"cannot tell which Python the project needs: {exc}") from exc
        return problems

# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for addresses a service is told to listen on."""

from __future__ import annotations

import ipaddress

DOCUMENTATION = r"""
name: listen_address_problem
short_description: Why an address is not a safe listen address, or an empty string
version_added: 0.1.0
author: djstack maintainers (@djstack)
description:
  - Parses the address as IPv4 or IPv6 (Python's C(ipaddress)), so every spelling of the
    same address is judged alike (C(::0), C(0:0:0:0:0:0:0:0) and C(::) are one address).
  - An unparsable address (a host name, C(0.0.0.00) with its leading zero, a typo) is a
    problem, and so is an unspecified (wildcard) address, which listens on every interface.
options:
  _input:
    description: The address, without brackets or port.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse wildcard and malformed listen addresses
  ansible.builtin.assert:
    that: addresses | map('djstack.stack.listen_address_problem') | select | list | length == 0
"""

RETURN = r"""
_value:
  description: Empty when the address is a specific IP address; else the reason, naming the address.
  type: str
"""


def listen_address_problem(address: object) -> str:
    text = str(address).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return f"{address!r} is not an IP address"
    if parsed.is_unspecified:
        return f"{address!r} is the wildcard address {parsed}: it listens on every interface"
    return ""


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"listen_address_problem": listen_address_problem}

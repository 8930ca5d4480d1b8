# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the sources a firewall rule admits."""

from __future__ import annotations

import ipaddress

DOCUMENTATION = r"""
name: source_network_problem
short_description: Why a firewall source is not a specific address or network, or an empty string
version_added: 0.1.0
author: djstack maintainers (@djstack)
description:
  - Parses the source as an IPv4 or IPv6 address or a network in CIDR form (Python's
    C(ipaddress), strict), so C(10.0.0.5/24), whose host bits are set, is refused instead
    of silently widened to C(10.0.0.0/24).
  - A network of every address (C(0.0.0.0/0), C(::/0)) is a problem too; a port open to
    all belongs in C(base_firewall_allowed_tcp_ports).
options:
  _input:
    description: The source, an address or a CIDR.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Refuse malformed and catch-all sources
  ansible.builtin.assert:
    that: sources | map('djstack.stack.source_network_problem') | select | list | length == 0
"""

RETURN = r"""
_value:
  description: Empty when the source is a specific address or network; else the reason, naming it.
  type: str
"""


def source_network_problem(network: object) -> str:
    text = str(network).strip()
    try:
        parsed = ipaddress.ip_network(text, strict=True)
    except ValueError as error:
        return f"{network!r} is not an IP address or a CIDR network ({error})"
    if parsed.prefixlen == 0:
        return f"{network!r} is every address: open the port to all with base_firewall_allowed_tcp_ports"
    return ""


class FilterModule:
    def filters(self) -> dict[str, object]:
        return {"source_network_problem": source_network_problem}

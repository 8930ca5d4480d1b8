"""Ports open to chosen sources only (base_firewall_source_rules): the filter that judges a
source, and the base role's own check, run for real, which refuses a bad rule before any
change, naming the variable and the source."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible_collections.djstack.stack.plugins.filter.source_network import source_network_problem

from tests.playbook import run_playbook

GOOD = ["10.0.0.5", "10.0.0.0/24", "192.0.2.2/32", "fd00::/64", "2001:db8::7"]


@pytest.mark.parametrize("source", GOOD)
def test_specific_sources_pass(source: str) -> None:
    assert source_network_problem(source) == ""


@pytest.mark.parametrize("source", ["lb1.example.com", "10.0.0.256", "10.0.0.0/33", ""])
def test_malformed_sources_are_refused(source: str) -> None:
    assert "is not an IP address or a CIDR network" in source_network_problem(source)


def test_a_network_with_host_bits_is_refused_not_widened() -> None:
    assert "has host bits set" in source_network_problem("10.0.0.5/24")


@pytest.mark.parametrize("source", ["0.0.0.0/0", "::/0"])
def test_every_address_is_refused_pointing_at_the_open_ports(source: str) -> None:
    assert "base_firewall_allowed_tcp_ports" in source_network_problem(source)


def _check(tmp_path: Path, rules: list[dict[str, object]]) -> subprocess.CompletedProcess[str]:
    """The base role with a tag no task has: only its checks run (tagged always), nothing changes."""
    playbook = tmp_path / "check.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        "  roles:\n    - djstack.stack.base\n")
    return run_playbook(str(playbook), "--tags", "djstack_no_such_tag",
                        "-e", json.dumps({"base_firewall_source_rules": rules, "base_firewall_enabled": False}))


def test_the_role_refuses_a_bad_source_naming_it(tmp_path: Path) -> None:
    run = _check(tmp_path, [{"port": 8000, "sources": ["10.0.0.2", "10.0.0.5/24"]}])
    assert run.returncode != 0
    assert "base_firewall_source_rules" in run.stdout
    assert "'10.0.0.5/24'" in run.stdout


def test_the_role_refuses_a_rule_without_sources(tmp_path: Path) -> None:
    run = _check(tmp_path, [{"port": 8000, "sources": []}])
    assert run.returncode != 0
    assert "base_firewall_source_rules" in run.stdout


def test_the_role_refuses_a_port_out_of_range(tmp_path: Path) -> None:
    run = _check(tmp_path, [{"port": 70000, "sources": ["10.0.0.2"]}])
    assert run.returncode != 0
    assert "base_firewall_source_rules" in run.stdout


def test_the_role_refuses_a_rule_without_a_port_before_its_tasks(tmp_path: Path) -> None:
    run = _check(tmp_path, [{"sources": ["10.0.0.2"]}])
    assert run.returncode != 0
    assert "base_firewall_source_rules" in run.stdout and "port" in run.stdout


def test_the_role_accepts_specific_sources(tmp_path: Path) -> None:
    run = _check(tmp_path, [{"port": 8000, "sources": GOOD}])
    assert run.returncode == 0, run.stdout + run.stderr

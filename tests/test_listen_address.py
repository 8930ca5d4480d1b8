"""memcached refuses every spelling of a wildcard or malformed TCP listen address:
the filter on its own, and the role's own preflight (tasks_from: validate) run for real."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ansible_collections.djstack.stack.plugins.filter.listen_address import listen_address_problem

from tests.playbook import run_playbook

WILDCARDS = ["0.0.0.0", "::", "[::]", "::0", "0:0:0:0:0:0:0:0", "0000::0000"]
MALFORMED = ["0.0.0.00", "127.0.0.01", "localhost", "10.0.0.256", "1.2.3", ""]
SPECIFIC = ["127.0.0.1", "10.0.0.5", "::1", "[::1]", "fd00::5"]


@pytest.mark.parametrize("address", WILDCARDS)
def test_wildcards_are_refused_whatever_their_spelling(address: str) -> None:
    assert "wildcard" in listen_address_problem(address)


@pytest.mark.parametrize("address", MALFORMED)
def test_malformed_addresses_are_refused(address: str) -> None:
    assert "is not an IP address" in listen_address_problem(address)


@pytest.mark.parametrize("address", SPECIFIC)
def test_specific_addresses_pass(address: str) -> None:
    assert listen_address_problem(address) == ""


def _validate(tmp_path: Path, addresses: list[str]) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "validate.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role:\n        name: djstack.stack.memcached\n        tasks_from: validate\n")
    extra = {"memcached_listen_mode": "tcp", "memcached_listen_addresses": addresses,
             "memcached_memory_mb": 64, "memcached_max_connections": 256, "memcached_threads": 1}
    return run_playbook(str(playbook), "-e", json.dumps(extra))


@pytest.mark.parametrize("address", ["::0", "0:0:0:0:0:0:0:0", "0.0.0.00"])
def test_role_preflight_refuses_the_address_naming_it(tmp_path: Path, address: str) -> None:
    run = _validate(tmp_path, ["127.0.0.1", address])
    assert run.returncode != 0
    assert "memcached_listen_addresses" in run.stdout
    assert f"'{address}'" in run.stdout


def test_role_preflight_accepts_specific_addresses(tmp_path: Path) -> None:
    run = _validate(tmp_path, ["127.0.0.1", "::1"])
    assert run.returncode == 0, run.stdout + run.stderr

"""The bench host never clashes with `make demo` or Molecule, and `make bench` stays out of `make test`."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from bench import host, side
from tools import demo
from tools import host as host_tools

ROOT = Path(__file__).resolve().parent.parent


def test_own_container_and_ports():
    assert host.HOST.container != demo.CONTAINER
    # Molecule's containers are djstack-<scenario>-<distro>; no scenario is called "bench".
    assert not (ROOT / "molecule" / "bench").exists()
    outside = {port for port, _ in host.HOST.ports.values()}
    assert not outside & {port for port, _ in demo.PORTS.values()}
    assert host.HOST.state != demo.STATE


def test_vm_sized_limits():
    args = list(host.HOST.docker_args)
    assert args[args.index("--memory") + 1] == "512m"
    assert args[args.index("--cpus") + 1] == "1"


def test_inventory_reaches_the_bench_host_only():
    inventory = yaml.safe_load(host.inventory_text())
    bench = inventory["all"]["children"]["local"]["hosts"]["bench"]
    assert bench["ansible_port"] == host.HOST.ports["ssh"][0]
    assert bench["ansible_host"] == "127.0.0.1"
    assert str(host.HOST.known_hosts) in bench["ansible_ssh_common_args"]
    for tier in ("web", "app", "cache"):
        assert list(inventory["all"]["children"][tier]["hosts"]) == ["bench"]


def test_bench_vars_are_the_documented_overrides():
    assert yaml.safe_load(host.vars_text()) == {
        "site_domain": "localhost", "django_app_env": {"DJANGO_CACHE_BYPASS_ALLOWED": True},
        "nginx_rate_limit_enabled": False}
    # Each override says why, in the inventory and in results.md.
    assert host.vars_text().count("\n# ") == len(host.OVERRIDES) + 1


def test_side_servers_listen_on_loopback_apart_from_the_stack():
    ports = [side.CEILING_HTTPS_PORT, side.CEILING_HTTP_PORT, side.TLS_CONTROL_PORT, side.GUNICORN_PORT,
             side.RUNSERVER_PORT]
    assert len(set(ports)) == len(ports) and not set(ports) & {22, 80, 443}
    assert all(f"listen 127.0.0.1:{p}" in side.CEILING_CONF for p in ports[:3])


def test_missing_tools_are_named_by_package():
    bench_tools = ["wrk", "openssl", "curl", "nsenter"]

    def which(command: str) -> str | None:
        return None if command == "nsenter" else "/usr/bin/" + command

    assert host_tools.missing_packages(bench_tools, which) == ["util-linux"]


def test_make_bench_is_separate_from_make_test():
    makefile = (ROOT / "Makefile").read_text()
    test_rules = re.findall(r"^test:.*$", makefile, re.M)
    assert test_rules and not any("bench" in rule for rule in test_rules)
    dry = subprocess.run(["make", "-n", "bench"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "-m bench run" in dry
    assert "-m tools.host tools wrk openssl curl nsenter" in dry
    assert "bench/requirements.txt" in dry or (ROOT / ".cache/bench/venv/.installed").exists()

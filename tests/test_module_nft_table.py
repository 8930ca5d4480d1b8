"""djstack.stack.nft_table: a live table that no longer matches what the ruleset file loads
(flushed, a rule added or deleted by hand) is reported in check mode and repaired by a run;
other tools' tables are left alone; a file that does not load fails with nft's message.

Every test runs nft and the module in a network namespace of its own, so the build
machine's firewall is never read or touched."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.djstack.stack.plugins.module_utils import nft_table as nt
from tests import modrun
from tests.modrun import run_module
from tools.host import ensure_tools

NFT = "/usr/sbin/nft"
# roles/base/templates/etc/nftables.conf.j2 rendered with the role's defaults plus 80 and 443.
RULESET = """\
# Ansible managed
table inet djstack_filter
delete table inet djstack_filter

table inet djstack_filter {
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        ct state invalid drop
        iif "lo" accept
        meta l4proto icmp accept
        meta l4proto ipv6-icmp accept
        tcp dport { 22 } accept
        tcp dport { 80, 443 } accept
    }
}
"""
# nft's listing of RULESET's table, as the live kernel gives it back.
LISTING = """\
table inet djstack_filter {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tct state established,related accept
\t\tct state invalid drop
\t\tiif "lo" accept
\t\tmeta l4proto icmp accept
\t\tmeta l4proto ipv6-icmp accept
\t\ttcp dport 22 accept
\t\ttcp dport { 80, 443 } accept
\t}
}
"""


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    # make unit installs them too; a missing nft is a failure, never a skip.
    if ensure_tools(["nft", "nsenter"]) != 0 or not os.access(NFT, os.X_OK):
        pytest.fail(f"nft ({NFT}, Debian's nftables) and nsenter (util-linux) are needed: "
                    "apt-get install nftables util-linux, or run make unit as root on Debian")


class Netns:
    """A network namespace kept alive by a sleeping process, entered with nsenter."""

    def __init__(self, holder: subprocess.Popen[bytes]) -> None:
        self.holder = holder
        self.path = f"/proc/{holder.pid}/ns/net"

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["nsenter", f"--net={self.path}", "--", *argv],
                              capture_output=True, text=True, check=check)

    def nft(self, *args: str) -> str:
        return self.run(NFT, *args).stdout


@pytest.fixture
def netns() -> Iterator[Netns]:
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"])
    try:
        host = os.readlink("/proc/self/ns/net")
        # unshare execs sleep in place, once the namespace is made: until then the
        # holder's namespace is still the host's, which no test may touch.
        for _ in range(500):
            if holder.poll() is not None:
                pytest.fail(f"unshare --net failed (rc {holder.returncode}): the tests need root")
            if os.readlink(f"/proc/{holder.pid}/ns/net") != host:
                break
            subprocess.run(["sleep", "0.01"], check=True)
        else:
            pytest.fail("unshare --net made no network namespace within 5 s")
        yield Netns(holder)
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture
def ruleset(tmp_path: Path) -> Path:
    path = tmp_path / "nftables.conf"
    path.write_text(RULESET)
    return path


def _run(netns: Netns, path: Path, tmp_path: Path, *,
         check: bool = False, diff: bool = False, drop_sys_admin: bool = False, **extra: Any) -> dict[str, Any]:
    """run_module's result, the module running in `netns` (as root, or as root without
    CAP_SYS_ADMIN, as in an unprivileged container, with `drop_sys_admin`)."""
    prefix = ["nsenter", f"--net={netns.path}", "--"]
    if drop_sys_admin:
        prefix += ["setpriv", "--bounding-set=-sys_admin", "--"]
    # run_module starts sys.executable: a wrapper that starts it inside the namespace.
    wrapper = tmp_path / "python-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec {" ".join(prefix)} {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modrun.sys, "executable", str(wrapper))
        return run_module("nft_table", {"path": str(path), "table": "djstack_filter", **extra}, tmp_path,
                          check=check, diff=diff)


def _input_rule_handle(netns: Netns, rule: str) -> str:
    listing = netns.nft("-a", "list", "chain", "inet", "djstack_filter", "input")
    match = re.search(rf"^\s*{re.escape(rule)} # handle (\d+)$", listing, re.M)
    assert match, listing
    return match.group(1)


def test_check_mode_on_an_empty_ruleset_reports_the_file_s_table_and_loads_nothing(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    result = _run(netns, ruleset, tmp_path, check=True, diff=True)
    assert (result["rc"], result["changed"], result["live_present"], result["compared"]) == (0, True, False, "listing")
    assert result["diff"] == {"before_header": "nft list table inet djstack_filter", "before": "",
                              "after_header": str(ruleset), "after": LISTING}
    assert netns.nft("list", "ruleset") == ""


def test_a_run_loads_the_table_and_a_second_run_changes_nothing(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    first = _run(netns, ruleset, tmp_path)
    assert (first["rc"], first["changed"], first["live_present"]) == (0, True, False), first
    assert netns.nft("list", "table", "inet", "djstack_filter") == LISTING
    second = _run(netns, ruleset, tmp_path, diff=True)
    assert (second["rc"], second["changed"], second["live_present"]) == (0, False, True), second
    assert second["diff"]["before"] == second["diff"]["after"] == LISTING


def test_a_flushed_ruleset_is_detected_and_repaired(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    netns.nft("-f", str(ruleset))
    netns.nft("flush", "ruleset")
    check = _run(netns, ruleset, tmp_path, check=True)
    assert (check["changed"], check["live_present"]) == (True, False)
    assert netns.nft("list", "ruleset") == ""
    repaired = _run(netns, ruleset, tmp_path)
    assert (repaired["rc"], repaired["changed"]) == (0, True), repaired
    assert netns.nft("list", "table", "inet", "djstack_filter") == LISTING


def test_a_rule_added_by_hand_is_detected_and_removed(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    netns.nft("-f", str(ruleset))
    netns.nft("add", "rule", "inet", "djstack_filter", "input", "tcp", "dport", "9999", "accept")
    check = _run(netns, ruleset, tmp_path, check=True, diff=True)
    assert (check["changed"], check["live_present"]) == (True, True)
    assert "tcp dport 9999 accept" in check["diff"]["before"]
    assert check["diff"]["after"] == LISTING
    assert "9999" in netns.nft("list", "ruleset")
    repaired = _run(netns, ruleset, tmp_path)
    assert (repaired["rc"], repaired["changed"]) == (0, True), repaired
    assert netns.nft("list", "table", "inet", "djstack_filter") == LISTING


def test_a_rule_deleted_by_hand_is_detected_and_restored(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    netns.nft("-f", str(ruleset))
    handle = _input_rule_handle(netns, "tcp dport { 80, 443 } accept")
    netns.nft("delete", "rule", "inet", "djstack_filter", "input", "handle", handle)
    result = _run(netns, ruleset, tmp_path, diff=True)
    assert (result["rc"], result["changed"]) == (0, True), result
    assert "80, 443" not in result["diff"]["before"]
    assert netns.nft("list", "table", "inet", "djstack_filter") == LISTING


def test_another_tool_s_table_is_ignored(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    netns.nft("-f", str(ruleset))
    netns.nft("add", "table", "ip", "docker_like")
    netns.nft("add", "chain", "ip", "docker_like", "FORWARD", "{ type filter hook forward priority 0; }")
    netns.nft("add", "rule", "ip", "docker_like", "FORWARD", "counter", "accept")
    result = _run(netns, ruleset, tmp_path)
    assert (result["rc"], result["changed"]) == (0, False), result
    assert "table ip docker_like" in netns.nft("list", "tables")


def test_a_file_that_does_not_load_fails_with_nft_s_message_and_loads_nothing(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    ruleset.write_text(RULESET.replace("tcp dport { 22 } accept", "tcp dport { 22 } acept"))
    result = _run(netns, ruleset, tmp_path)
    assert (result["rc"], result.get("failed")) == (1, True), result
    assert result["msg"].startswith(f"{ruleset} does not load (`nft -f {ruleset}` in an empty network namespace): "
                                    f"fix the file. nft said:\n{ruleset}:13:31-31: Error: syntax error")
    assert "tcp dport { 22 } acept" in result["msg"]
    assert netns.nft("list", "ruleset") == ""


def test_an_interface_matched_by_index_fails_saying_to_match_it_by_name(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    ruleset.write_text(RULESET.replace('iif "lo" accept', 'iif "lo" accept\n        iif "eth0" tcp dport 8080 accept'))
    result = _run(netns, ruleset, tmp_path)
    assert result["rc"] == 1, result
    assert "match it by name (iifname/oifname) instead. nft said:" in result["msg"]
    assert "Error: Interface does not exist" in result["msg"]


def test_a_file_of_another_table_fails_naming_the_table(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    result = _run(netns, ruleset, tmp_path, table="other_filter")
    assert result["rc"] == 1, result
    assert result["msg"].startswith(f"{ruleset} loads but creates no table inet other_filter ")
    assert netns.nft("list", "ruleset") == ""


def test_a_file_that_adds_to_the_table_instead_of_replacing_it_fails(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    netns.nft("-f", str(ruleset))
    netns.nft("add", "rule", "inet", "djstack_filter", "input", "tcp", "dport", "9999", "accept")
    ruleset.write_text(RULESET.replace("delete table inet djstack_filter\n", ""))
    result = _run(netns, ruleset, tmp_path)
    assert result["rc"] == 1, result
    assert "must replace the table whole" in result["msg"]


def test_without_cap_sys_admin_a_missing_table_is_still_loaded(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    result = _run(netns, ruleset, tmp_path, drop_sys_admin=True, diff=True)
    assert (result["rc"], result["changed"], result["compared"]) == (0, True, "chains"), result
    # ansible-core 2.19 returns each warning as an event: its text is in there somewhere.
    assert "cannot create a network namespace" in str(result["warnings"]), result["warnings"]
    assert result["diff"]["after"] == RULESET
    assert netns.nft("list", "table", "inet", "djstack_filter") == LISTING


def test_without_cap_sys_admin_a_missing_chain_is_detected_but_a_changed_rule_is_not(
        netns: Netns, ruleset: Path, tmp_path: Path) -> None:
    netns.nft("-f", str(ruleset))
    netns.nft("add", "rule", "inet", "djstack_filter", "input", "tcp", "dport", "9999", "accept")
    unnoticed = _run(netns, ruleset, tmp_path, drop_sys_admin=True, check=True)
    assert (unnoticed["rc"], unnoticed["changed"]) == (0, False), unnoticed
    netns.nft("delete", "chain", "inet", "djstack_filter", "input")
    noticed = _run(netns, ruleset, tmp_path, drop_sys_admin=True)
    assert (noticed["rc"], noticed["changed"], noticed["live_present"]) == (0, True, True), noticed
    assert netns.nft("list", "table", "inet", "djstack_filter") == LISTING


def test_counter_values_are_no_difference() -> None:
    live = LISTING.replace("tcp dport 22 accept", "tcp dport 22 counter packets 12 bytes 720 accept")
    desired = LISTING.replace("tcp dport 22 accept", "tcp dport 22 counter packets 0 bytes 0 accept")
    assert nt.normalised(live) == nt.normalised(desired)
    assert nt.normalised(live) != nt.normalised(LISTING)
    assert "\ttcp dport 22 counter accept\n" in nt.displayed(live)


def test_the_comparison_ignores_indentation_but_not_words() -> None:
    assert nt.normalised(LISTING) == nt.normalised(LISTING.replace("\t", "    ").replace("\n", "\n\n"))
    assert nt.normalised(LISTING) != nt.normalised(LISTING.replace("policy drop", "policy accept"))


def test_only_the_exact_table_counts_as_present() -> None:
    tables = "table inet djstack_filter_old\ntable ip djstack_filter\n"
    assert not nt.has_table(tables, "inet", "djstack_filter")
    assert nt.has_table(tables + "table inet djstack_filter\n", "inet", "djstack_filter")

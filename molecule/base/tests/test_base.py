"""The base system: packages, upgrades, time, locale, firewall, trust store, journald."""

import json
import re
import uuid

import pytest


def test_extra_package_installed(host):
    assert host.package("jq").is_installed


def test_unattended_upgrades_enabled_daily(host):
    config = host.check_output("apt-config dump APT::Periodic")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in config
    assert 'APT::Periodic::Update-Package-Lists "1";' in config


def test_unattended_upgrades_take_security_origin_only(host):
    config = host.check_output("apt-config dump Unattended-Upgrade::Origins-Pattern")
    patterns = re.findall(r'Origins-Pattern:: "(.*)";', config)
    assert patterns == ["origin=Debian,codename=${distro_codename}-security,label=Debian-Security"]


def test_unattended_upgrade_dry_run_works(host):
    result = host.run("unattended-upgrade --dry-run")
    assert result.rc == 0, result.stderr


def _package_file_origins(host) -> set[tuple[str, str, str]]:
    """(origin, codename, label) of every package list apt has: what its policy can pick from."""
    script = ("import apt_pkg; apt_pkg.init(); "
              "print('\\n'.join(f'{f.origin}|{f.codename}|{f.label}' for f in apt_pkg.Cache(None).file_list))")
    lines = host.check_output(f'python3 -c "{script}"').splitlines()
    return {tuple(line.split("|")) for line in lines if line.count("|") == 2}


def test_unattended_upgrades_origins_are_candidate_sources(host):
    config = host.check_output("apt-config dump Unattended-Upgrade::Origins-Pattern")
    codename = host.system_info.codename
    origins = _package_file_origins(host)
    for pattern in re.findall(r'Origins-Pattern:: "(.*)";', config):
        wanted = dict(field.split("=", 1) for field in pattern.replace("${distro_codename}", codename).split(","))
        assert (wanted["origin"], wanted["codename"], wanted["label"]) in origins, (pattern, origins)


def test_apt_sources_are_deb822_with_updates_and_security(host):
    sources = host.file("/etc/apt/sources.list.d/debian.sources").content_string
    codename = host.system_info.codename
    assert f"Suites: {codename} {codename}-updates" in sources
    assert f"Suites: {codename}-security" in sources


def test_one_line_sources_list_has_no_entries(host):
    entries = [line for line in host.file("/etc/apt/sources.list").content_string.splitlines()
               if line.strip() and not line.lstrip().startswith("#")]
    assert entries == []


def test_apt_update_sees_each_source_once(host):
    result = host.run("apt-get update")
    assert result.rc == 0, result.stderr
    assert "configured multiple times" not in result.stdout + result.stderr


def test_timezone(host):
    assert host.file("/etc/localtime").linked_to == "/usr/share/zoneinfo/Europe/Paris"
    assert host.check_output("date +%Z") in ("CET", "CEST")


def test_locale_generated_and_default(host):
    assert "fr_FR.utf8" in host.check_output("locale -a")
    assert host.file("/etc/default/locale").contains("^LANG=fr_FR.UTF-8$")


def test_firewall_drops_by_default(host):
    ruleset = host.check_output("nft list chain inet djstack_filter input")
    assert "policy drop" in ruleset


def test_firewall_opens_exactly_ssh_http_https_and_extra(host):
    ruleset = host.check_output("nft list chain inet djstack_filter input")
    # Rules open to everyone: those without a source match (the source rules are tested below).
    open_to_all = "\n".join(line for line in ruleset.splitlines() if "saddr" not in line)
    ports = sorted(int(p) for group in re.findall(r"tcp dport \{? ?([\d, ]+)\}?", open_to_all)
                   for p in group.replace(",", " ").split())
    assert ports == [22, 80, 443, 8443]


@pytest.fixture(scope="module")
def outside(host):
    """A client outside the host: a network namespace joined to it by a veth pair,
    so its packets enter through the firewall's input hook like a remote peer's."""
    setup = host.run(
        "ip netns add outside && ip link add fw0 type veth peer name fw1 netns outside && "
        "ip addr add 192.0.2.1/24 dev fw0 && ip link set fw0 up && "
        "ip netns exec outside ip addr add 192.0.2.2/24 dev fw1 && "
        "ip netns exec outside ip link set fw1 up"
    )
    assert setup.rc == 0, setup.stderr
    for port in (8443, 8444, 8445, 9999):
        host.run(f"systemd-run --unit probe-{port} python3 -m http.server {port} --bind 0.0.0.0")
    host.run("sleep 1")

    def connect(port: int) -> bool:
        probe = f"import socket; socket.create_connection(('192.0.2.1', {port}), 3)"
        return host.run(f'ip netns exec outside python3 -c "{probe}"').rc == 0

    yield connect
    host.run("systemctl stop probe-8443 probe-8444 probe-8445 probe-9999; ip netns del outside; ip link del fw0")


def test_firewall_lets_an_open_port_through(outside):
    assert outside(8443)


def test_firewall_drops_a_closed_port(outside):
    assert not outside(9999)


def test_firewall_lets_a_listed_source_reach_its_port(outside):
    assert outside(8444)


def test_firewall_drops_a_source_not_listed_for_the_port(outside):
    assert not outside(8445)


def test_nftables_enabled(host):
    assert host.service("nftables").is_enabled


def test_extra_ca_trusted(host):
    bundle = host.file("/etc/ssl/certs/ca-certificates.crt").content_string
    cert = host.file("/usr/local/share/ca-certificates/djstack/djstack-test-ca.crt").content_string
    body = "".join(cert.strip().splitlines()[1:-1])
    assert body in "".join(bundle.splitlines())


def test_journald_limits(host):
    out = host.check_output("systemd-analyze cat-config systemd/journald.conf")
    assert "SystemMaxUse=123M" in out


# journald's "System Journal (...) is X, max Y" entry, logged each time it opens the journal.
JOURNAL_USAGE_MESSAGE_ID = "ec387f577b844b8fa948f33cad9a75e6"
MIB = 1024 * 1024
SMALL_MAX_USE = 4 * MIB
SMALL_DROP_IN = "/etc/systemd/journald.conf.d/zz-test.conf"


def _journal_dir(host) -> str:
    return f"/var/log/journal/{host.file('/etc/machine-id').content_string.strip()}"


def _archived_files(host) -> set[str]:
    return set(host.check_output(f"find {_journal_dir(host)} -name '*@*.journal'").split())


def _log(host, marker: str) -> None:
    host.check_output(f"echo {marker} | systemd-cat -t djstack-test && timeout 20 journalctl --sync")


def _found(host, marker: str, source: str = "") -> bool:
    return marker in host.run(f"journalctl {source} -q -o cat MESSAGE={marker}").stdout.split()


def _restart_journald(host) -> None:
    # reset-failed clears the unit's start limit (5 in 10 s), which back-to-back test runs would hit.
    host.check_output("systemctl reset-failed systemd-journald && systemctl restart systemd-journald")


def _running_max_use(host) -> int:
    """SystemMaxUse as the journald running now applies it (its usage entry's MAX_USE)."""
    invocation = host.check_output("systemctl show -P InvocationID systemd-journald")
    entry = host.check_output(f"journalctl -o json -n 1 MESSAGE_ID={JOURNAL_USAGE_MESSAGE_ID} "
                              f"'JOURNAL_NAME=System Journal' _SYSTEMD_INVOCATION_ID={invocation}")
    assert entry, f"journald (invocation {invocation}) logged no usage entry for the system journal"
    return int(json.loads(entry)["MAX_USE"])


def test_journal_is_persistent(host):
    # Storage=auto with /var/log/journal present: SystemMaxUse, not RuntimeMaxUse, is the limit that applies.
    machine_id = host.file("/etc/machine-id").content_string.strip()
    assert host.file(f"/var/log/journal/{machine_id}/system.journal").is_file
    assert not host.file(f"/run/log/journal/{machine_id}/system.journal").exists


def test_running_journald_applies_the_size_limit(host):
    assert _running_max_use(host) == 123 * MIB


def test_rotate_archives_the_active_journal_file(host):
    marker = f"djstack-before-rotate-{uuid.uuid4().hex}"
    _log(host, marker)
    before = _archived_files(host)
    host.check_output("timeout 20 journalctl --rotate")
    new = _archived_files(host) - before
    assert len(new) == 1, new
    assert _found(host, marker, f"--file {new.pop()}")


def test_logging_continues_in_a_new_active_file_after_rotation(host):
    host.check_output("timeout 20 journalctl --rotate")
    marker = f"djstack-after-rotate-{uuid.uuid4().hex}"
    _log(host, marker)
    assert _found(host, marker, f"--file {_journal_dir(host)}/system.journal")


@pytest.fixture
def overfilled_small_journal(host):
    """journald restarted with a 4 MiB SystemMaxUse, then fed about twice that in incompressible
    lines between two markers and rotated: what is left is what journald itself chose to keep."""
    try:
        host.check_output(f"printf '[Journal]\\nSystemMaxUse=4M\\nSystemMaxFileSize=512K\\n' > {SMALL_DROP_IN}")
        _restart_journald(host)
        assert _running_max_use(host) == SMALL_MAX_USE
        first, last = (f"djstack-{end}-{uuid.uuid4().hex}" for end in ("first", "last"))
        # 32 KB lines: few enough entries to stay far below journald's rate limit.
        host.check_output(f"{{ echo {first}; head -c 8M /dev/urandom | base64 -w 32000; echo {last}; }} "
                          "| systemd-cat -t djstack-fill && timeout 20 journalctl --sync "
                          "&& timeout 20 journalctl --rotate")
        yield first, last
    finally:
        host.check_output(f"rm -f {SMALL_DROP_IN}")
        _restart_journald(host)


def test_journald_keeps_the_journal_within_system_max_use(host, overfilled_small_journal):
    # Disk blocks of every journal file, active ones included: what journald counts against the limit.
    listing = host.check_output(f"find {_journal_dir(host)} -name '*.journal*' -printf '%b %f\\n'")
    used = sum(int(line.split()[0]) * 512 for line in listing.splitlines())
    assert used <= SMALL_MAX_USE, listing


def test_journald_drops_the_oldest_entries_to_stay_within_the_limit(host, overfilled_small_journal):
    first, last = overfilled_small_journal
    assert not _found(host, first)
    assert _found(host, last)

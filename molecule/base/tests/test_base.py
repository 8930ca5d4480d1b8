"""The base system: packages, upgrades, time, locale, firewall, trust store, journald."""

import re

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
    ports = sorted(int(p) for group in re.findall(r"tcp dport \{? ?([\d, ]+)\}?", ruleset)
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
    for port in (8443, 9999):
        host.run(f"systemd-run --unit probe-{port} python3 -m http.server {port} --bind 0.0.0.0")
    host.run("sleep 1")

    def connect(port: int) -> bool:
        probe = f"import socket; socket.create_connection(('192.0.2.1', {port}), 3)"
        return host.run(f'ip netns exec outside python3 -c "{probe}"').rc == 0

    yield connect
    host.run("systemctl stop probe-8443 probe-9999; ip netns del outside; ip link del fw0")


def test_firewall_lets_an_open_port_through(outside):
    assert outside(8443)


def test_firewall_drops_a_closed_port(outside):
    assert not outside(9999)


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

"""memcached for a separate cache host: TCP on the configured addresses only, never UDP."""

from djstack_testlib.limits import memory_limit_mb
from djstack_testlib.memcache import exchange, exposure, stats_settings

from tools.sandbox import EXPOSURE_LIMITS

PORT = 11311


def _listeners(host, flags: str) -> list[str]:
    # The test host runs nothing else, so every listener on it is memcached's. (ss
    # cannot name another user's process here: containers lack CAP_SYS_PTRACE.)
    out = host.check_output(f"ss -H {flags}")
    return [line.split()[3] for line in out.splitlines()]


def test_service_enabled_and_running(host):
    service = host.service("memcached")
    assert service.is_enabled
    assert service.is_running


def test_listens_exactly_on_configured_addresses(host):
    assert sorted(_listeners(host, "-ltn")) == sorted([f"127.0.0.1:{PORT}", f"127.0.0.2:{PORT}"])


def test_never_on_wildcard_or_public_interface(host):
    assert not host.socket(f"tcp://0.0.0.0:{PORT}").is_listening
    eth0 = host.interface("eth0").addresses[0]
    refused = exchange(host, "tcp", f"{eth0}:{PORT}", "version\n")
    assert refused.rc != 0 and "Connection refused" in refused.stderr


def test_no_udp(host):
    assert _listeners(host, "-lun") == []
    assert stats_settings(host, "tcp", f"127.0.0.1:{PORT}")["udpport"] == "0"


def test_set_get_round_trip_on_each_address(host):
    for address in (f"127.0.0.1:{PORT}", f"127.0.0.2:{PORT}"):
        result = exchange(host, "tcp", address, "set probe 0 60 2\nok\nget probe\n")
        assert result.rc == 0, result.stderr
        assert "VALUE probe 0 2\r\nok\r\nEND" in result.stdout, address


def test_no_unix_socket(host):
    assert stats_settings(host, "tcp", f"127.0.0.1:{PORT}")["domain_socket"] == "NULL"


def test_hardening_exposure_within_the_shared_limit(host):
    assert exposure(host, "memcached.service") <= EXPOSURE_LIMITS["memcached"]


def test_default_sizes_follow_the_containers_memory_limit_not_the_machine(host):
    # molecule.yml's djstack-memory: 768m; the build machine has far more, which the
    # machine-wide facts would have given (1024 MB of cache, 1024 connections).
    assert memory_limit_mb(host) == 768
    settings = stats_settings(host, "tcp", f"127.0.0.1:{PORT}")
    assert int(settings["maxbytes"]) == 96 * 1024 * 1024
    assert settings["maxconns"] == "768"

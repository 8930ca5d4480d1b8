"""memcached on a unix socket reserved for the app's group."""

from djstack_testlib.memcache import exchange, exposure, stats_settings

from tools.sandbox import EXPOSURE_LIMITS

SOCKET = "/run/memcached/memcached.sock"
APP_USER = "appclient"


def test_service_enabled_and_running(host):
    service = host.service("memcached")
    assert service.is_enabled
    assert service.is_running


def test_listens_on_the_unix_socket(host):
    assert host.socket(f"unix://{SOCKET}").is_listening


def test_no_tcp_or_udp_listener(host):
    # The test host runs nothing else, so any inet listener would be memcached's.
    assert host.check_output("ss -H -ltnu") == ""


def test_no_udp_port(host):
    assert stats_settings(host, "unix", SOCKET)["udpport"] == "0"


def test_set_get_round_trip_as_app_user(host):
    result = exchange(host, "unix", SOCKET, "set probe 0 60 5\nhello\nget probe\n", user=APP_USER)
    assert result.rc == 0, result.stderr
    assert "STORED" in result.stdout
    assert "VALUE probe 0 5\r\nhello\r\nEND" in result.stdout


def test_socket_owner_group_and_mode(host):
    sock = host.file(SOCKET)
    assert sock.is_socket
    assert sock.user == "memcache"
    assert sock.group == "cacheclients"
    assert sock.mode == 0o660


def test_socket_directory_closed_to_others(host):
    directory = host.file("/run/memcached")
    assert directory.group == "cacheclients"
    assert directory.mode & 0o007 == 0


def test_user_outside_group_is_refused(host):
    result = exchange(host, "unix", SOCKET, "get probe\n", user="nobody")
    assert result.rc != 0
    assert "Permission denied" in result.stderr


def test_memory_and_limits_in_effect(host):
    settings = stats_settings(host, "unix", SOCKET)
    assert int(settings["maxbytes"]) == 96 * 1024 * 1024
    assert settings["maxconns"] == "512"
    assert settings["item_size_max"] == str(2 * 1024 * 1024)
    assert settings["num_threads"] == "2"


def _main_process_status(host) -> dict[str, str]:
    pid = host.check_output("systemctl show --property MainPID --value memcached")
    status = host.file(f"/proc/{pid}/status").content_string
    return dict(line.split(":", 1) for line in status.splitlines() if ":" in line)


def test_runs_as_memcache_user(host):
    real_uid = _main_process_status(host)["Uid"].split()[0]
    assert int(real_uid) == host.user("memcache").uid


def test_runs_without_capabilities(host):
    assert int(_main_process_status(host)["CapEff"].strip(), 16) == 0


def test_hardening_exposure_within_the_shared_limit(host):
    assert exposure(host, "memcached.service") <= EXPOSURE_LIMITS["memcached"]

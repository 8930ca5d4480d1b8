"""djstack.stack.host_limits: the CPUs and memory a host gives its services, against
fake /proc and cgroup (v2 and v1) trees, and through the module protocol on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils.host_limits import host_limits, limits, usable_cpus
from tests.modrun import run_module

MEMINFO_24G = "MemTotal:       24683520 kB\nMemFree:        23000000 kB\n"
# The cgroup of an SSH session in a docker container started with --cgroupns=host.
SESSION = "0::/system.slice/docker-abc.scope/user.slice/user-1000.slice/session-1.scope\n"
V1 = "12:memory:/docker/abc\n11:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"


def _cgroup(root: Path, path: str, **files: str) -> None:
    directory = root / path
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in files.items():
        (directory / name.replace("_", ".", 1)).write_text(f"{value}\n")


def _proc(root: Path, cgroup: str, cpus_allowed: str = "0-1", meminfo: str = MEMINFO_24G) -> Path:
    (root / "self").mkdir(parents=True)
    (root / "self" / "cgroup").write_text(cgroup)
    (root / "self" / "status").write_text(f"Name:\tpython3\nCpus_allowed:\t3\nCpus_allowed_list:\t{cpus_allowed}\n")
    (root / "meminfo").write_text(meminfo)
    return root


def test_container_limits_on_an_ancestor_win(tmp_path: Path) -> None:
    _cgroup(tmp_path, "system.slice/docker-abc.scope", memory_max=str(512 * 1024 * 1024), cpu_max="100000 100000")
    _cgroup(tmp_path, "system.slice/docker-abc.scope/user.slice/user-1000.slice/session-1.scope",
            memory_max="max", cpu_max="max 100000")
    result = limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)
    assert result == {"memory_mb": 512, "vcpus": 1, "memory_limited": True, "cpu_limited": True,
                      "source": "cgroup v2"}


def test_no_limits_leave_the_machine_numbers(tmp_path: Path) -> None:
    _cgroup(tmp_path, "system.slice/docker-abc.scope", memory_max="max", cpu_max="max 100000")
    result = limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)
    assert result == {"memory_mb": 24105, "vcpus": 2, "memory_limited": False, "cpu_limited": False,
                      "source": "machine"}


def test_the_tightest_of_nested_limits_wins(tmp_path: Path) -> None:
    _cgroup(tmp_path, "system.slice", memory_max=str(256 * 1024 * 1024))
    _cgroup(tmp_path, "system.slice/docker-abc.scope", memory_max=str(1024 * 1024 * 1024))
    result = limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)
    assert result["memory_mb"] == 256
    assert (result["memory_limited"], result["cpu_limited"], result["source"]) == (True, False, "cgroup v2")


def test_a_memory_limit_above_the_machine_is_no_limit(tmp_path: Path) -> None:
    _cgroup(tmp_path, "system.slice/docker-abc.scope", memory_max=str(64 * 1024 ** 3))
    result = limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)
    assert (result["memory_mb"], result["memory_limited"], result["source"]) == (24105, False, "machine")


@pytest.mark.parametrize(("cpu_max", "vcpus"), [("150000 100000", 2), ("50000 100000", 1), ("400000 100000", 2)])
def test_fractional_cpu_quota_rounds_up_within_the_cpus_present(tmp_path: Path, cpu_max: str, vcpus: int) -> None:
    _cgroup(tmp_path, "system.slice/docker-abc.scope", cpu_max=cpu_max)
    assert limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)["vcpus"] == vcpus


def test_a_private_cgroup_namespace_reads_the_limit_at_its_root(tmp_path: Path) -> None:
    _cgroup(tmp_path, "", memory_max=str(512 * 1024 * 1024))
    assert limits("0::/\n", MEMINFO_24G, cpus=2, mount=tmp_path)["memory_mb"] == 512


def test_cgroup_v1_container_limits_count(tmp_path: Path) -> None:
    _cgroup(tmp_path, "memory/docker/abc", memory_limit_in_bytes=str(512 * 1024 * 1024))
    _cgroup(tmp_path, "cpu,cpuacct/docker/abc", cpu_cfs_quota_us="100000", cpu_cfs_period_us="100000")
    assert limits(V1, MEMINFO_24G, cpus=2, mount=tmp_path) == {
        "memory_mb": 512, "vcpus": 1, "memory_limited": True, "cpu_limited": True, "source": "cgroup v1"}


def test_cgroup_v1_without_limits_leaves_the_machine_numbers(tmp_path: Path) -> None:
    _cgroup(tmp_path, "memory/docker/abc", memory_limit_in_bytes="9223372036854771712")
    _cgroup(tmp_path, "cpu,cpuacct/docker/abc", cpu_cfs_quota_us="-1", cpu_cfs_period_us="100000")
    assert limits(V1, MEMINFO_24G, cpus=4, mount=tmp_path) == {
        "memory_mb": 24105, "vcpus": 4, "memory_limited": False, "cpu_limited": False, "source": "machine"}


def test_cgroup_v1_container_seeing_only_its_own_cgroup_finds_the_limit_at_the_mount(tmp_path: Path) -> None:
    # Docker mounts the container's own cgroup at /sys/fs/cgroup/memory; /proc still names the host's path.
    _cgroup(tmp_path, "memory", memory_limit_in_bytes=str(768 * 1024 * 1024))
    assert limits(V1, MEMINFO_24G, cpus=2, mount=tmp_path)["memory_mb"] == 768


def test_a_hybrid_host_takes_the_tightest_of_both_hierarchies(tmp_path: Path) -> None:
    _cgroup(tmp_path, "memory/docker/abc", memory_limit_in_bytes=str(512 * 1024 * 1024))
    _cgroup(tmp_path, "docker/abc", cpu_max="100000 100000")
    result = limits(V1 + "0::/docker/abc\n", MEMINFO_24G, cpus=2, mount=tmp_path)
    assert (result["memory_mb"], result["vcpus"], result["source"]) == (512, 1, "cgroup v2+v1")


def test_host_limits_reads_proc_and_the_cgroup_mount(tmp_path: Path) -> None:
    proc = _proc(tmp_path / "proc", SESSION, cpus_allowed="0-3,6")
    mount = tmp_path / "cgroup"
    _cgroup(mount, "system.slice/docker-abc.scope", cpu_max="300000 100000")
    assert host_limits(proc, mount) == {"memory_mb": 24105, "vcpus": 3, "memory_limited": False,
                                        "cpu_limited": True, "source": "cgroup v2"}


@pytest.mark.parametrize(("allowed", "cpus"), [("0", 1), ("0-1", 2), ("0-3,6,8-9", 7)])
def test_usable_cpus_counts_the_allowed_list(tmp_path: Path, allowed: str, cpus: int) -> None:
    assert usable_cpus(_proc(tmp_path, "0::/\n", cpus_allowed=allowed)) == cpus


def test_a_meminfo_without_memtotal_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no MemTotal"):
        host_limits(_proc(tmp_path / "proc", "0::/\n", meminfo="MemFree: 1 kB\n"), tmp_path)


def test_the_module_sets_the_fact_on_this_machine(tmp_path: Path) -> None:
    result = run_module("host_limits", {}, tmp_path)
    assert result["rc"] == 0, result
    assert result["changed"] is False
    facts = result["ansible_facts"]["djstack_host_limits"]
    assert set(facts) == {"vcpus", "memory_mb", "memory_limited", "cpu_limited", "source"}
    assert facts["vcpus"] >= 1 and facts["memory_mb"] > 0
    assert facts == host_limits()


def test_check_mode_reports_the_same_facts_unchanged(tmp_path: Path) -> None:
    normal = run_module("host_limits", {}, tmp_path)
    checked = run_module("host_limits", {}, tmp_path, check=True, diff=True)
    assert checked["rc"] == 0 and checked["changed"] is False
    assert "diff" not in checked
    assert checked["ansible_facts"] == normal["ansible_facts"]


def test_the_module_takes_no_options(tmp_path: Path) -> None:
    result = run_module("host_limits", {"mount": "/tmp"}, tmp_path)
    assert result["rc"] == 1 and "mount" in result["msg"]

"""The gunicorn role's host-limits probe, against fake cgroup v2 trees."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "roles" / "gunicorn" / "files" / "gunicorn_host_limits.py"
MEMINFO_24G = "MemTotal:       24683520 kB\nMemFree:        23000000 kB\n"
# The cgroup of an SSH session in a docker container started with --cgroupns=host.
SESSION = "0::/system.slice/docker-abc.scope/user.slice/user-1000.slice/session-1.scope\n"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gunicorn_host_limits", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gunicorn_host_limits"] = module
    spec.loader.exec_module(module)
    return module


limits = _load()


def _cgroup(root: Path, path: str, **files: str) -> None:
    directory = root / path
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in files.items():
        (directory / name.replace("_", ".", 1)).write_text(f"{value}\n")


def test_container_limits_on_an_ancestor_win(tmp_path: Path) -> None:
    _cgroup(tmp_path, "system.slice/docker-abc.scope", memory_max=str(512 * 1024 * 1024), cpu_max="100000 100000")
    _cgroup(tmp_path, "system.slice/docker-abc.scope/user.slice/user-1000.slice/session-1.scope",
            memory_max="max", cpu_max="max 100000")
    result = limits.limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)
    assert result == {"memory_mb": 512, "vcpus": 1, "memory_limited": True, "cpu_limited": True}


def test_no_limits_leave_the_machine_numbers(tmp_path: Path) -> None:
    _cgroup(tmp_path, "system.slice/docker-abc.scope", memory_max="max", cpu_max="max 100000")
    result = limits.limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)
    assert result == {"memory_mb": 24105, "vcpus": 2, "memory_limited": False, "cpu_limited": False}


def test_the_tightest_of_nested_limits_wins(tmp_path: Path) -> None:
    _cgroup(tmp_path, "system.slice", memory_max=str(256 * 1024 * 1024))
    _cgroup(tmp_path, "system.slice/docker-abc.scope", memory_max=str(1024 * 1024 * 1024))
    result = limits.limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)
    assert result["memory_mb"] == 256


@pytest.mark.parametrize(("cpu_max", "vcpus"), [("150000 100000", 2), ("50000 100000", 1), ("400000 100000", 2)])
def test_fractional_cpu_quota_rounds_up_within_the_cpus_present(tmp_path: Path, cpu_max: str, vcpus: int) -> None:
    _cgroup(tmp_path, "system.slice/docker-abc.scope", cpu_max=cpu_max)
    assert limits.limits(SESSION, MEMINFO_24G, cpus=2, mount=tmp_path)["vcpus"] == vcpus


def test_a_private_cgroup_namespace_reads_the_limit_at_its_root(tmp_path: Path) -> None:
    _cgroup(tmp_path, "", memory_max=str(512 * 1024 * 1024))
    assert limits.limits("0::/\n", MEMINFO_24G, cpus=2, mount=tmp_path)["memory_mb"] == 512


V1 = "12:memory:/docker/abc\n11:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n"


def test_cgroup_v1_container_limits_count(tmp_path: Path) -> None:
    _cgroup(tmp_path, "memory/docker/abc", memory_limit_in_bytes=str(512 * 1024 * 1024))
    _cgroup(tmp_path, "cpu,cpuacct/docker/abc", cpu_cfs_quota_us="100000", cpu_cfs_period_us="100000")
    assert limits.limits(V1, MEMINFO_24G, cpus=2, mount=tmp_path) == {
        "memory_mb": 512, "vcpus": 1, "memory_limited": True, "cpu_limited": True}


def test_cgroup_v1_without_limits_leaves_the_machine_numbers(tmp_path: Path) -> None:
    _cgroup(tmp_path, "memory/docker/abc", memory_limit_in_bytes="9223372036854771712")
    _cgroup(tmp_path, "cpu,cpuacct/docker/abc", cpu_cfs_quota_us="-1", cpu_cfs_period_us="100000")
    assert limits.limits(V1, MEMINFO_24G, cpus=4, mount=tmp_path) == {
        "memory_mb": 24105, "vcpus": 4, "memory_limited": False, "cpu_limited": False}


def test_it_runs_on_this_machine_and_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert limits.main() == 0
    out = capsys.readouterr().out
    assert '"vcpus": ' in out and '"memory_mb": ' in out

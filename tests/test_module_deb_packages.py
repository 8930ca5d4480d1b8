"""djstack.stack.deb_packages: the missing packages from dpkg's own database, and apt-get
only for those. Queries run the controller's real dpkg-query, against its real database
or a dpkg database of the test's own in tmp_path (DPKG_ADMINDIR); apt-get is a recorder
that "installs" by writing that database, so no test installs anything on this machine."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Callable

import pytest

from ansible_collections.djstack.stack.plugins.module_utils.deb_packages import (
    DebPackagesError,
    cache_mtime,
    ensure_present,
    install_argv,
    missing_packages,
    parse_status,
)
from tests.modrun import run_module

ABSENT = "djstack-no-such-package"
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
CONFOLD = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]


def real_dpkg_query(env: dict[str, str] | None = None) -> Callable[[list[str], dict[str, str]], tuple[int, str, str]]:
    def run(argv: list[str], extra: dict[str, str]) -> tuple[int, str, str]:
        assert argv[0] == "dpkg-query", f"only dpkg-query may really run, not {argv}"
        done = subprocess.run(argv, capture_output=True, text=True, check=False,
                              env=dict(os.environ, **(env or {}), **extra))
        return done.returncode, done.stdout, done.stderr
    return run


def no_apt(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    raise AssertionError(f"apt must not run: {argv}")


def stanza(name: str, status: str = "install ok installed") -> str:
    return (f"Package: {name}\nStatus: {status}\nPriority: optional\nArchitecture: {ARCH}\n"
            f"Version: 1.0\nMaintainer: djstack tests <t@example.invalid>\nDescription: test package\n\n")


@pytest.fixture
def admindir(tmp_path: Path) -> Path:
    """A dpkg database with nginx-less contents: openssl installed, memcached removed
    (only its config files left)."""
    root = tmp_path / "dpkg"
    (root / "info").mkdir(parents=True)
    (root / "updates").mkdir()
    (root / "status").write_text(stanza("openssl") + stanza("memcached", "deinstall ok config-files"))
    return root


class FakeApt:
    """Records apt-get calls; `install` marks the packages installed in the test's dpkg
    database, the way a real install would."""

    def __init__(self, admindir: Path, results: list[tuple[int, str, str]] | None = None,
                 install: bool = True) -> None:
        self.admindir = admindir
        self.calls: list[tuple[list[str], dict[str, str]]] = []
        self.results = list(results or [])
        self.install = install

    def __call__(self, argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
        self.calls.append((argv, env))
        result = self.results.pop(0) if self.results else (0, "", "")
        if result[0] == 0 and argv[:2] == ["apt-get", "install"] and self.install:
            names = [arg for arg in argv[2:] if not arg.startswith("-") and "::" not in arg]
            status = self.admindir / "status"
            kept = [entry for entry in status.read_text().split("\n\n")
                    if entry.strip() and entry.split("\n")[0][len("Package: "):] not in names]
            status.write_text("".join(entry + "\n\n" for entry in kept) + "".join(stanza(name) for name in names))
        return result


# --- dpkg-query, the real one -------------------------------------------------------

def test_real_dpkg_knows_what_is_installed() -> None:
    assert missing_packages(["dpkg", "coreutils", ABSENT], real_dpkg_query()) == [ABSENT]


def test_real_dpkg_names_with_an_architecture() -> None:
    # coreutils is Multi-Arch: foreign (dpkg prints plain "coreutils"), libc6 is :same.
    names = [f"coreutils:{ARCH}", "libc6", f"libc6:{ARCH}", "libc6:djstackarch"]
    assert missing_packages(names, real_dpkg_query()) == ["libc6:djstackarch"]


def test_duplicates_are_asked_once() -> None:
    assert missing_packages([ABSENT, "dpkg", ABSENT], real_dpkg_query()) == [ABSENT]


def test_removed_and_unknown_packages_are_missing(admindir: Path) -> None:
    query = real_dpkg_query({"DPKG_ADMINDIR": str(admindir)})
    assert missing_packages(["openssl", "memcached", "nginx"], query) == ["memcached", "nginx"]


def test_parse_status_keys_every_spelling() -> None:
    status = parse_status(f"libc6:{ARCH}\tlibc6\t{ARCH}\tinstalled\nfoo\tfoo\tall\tconfig-files\nnoise\n")
    assert status == {f"libc6:{ARCH}": "installed", "libc6": "installed",
                      "foo": "config-files", "foo:all": "config-files"}


def test_dpkg_query_failing_is_an_error(admindir: Path) -> None:
    (admindir / "status").write_text("garbage\n")
    query = real_dpkg_query({"DPKG_ADMINDIR": str(admindir)})
    with pytest.raises(DebPackagesError, match=r"dpkg-query failed \(rc 2\): dpkg-query: error: parsing file"):
        missing_packages(["dpkg"], query)


# --- the decision ---------------------------------------------------------------------

def test_nothing_missing_runs_no_apt_at_all() -> None:
    outcome = ensure_present(["dpkg", "coreutils"], query=real_dpkg_query(), apt=no_apt,
                             check_mode=False, update_cache=True, cache_age_of=lambda: 0.0)
    assert not outcome.changed
    assert outcome.missing == [] and outcome.installed == [] and not outcome.cache_updated
    assert outcome.diff() == {"before": "", "after": ""}


def test_check_mode_reports_and_runs_nothing() -> None:
    outcome = ensure_present(["dpkg", ABSENT], query=real_dpkg_query(), apt=no_apt,
                             check_mode=True, update_cache=True, cache_age_of=lambda: 0.0)
    assert outcome.changed
    assert outcome.missing == [ABSENT] and outcome.installed == []
    assert outcome.diff() == {"before": f"{ABSENT}: not installed\n", "after": f"{ABSENT}: installed\n"}


def test_install_the_missing_then_nothing(admindir: Path) -> None:
    query = real_dpkg_query({"DPKG_ADMINDIR": str(admindir)})
    apt = FakeApt(admindir)
    outcome = ensure_present(["openssl", "nginx", "memcached"], query=query, apt=apt, check_mode=False,
                             update_cache=True, cache_valid_time=3600, cache_age_of=lambda: 0.0)
    assert outcome.changed and outcome.cache_updated
    assert outcome.missing == ["nginx", "memcached"] and outcome.installed == ["nginx", "memcached"]
    assert [argv for argv, _ in apt.calls] == [
        ["apt-get", "update", "-o", "DPkg::Lock::Timeout=300"],
        ["apt-get", "install", "-y", *CONFOLD, "-o", "DPkg::Lock::Timeout=300", "nginx", "memcached"],
    ]
    for _, env in apt.calls:
        assert env["DEBIAN_FRONTEND"] == "noninteractive" and env["LC_ALL"] == "C.UTF-8"

    again = ensure_present(["openssl", "nginx", "memcached"], query=query, apt=no_apt, check_mode=False,
                           update_cache=True, cache_age_of=lambda: 0.0)
    assert not again.changed and again.installed == []


def test_fresh_cache_is_not_refreshed(admindir: Path) -> None:
    apt = FakeApt(admindir)
    outcome = ensure_present(["nginx"], query=real_dpkg_query({"DPKG_ADMINDIR": str(admindir)}), apt=apt,
                             check_mode=False, update_cache=True, cache_valid_time=3600,
                             now=lambda: 10_000.0, cache_age_of=lambda: 9_000.0)
    assert not outcome.cache_updated
    assert [argv[1] for argv, _ in apt.calls] == ["install"]


def test_stale_cache_is_refreshed_and_no_update_cache_never(admindir: Path) -> None:
    query = real_dpkg_query({"DPKG_ADMINDIR": str(admindir)})
    apt = FakeApt(admindir)
    ensure_present(["nginx"], query=query, apt=apt, check_mode=False, update_cache=True, cache_valid_time=3600,
                   now=lambda: 10_000.0, cache_age_of=lambda: 5_000.0)
    assert [argv[1] for argv, _ in apt.calls] == ["update", "install"]
    apt = FakeApt(admindir)
    ensure_present(["memcached"], query=query, apt=apt, check_mode=False, update_cache=False,
                   cache_age_of=lambda: 0.0)
    assert [argv[1] for argv, _ in apt.calls] == ["install"]


def test_cache_age_from_real_files(tmp_path: Path) -> None:
    lists, stamp = tmp_path / "lists", tmp_path / "update-success-stamp"
    (lists / "partial").mkdir(parents=True)
    (lists / "lock").touch()
    # An emptied lists directory (as in images) is no cache, however new.
    assert cache_mtime(str(stamp), str(lists)) == 0.0
    (lists / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").touch()
    os.utime(lists, (1_000, 1_000))
    assert cache_mtime(str(stamp), str(lists)) == 1_000
    stamp.touch()
    os.utime(stamp, (2_000, 2_000))
    assert cache_mtime(str(stamp), str(lists)) == 2_000
    assert cache_mtime(str(stamp), str(tmp_path / "none")) == 0.0


@pytest.mark.parametrize(("recommends", "extra"), [
    (None, []),
    (True, ["-o", "APT::Install-Recommends=yes"]),
    (False, ["-o", "APT::Install-Recommends=no"]),
])
def test_install_argv(recommends: bool | None, extra: list[str]) -> None:
    assert install_argv(["nginx", "openssl"], recommends, 60) == [
        "apt-get", "install", "-y", *CONFOLD, "-o", "DPkg::Lock::Timeout=60", *extra, "nginx", "openssl"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


LOCKED = (100, "", "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 812 (unattended-upgr)\n"
          "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?\n")


def test_a_held_lock_is_waited_out(admindir: Path) -> None:
    clock = Clock()
    apt = FakeApt(admindir, results=[LOCKED, LOCKED])
    outcome = ensure_present(["nginx"], query=real_dpkg_query({"DPKG_ADMINDIR": str(admindir)}), apt=apt,
                             check_mode=False, lock_timeout=60, clock=clock, sleep=clock.sleep)
    assert outcome.installed == ["nginx"]
    assert len(apt.calls) == 3 and clock.sleeps == [5.0, 5.0]


def test_a_lock_held_too_long_fails_with_apts_message(admindir: Path) -> None:
    clock = Clock()
    apt = FakeApt(admindir, results=[LOCKED] * 100)
    with pytest.raises(DebPackagesError) as failed:
        ensure_present(["nginx", "memcached"], query=real_dpkg_query({"DPKG_ADMINDIR": str(admindir)}), apt=apt,
                       check_mode=False, lock_timeout=12, clock=clock, sleep=clock.sleep)
    assert "apt-get install nginx memcached failed (rc 100)" in str(failed.value)
    assert "held by process 812 (unattended-upgr)" in str(failed.value)
    assert clock.now == 12 and len(apt.calls) == 4


def test_install_failure_names_packages_and_quotes_apt(admindir: Path) -> None:
    apt = FakeApt(admindir, results=[(100, "Reading package lists...\n", "E: Unable to locate package nginx\n")])
    with pytest.raises(DebPackagesError) as failed:
        ensure_present(["nginx"], query=real_dpkg_query({"DPKG_ADMINDIR": str(admindir)}), apt=apt,
                       check_mode=False)
    assert str(failed.value) == "apt-get install nginx failed (rc 100): E: Unable to locate package nginx"
    assert failed.value.stdout == "Reading package lists...\n"
    assert len(apt.calls) == 1, "an error that is not a lock is not retried"


def test_update_failure_is_retried_then_reported(admindir: Path) -> None:
    clock = Clock()
    failing = (100, "", "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease\n")
    apt = FakeApt(admindir, results=[failing, failing, failing])
    with pytest.raises(DebPackagesError, match=r"apt-get update failed \(rc 100\) before installing nginx: "
                                               r"E: Failed to fetch"):
        ensure_present(["nginx"], query=real_dpkg_query({"DPKG_ADMINDIR": str(admindir)}), apt=apt,
                       check_mode=False, update_cache=True, cache_age_of=lambda: 0.0,
                       clock=clock, sleep=clock.sleep)
    assert [argv[1] for argv, _ in apt.calls] == ["update"] * 3


def test_a_package_apt_does_not_install_fails(admindir: Path) -> None:
    apt = FakeApt(admindir, install=False)
    with pytest.raises(DebPackagesError, match="dpkg still does not list mail-transport-agent as installed"):
        ensure_present(["mail-transport-agent"], query=real_dpkg_query({"DPKG_ADMINDIR": str(admindir)}),
                       apt=apt, check_mode=False)


@pytest.mark.parametrize("name", ["nginx=1.22.1-9", "nginx/bookworm-backports", "nginx*", "-o", "Nginx", ""])
def test_names_that_are_not_package_names_are_refused(name: str) -> None:
    with pytest.raises(DebPackagesError, match="Not Debian package names"):
        ensure_present(["dpkg", name], query=no_apt, apt=no_apt, check_mode=False)


# --- the module, through the real module protocol -------------------------------------

@pytest.fixture
def fake_apt_get(tmp_path: Path, admindir: Path) -> tuple[dict[str, str], Path]:
    """PATH with an apt-get that logs its argv and "installs" into the test's dpkg database."""
    bindir, log = tmp_path / "bin", tmp_path / "apt-get.log"
    bindir.mkdir()
    script = bindir / "apt-get"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$DEBIAN_FRONTEND $*" >> {log}\n'
        'if [ "$1" = install ]; then\n'
        "  for arg; do case $arg in -*|*::*|install) ;; *)\n"
        f'    printf "Package: %s\\nStatus: install ok installed\\nArchitecture: {ARCH}\\nVersion: 1.0\\n'
        f'Maintainer: t\\nDescription: t\\n\\n" "$arg" >> {admindir}/status ;; esac; done\n'
        "fi\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{bindir}:{os.environ['PATH']}", "DPKG_ADMINDIR": str(admindir)}
    # Never let a test reach the real apt-get.
    assert shutil.which("apt-get", path=env["PATH"]) == str(script)
    return env, log


def test_module_installed_package_is_unchanged(tmp_path: Path) -> None:
    for check in (False, True):
        result = run_module("deb_packages", {"names": ["dpkg", "coreutils"], "update_cache": True,
                                             "cache_valid_time": 3600}, tmp_path, check=check, diff=True)
        assert result["rc"] == 0, result
        assert result["changed"] is False and result["missing"] == [] and result["installed"] == []
        assert result["diff"] == {"before": "", "after": ""}


def test_module_check_mode_reports_and_runs_nothing(tmp_path: Path, fake_apt_get: tuple[dict[str, str], Path]) -> None:
    env, log = fake_apt_get
    result = run_module("deb_packages", {"names": ["openssl", "nginx"], "update_cache": True},
                        tmp_path, check=True, diff=True, env=env)
    assert result["rc"] == 0, result
    assert result["changed"] is True and result["missing"] == ["nginx"] and result["installed"] == []
    assert result["diff"] == {"before": "nginx: not installed\n", "after": "nginx: installed\n"}
    assert not log.exists(), "check mode ran apt-get"


def test_module_installs_then_is_idempotent(tmp_path: Path, fake_apt_get: tuple[dict[str, str], Path]) -> None:
    env, log = fake_apt_get
    args = {"names": ["openssl", "nginx"], "state": "present", "install_recommends": False}
    result = run_module("deb_packages", args, tmp_path, diff=True, env=env)
    assert result["rc"] == 0, result
    assert result["changed"] is True and result["missing"] == ["nginx"] and result["installed"] == ["nginx"]
    assert result["diff"] == {"before": "nginx: not installed\n", "after": "nginx: installed\n"}
    assert log.read_text() == (
        "noninteractive install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "
        "-o DPkg::Lock::Timeout=300 -o APT::Install-Recommends=no nginx\n")

    again = run_module("deb_packages", args, tmp_path, env=env)
    assert again["rc"] == 0 and again["changed"] is False and "diff" not in again
    assert len(log.read_text().splitlines()) == 1, "a converged host ran apt-get again"


def test_module_failure_message(tmp_path: Path) -> None:
    result = run_module("deb_packages", {"names": ["nginx=1.22"]}, tmp_path)
    assert result["rc"] == 1 and result["failed"] is True
    assert result["msg"].startswith("Not Debian package names: nginx=1.22.")

# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Debian packages present, from dpkg's own database: which of the wanted packages
are missing (dpkg-query, so no python3-apt is needed, not even in check mode) and
the apt-get calls that install them, waiting out a held dpkg lock."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple

# (argv, extra environment) -> (rc, stdout, stderr); the module passes run_command,
# the tests pass real dpkg-query for queries and a recorder for apt-get.
Runner = Callable[[List[str], Dict[str, str]], Tuple[int, str, str]]

# Debian policy's package names, with an optional :arch qualifier. Anything else
# (name=version, globs, a leading dash) would mean something else to dpkg or apt.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$")

DPKG_QUERY_FORMAT = "${binary:Package}\\t${Package}\\t${Architecture}\\t${db:Status-Status}\\n"

# Where ansible.builtin.apt looks for the age of the cache, in the same order.
APT_UPDATE_SUCCESS_STAMP = "/var/lib/apt/periodic/update-success-stamp"
APT_LISTS = "/var/lib/apt/lists"

# apt must never ask, and its messages must be the untranslated ones we quote and match.
APT_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "DEBIAN_PRIORITY": "critical",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "LC_MESSAGES": "C.UTF-8",
    "LANGUAGE": "C.UTF-8",
}

# Keep configuration files a package update would replace, as ansible.builtin.apt does.
DPKG_OPTIONS = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]

# What apt-get prints when another apt/dpkg (unattended-upgrades at first boot) holds a lock.
LOCK_ERROR = re.compile(
    r"Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock (the administration )?directory"
)
LOCK_RETRY_DELAY = 5.0
# A failed download (a mirror hiccup) is retried this often before the run fails.
UPDATE_ATTEMPTS = 3


class DebPackagesError(Exception):
    """A failure whose message says what went wrong and what to do; apt's whole output
    rides along for the task result."""

    def __init__(self, msg: str, stdout: str = "", stderr: str = "") -> None:
        super().__init__(msg)
        self.stdout = stdout
        self.stderr = stderr


@dataclass
class Outcome:
    missing: list[str]
    installed: list[str] = field(default_factory=list)
    cache_updated: bool = False
    stdout: str = ""
    stderr: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.missing)

    def diff(self) -> dict[str, str]:
        """Missing packages before, and the same names installed after."""
        return {
            "before": "".join(f"{name}: not installed\n" for name in self.missing),
            "after": "".join(f"{name}: installed\n" for name in self.missing),
        }


def invalid_names(names: list[str]) -> list[str]:
    return [name for name in names if not NAME_PATTERN.match(name)]


def parse_status(stdout: str) -> dict[str, str]:
    """dpkg-query's lines (binary:Package, Package, Architecture, status) as name -> status.
    Every spelling is a key (`libc6`, `libc6:amd64`, and `coreutils:amd64` although dpkg
    prints plain `coreutils` for it), so a name is found however it was given."""
    status: dict[str, str] = {}
    for line in stdout.splitlines():
        fields = line.split("\t")
        if len(fields) != 4:
            continue
        binary_name, name, arch, state = fields
        for key in (binary_name, name, f"{name}:{arch}"):
            # An installed architecture wins over a removed one of the same package.
            if status.get(key) != "installed":
                status[key] = state
    return status


def missing_packages(names: list[str], run: Runner) -> list[str]:
    """The names dpkg does not have fully installed (unknown, removed, half-installed), in
    the order given."""
    wanted = list(dict.fromkeys(names))
    rc, stdout, stderr = run(["dpkg-query", "--show", f"--showformat={DPKG_QUERY_FORMAT}", *wanted], {})
    # rc 1 only says some names are unknown to dpkg; anything else is dpkg failing.
    if rc not in (0, 1):
        raise DebPackagesError(f"dpkg-query failed (rc {rc}): {stderr.strip() or stdout.strip()}")
    status = parse_status(stdout)
    return [name for name in wanted if status.get(name) != "installed"]


def cache_mtime(stamp: str = APT_UPDATE_SUCCESS_STAMP, lists: str = APT_LISTS) -> float:
    """When the package lists were last refreshed; 0 when there are none at all (images
    often ship an emptied /var/lib/apt/lists, whose recent mtime means nothing)."""
    try:
        entries = os.listdir(lists)
    except OSError:
        return 0.0
    if not any(entry.endswith("Packages") or "_Packages." in entry for entry in entries):
        return 0.0
    if os.path.exists(stamp):
        return os.stat(stamp).st_mtime
    return os.stat(lists).st_mtime


def install_argv(names: list[str], install_recommends: bool | None, lock_timeout: int) -> list[str]:
    argv = ["apt-get", "install", "-y", *DPKG_OPTIONS, "-o", f"DPkg::Lock::Timeout={lock_timeout}"]
    # None leaves it to apt's configuration, as ansible.builtin.apt does (Debian: yes).
    if install_recommends is True:
        argv += ["-o", "APT::Install-Recommends=yes"]
    elif install_recommends is False:
        argv += ["-o", "APT::Install-Recommends=no"]
    return argv + names


def update_argv(lock_timeout: int) -> list[str]:
    return ["apt-get", "update", "-o", f"DPkg::Lock::Timeout={lock_timeout}"]


def _output(stdout: str, stderr: str) -> str:
    """apt's own error text: its E:/W: lines when there are any, else its whole output."""
    text = "\n".join(part.strip() for part in (stderr, stdout) if part.strip())
    errors = [line for line in text.splitlines() if line.startswith(("E:", "W:"))]
    return "\n".join(errors) if errors else text


def run_apt(argv: list[str], run: Runner, lock_timeout: int,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> tuple[int, str, str]:
    """Run apt-get, again and again while another process holds a dpkg/apt lock, until
    lock_timeout seconds have gone by. apt-get waits for dpkg's frontend lock itself
    (DPkg::Lock::Timeout), but not for every lock, hence the loop around it."""
    deadline = clock() + lock_timeout
    while True:
        rc, stdout, stderr = run(argv, dict(APT_ENV))
        if rc == 0 or not LOCK_ERROR.search(stderr + stdout) or clock() >= deadline:
            return rc, stdout, stderr
        sleep(min(LOCK_RETRY_DELAY, max(deadline - clock(), 0.0)))


def ensure_present(names: list[str], *, query: Runner, apt: Runner, check_mode: bool,
                   update_cache: bool = False, cache_valid_time: int = 0,
                   install_recommends: bool | None = None, lock_timeout: int = 300,
                   now: Callable[[], float] = time.time, cache_age_of: Callable[[], float] = cache_mtime,
                   clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Install what dpkg says is missing. Nothing missing: no apt call at all. Check
    mode: only the report."""
    bad = invalid_names(names)
    if bad:
        raise DebPackagesError(
            f"Not Debian package names: {', '.join(bad)}. Give plain names such as nginx "
            "(optionally with :arch), without versions, releases or wildcards."
        )
    outcome = Outcome(missing=missing_packages(names, query))
    if not outcome.missing or check_mode:
        return outcome

    if update_cache and now() - cache_age_of() > cache_valid_time:
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            rc, stdout, stderr = run_apt(update_argv(lock_timeout), apt, lock_timeout, clock, sleep)
            if rc == 0:
                break
            if attempt == UPDATE_ATTEMPTS or LOCK_ERROR.search(stderr + stdout):
                raise DebPackagesError(
                    f"apt-get update failed (rc {rc}) before installing {', '.join(outcome.missing)}: "
                    f"{_output(stdout, stderr)}",
                    stdout, stderr,
                )
            sleep(LOCK_RETRY_DELAY * attempt)
        outcome.cache_updated = True

    rc, stdout, stderr = run_apt(install_argv(outcome.missing, install_recommends, lock_timeout),
                                 apt, lock_timeout, clock, sleep)
    outcome.stdout, outcome.stderr = stdout, stderr
    if rc != 0:
        raise DebPackagesError(
            f"apt-get install {' '.join(outcome.missing)} failed (rc {rc}): {_output(stdout, stderr)}",
            stdout, stderr,
        )
    # A virtual package name installs some provider but never itself: say so now rather
    # than report a change on every run.
    still_missing = missing_packages(outcome.missing, query)
    if still_missing:
        raise DebPackagesError(
            f"apt-get install succeeded but dpkg still does not list {', '.join(still_missing)} as "
            "installed (a virtual package?): name the real package instead."
        )
    outcome.installed = list(outcome.missing)
    return outcome

"""Host prerequisites of the tests: a Docker engine that answers, and a few tools.

On Debian as root with no engine, install Debian's docker.io and start dockerd in
the background (CI hosts have no systemd). Anywhere else, say exactly what is
missing and stop: installing a container engine on a user's workstation is their call.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERD_LOG = ROOT / ".cache" / "dockerd.log"
READY_TIMEOUT_S = 60


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                           capture_output=True, text=True, check=False)
    return probe.returncode == 0 and probe.stdout.strip() != ""


def is_debian(os_release: Path = Path("/etc/os-release")) -> bool:
    if not os_release.exists():
        return False
    fields = dict(line.split("=", 1) for line in os_release.read_text().splitlines() if "=" in line)
    return fields.get("ID", "").strip('"') == "debian"


def apt_install(*packages: str) -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    # A policy-rc.d that says "no" keeps Debian's postinst from starting daemons
    # (memcached) on the build machine: tests start their own.
    policy = Path("/usr/sbin/policy-rc.d")
    existed = policy.exists()
    if not existed:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
                       check=True, env=env, stdout=subprocess.DEVNULL)
    finally:
        if not existed:
            policy.unlink()


def start_dockerd() -> None:
    DOCKERD_LOG.parent.mkdir(parents=True, exist_ok=True)
    log = DOCKERD_LOG.open("ab")
    # A new session keeps dockerd alive after make exits.
    subprocess.Popen(["dockerd"], stdout=log, stderr=log, start_new_session=True)


def wait_ready(timeout_s: float = READY_TIMEOUT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if engine_answers():
            return True
        time.sleep(1)
    return False


def ensure() -> int:
    if engine_answers():
        return 0
    if os.geteuid() != 0 or not is_debian():
        print("A running Docker engine is required (Molecule's docker driver), and none answers "
              "`docker info`.\nInstall Docker and start it (or add your user to the `docker` "
              "group), then re-run. On Debian as root, `make test` installs docker.io itself.",
              file=sys.stderr)
        return 2
    if shutil.which("dockerd") is None:
        print("Installing Debian's docker.io ...", flush=True)
        apt_install("docker.io")
    print(f"Starting dockerd (log: {DOCKERD_LOG.relative_to(ROOT)}) ...", flush=True)
    start_dockerd()
    if not wait_ready():
        print(f"dockerd did not answer within {READY_TIMEOUT_S}s; see {DOCKERD_LOG}", file=sys.stderr)
        return 1
    print("Docker engine ready.")
    return 0


# Host tools of the tests and of `make bench`: command that proves it is there -> Debian package.
HOST_TOOLS = {"debootstrap": "debootstrap", "memcached": "memcached", "wrk": "wrk", "openssl": "openssl",
              "curl": "curl", "nsenter": "util-linux", "nft": "nftables"}


def missing_packages(names: list[str], which: Callable[[str], str | None] = shutil.which) -> list[str]:
    """The Debian packages of the commands in `names` that are not on the PATH."""
    return [HOST_TOOLS[n] for n in names if which(n) is None]


def ensure_tools(names: list[str]) -> int:
    missing = missing_packages(names)
    if not missing:
        return 0
    if os.geteuid() == 0 and is_debian():
        apt_install(*missing)
        return 0
    print(f"Missing on this machine: {', '.join(missing)}. Install them and re-run "
          "(debootstrap is only needed when DJSTACK_IMAGE is not set).", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    if argv[:1] == ["docker"]:
        return ensure()
    if argv[:1] == ["tools"] and set(argv[1:]) <= set(HOST_TOOLS):
        return ensure_tools(argv[1:])
    print(f"usage: python -m tools.host docker | tools {' '.join(sorted(HOST_TOOLS))}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

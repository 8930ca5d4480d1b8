"""Build the local systemd test images (Debian 12 and 13) from debootstrap.

No registry is reachable on our build machines, so images are made from Debian's
mirror and imported with `docker import`. An image carries a label with the hash of
its recipe (package list, suite, the controller's extra CA certificates); it is
rebuilt only when that hash changes or a rebuild is forced.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("systemd", "systemd-sysv", "python3", "sudo", "ca-certificates", "iproute2")
EXTRA_CA_DIR = Path("/usr/local/share/ca-certificates")
IMAGE_REPO = "djstack-systemd"
RECIPE_LABEL = "org.djstack.recipe"
RECIPE_VERSION = "3"


@dataclass(frozen=True)
class Distro:
    name: str
    suite: str

    @property
    def image(self) -> str:
        return f"{IMAGE_REPO}:{self.name}"


DISTROS = {d.name: d for d in (Distro("debian12", "bookworm"), Distro("debian13", "trixie"))}


def extra_ca_certs(ca_dir: Path = EXTRA_CA_DIR) -> list[Path]:
    if not ca_dir.is_dir():
        return []
    return sorted(p for p in ca_dir.rglob("*.crt") if p.is_file())


def recipe_hash(distro: Distro, certs: list[Path]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{RECIPE_VERSION}|{distro.suite}|{MIRROR}|{','.join(PACKAGES)}".encode())
    for cert in certs:
        digest.update(cert.name.encode())
        digest.update(cert.read_bytes())
    return digest.hexdigest()[:16]


def current_label(image: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format",
         f'{{{{ index .Config.Labels "{RECIPE_LABEL}" }}}}', image],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def _run(cmd: list[str], **kwargs: object) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


def _prepare_rootfs(root: Path, certs: list[Path]) -> None:
    # A container has no console or udev; these units only slow boot and spam logs.
    wants = root / "etc/systemd/system"
    for unit in ("getty@tty1.service", "systemd-udevd.service", "systemd-udev-trigger.service",
                 "serial-getty@.service", "console-getty.service"):
        mask = wants / unit
        mask.unlink(missing_ok=True)
        mask.symlink_to("/dev/null")
    (root / "etc/hostname").write_text("djstack\n")
    # Fresh VMs get their machine-id at first boot; so must every container.
    (root / "etc/machine-id").write_text("")
    ca_target = root / "usr/local/share/ca-certificates/djstack-host"
    ca_target.mkdir(parents=True, exist_ok=True)
    for cert in certs:
        shutil.copy2(cert, ca_target / cert.name)
    _run(["chroot", str(root), "update-ca-certificates"], stdout=subprocess.DEVNULL)
    _run(["chroot", str(root), "apt-get", "clean"])
    for cache in ("var/lib/apt/lists", "var/cache/apt/archives"):
        for entry in (root / cache).glob("*"):
            if entry.is_file() and entry.name != "lock":
                entry.unlink()


def build(distro: Distro, certs: list[Path], label: str) -> None:
    if shutil.which("debootstrap") is None:
        sys.exit("debootstrap is missing: install it (apt-get install debootstrap) and retry")
    with tempfile.TemporaryDirectory(prefix=f"djstack-{distro.name}-") as tmp:
        root = Path(tmp) / "rootfs"
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
              distro.suite, str(root), MIRROR], stdout=subprocess.DEVNULL)
        _prepare_rootfs(root, certs)
        tar = subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."],
                               stdout=subprocess.PIPE)
        _run(["docker", "import",
              "--change", f"LABEL {RECIPE_LABEL}={label}",
              "--change", 'CMD ["/lib/systemd/systemd"]',
              "--change", "ENV container=docker",
              "-", distro.image], stdin=tar.stdout)
        if tar.wait() != 0:
            sys.exit(f"tar of the {distro.name} root filesystem failed")


def ensure(names: list[str], force: bool) -> None:
    certs = extra_ca_certs()
    for name in names:
        distro = DISTROS[name]
        label = recipe_hash(distro, certs)
        if not force and current_label(distro.image) == label:
            print(f"{distro.image}: cached (recipe {label})")
            continue
        print(f"{distro.image}: building from {distro.suite} (recipe {label})", flush=True)
        build(distro, certs, label)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("distros", nargs="*", metavar="DISTRO",
                        help=f"one of {sorted(DISTROS)} (default: all)")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args(argv)
    unknown = set(args.distros) - set(DISTROS)
    if unknown:
        parser.error(f"unknown distro {sorted(unknown)}; choose from {sorted(DISTROS)}")
    ensure(args.distros or sorted(DISTROS), args.force)


if __name__ == "__main__":
    main()

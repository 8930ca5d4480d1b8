"""`make demo`: a fresh Debian systemd container as a stand-in VM, provisioned by
`ansible-playbook playbooks/site.yml` over SSH exactly as a real VM would be.

The container only gets what a cloud image gives a new VM (sshd and a sudo user
with our key); everything else is the playbook's job. Re-running re-runs the
playbook against the same host, which is how drift gets corrected.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools import probe

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cache" / "demo"
KEY = STATE / "id_ed25519"
VAULT_PASS = STATE / "vault-pass"
VAULT_FILE = ROOT / "inventory" / "local" / "group_vars" / "local" / "vault.yml"
INVENTORY = ROOT / "inventory" / "local"
CONTAINER = "djstack-demo"
PORTS = {"ssh": (2222, 22), "http": (8080, 80), "https": (8443, 443)}
SYSTEMD_OPTS = [
    "--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
    "--stop-signal", "SIGRTMIN+3",
]
# What cloud-init would have done on a new VM: sshd, a sudo user, our public key.
BOOTSTRAP = """
set -e
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
id deploy >/dev/null 2>&1 || useradd --create-home --shell /bin/bash deploy
echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy
chmod 0440 /etc/sudoers.d/deploy
install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh
cat > /home/deploy/.ssh/authorized_keys
chown deploy:deploy /home/deploy/.ssh/authorized_keys
chmod 0600 /home/deploy/.ssh/authorized_keys
systemctl enable --now ssh >/dev/null 2>&1
"""


@dataclass(frozen=True)
class Host:
    """A systemd container standing in for a VM. `make demo` uses DEMO; the
    bench starts its own (other name, ports, docker limits) so both can coexist."""

    container: str
    hostname: str
    state: Path
    ports: dict[str, tuple[int, int]]
    # Extra `docker run` options, e.g. ("--memory", "512m", "--cpus", "1").
    docker_args: tuple[str, ...] = field(default=())

    @property
    def key(self) -> Path:
        return self.state / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.state / "known_hosts"


DEMO = Host(CONTAINER, "demo", STATE, PORTS)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, check=True, **kwargs)  # type: ignore[call-overload]


def container_running(host: Host = DEMO) -> bool:
    probe = subprocess.run(["docker", "inspect", "--format", "{{.State.Running}}", host.container],
                           capture_output=True, text=True, check=False)
    return probe.returncode == 0 and probe.stdout.strip() == "true"


def ensure_key(host: Host = DEMO) -> None:
    host.state.mkdir(parents=True, exist_ok=True)
    if not host.key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host.container, "-f", str(host.key)])


def start_host(image: str, host: Host = DEMO, reuse: bool = True) -> None:
    if reuse and container_running(host) and ssh_answers(host):
        print(f"Host {host.container} is up; re-running the playbook against it.")
        return
    subprocess.run(["docker", "rm", "-f", host.container], capture_output=True, check=False)
    host.known_hosts.unlink(missing_ok=True)
    publish = [arg for outside, inside in host.ports.values()
               for arg in ("-p", f"127.0.0.1:{outside}:{inside}")]
    print(f"Starting a fresh {image} host {host.container} ...", flush=True)
    run(["docker", "run", "-d", "--name", host.container, "--hostname", host.hostname, *SYSTEMD_OPTS,
         *host.docker_args, *publish, image, "/lib/systemd/systemd"], stdout=subprocess.DEVNULL)
    wait_for(lambda: systemd_booted(host), "systemd to boot", 60)
    run(["docker", "exec", "-i", host.container, "bash", "-c", BOOTSTRAP],
        input=(host.key.with_suffix(".pub")).read_text())
    wait_for(lambda: ssh_answers(host), "sshd", 60)


def systemd_booted(host: Host = DEMO) -> bool:
    state = subprocess.run(["docker", "exec", host.container, "systemctl", "is-system-running"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return state in ("running", "degraded")


def ssh_answers(host: Host = DEMO) -> bool:
    return subprocess.run(
        ["ssh", "-i", str(host.key), "-p", str(host.ports["ssh"][0]), "-o", "BatchMode=yes",
         "-o", f"UserKnownHostsFile={host.known_hosts}", "-o", "StrictHostKeyChecking=accept-new",
         "-o", "ConnectTimeout=5", "deploy@127.0.0.1", "true"],
        capture_output=True, check=False).returncode == 0


def wait_for(check, what: str, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    sys.exit(f"Timed out after {timeout_s:.0f}s waiting for {what}.")


def ensure_vault(vault_pass: Path = VAULT_PASS, vault_file: Path = VAULT_FILE) -> None:
    """The demo's secrets live in an ansible-vault file like a real environment's;
    its password stays in .cache/, out of the repository."""
    vault_pass.parent.mkdir(parents=True, exist_ok=True)
    if not vault_pass.exists():
        # Owner-only from its first byte: never readable by others, not even briefly.
        fd = os.open(vault_pass, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        vault_file.unlink(missing_ok=True)
    if vault_file.exists():
        return
    vault_file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False, dir=vault_pass.parent) as plain:
        plain.write(f"---\nvault_django_app_secret_key: {secrets.token_urlsafe(50)}\n")
    try:
        run(["ansible-vault", "encrypt", "--vault-password-file", str(vault_pass),
             "--output", str(vault_file), plain.name], stdout=subprocess.DEVNULL)
    finally:
        os.unlink(plain.name)


def playbook(extra: list[str]) -> float:
    cmd = ["ansible-playbook", "-i", str(INVENTORY), "--vault-password-file", str(VAULT_PASS),
           str(ROOT / "playbooks" / "site.yml"), *extra]
    print("+", shlex.join(cmd), flush=True)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"ansible-playbook failed (exit {proc.returncode}) after {elapsed:.0f}s.")
    return elapsed


def up(image: str, extra: list[str]) -> None:
    ensure_key()
    start_host(image)
    ensure_vault()
    seconds = playbook(extra)
    url = f"https://localhost:{PORTS['https'][0]}/"
    status, release = probe.readyz(url)
    if found := probe.problems(url, f"http://localhost:{PORTS['http'][0]}/"):
        sys.exit("The demo site answers but a browser would trip over:\n  " + "\n  ".join(found))
    # The demo inventory seeds sample products (django_app_manage_commands): an empty
    # catalog means the seeding did not happen.
    if not (listed := probe.products_listed(url)):
        sys.exit(f"The demo site answers but {url}products/ lists no products.")
    print(f"\nThe demo site is up: {url}  (self-signed certificate)\n"
          f"  deployed: app/ as release {release} (/readyz answered {status}), {listed} products listed\n"
          f"  host: {CONTAINER} ({image}), ssh -p {PORTS['ssh'][0]} -i {KEY.relative_to(ROOT)} deploy@127.0.0.1\n"
          f"  ansible-playbook took {seconds:.0f}s\n"
          f"Re-run `make demo` to correct drift; `make demo-down` removes the host.")


def down(host: Host = DEMO) -> None:
    subprocess.run(["docker", "rm", "-f", host.container], capture_output=True, check=False)
    host.known_hosts.unlink(missing_ok=True)
    print(f"Removed {host.container}.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--image", default=os.environ.get("DJSTACK_IMAGE", "djstack-systemd:debian12"))
    parser.add_argument("ansible_args", nargs="*", help="extra ansible-playbook arguments")
    args = parser.parse_args(argv)
    if args.action == "up":
        up(args.image, args.ansible_args)
    else:
        down()


if __name__ == "__main__":
    main()

"""The bench host: a container like `make demo`'s, under its own name and ports and
with VM-sized docker limits, provisioned by playbooks/site.yml over SSH.

Load generators run on the controller inside the container's network namespace
(nsenter -n): they reach the stack on its own loopback, with no docker-proxy or
bridge in the path, while their CPU is not charged to the container's 1-CPU limit.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tools import demo

ROOT = demo.ROOT
STATE = ROOT / ".cache" / "bench"
INVENTORY = STATE / "inventory"
VAULT_PASS = STATE / "vault-pass"
VAULT_FILE = INVENTORY / "group_vars" / "local" / "vault.yml"
MEMORY_LIMIT = "512m"
CPU_LIMIT = "1"
# Ports apart from the demo's (2222/8080/8443) and Molecule's (none published).
HOST = demo.Host(
    container="djstack-bench",
    hostname="bench",
    state=STATE,
    ports={"ssh": (2223, 22), "https": (8444, 443)},
    docker_args=("--memory", MEMORY_LIMIT, "--cpus", CPU_LIMIT),
)
# Bench-only settings on top of the stack's defaults: name -> (value, why).
OVERRIDES: dict[str, tuple[object, str]] = {
    "site_domain": ("localhost", "the load generators ask for https://localhost/"),
    "django_app_env": ({"DJANGO_CACHE_BYPASS_ALLOWED": True}, "?nocache=1 measures the uncached product list"),
    "nginx_rate_limit_enabled": (False, "the per-address limit (10 r/s) would measure the limiter: every "
                                        "request of the load generator comes from one address"),
}


def vars_text(overrides: dict[str, tuple[object, str]] = OVERRIDES) -> str:
    """group_vars of the bench inventory (JSON values are YAML too)."""
    lines = ["---", "# Written by `make bench` (bench/host.py); not the demo's inventory."]
    for name, (value, why) in overrides.items():
        lines += [f"# {why}", f"{name}: {json.dumps(value)}"]
    return "\n".join(lines) + "\n"


def inventory_text(host: demo.Host = HOST) -> str:
    ssh_args = f"-o UserKnownHostsFile={host.known_hosts} -o StrictHostKeyChecking=accept-new"
    return f"""\
---
all:
  children:
    local:
      hosts:
        bench:
          ansible_host: 127.0.0.1
          ansible_port: {host.ports["ssh"][0]}
          ansible_user: deploy
          ansible_ssh_private_key_file: {host.key}
          ansible_ssh_common_args: "{ssh_args}"
    web:
      hosts:
        bench:
    app:
      hosts:
        bench:
    cache:
      hosts:
        bench:
"""


def write_inventory() -> None:
    (INVENTORY / "group_vars" / "local").mkdir(parents=True, exist_ok=True)
    (INVENTORY / "hosts.yml").write_text(inventory_text())
    (INVENTORY / "group_vars" / "local" / "main.yml").write_text(vars_text())
    demo.ensure_vault(VAULT_PASS, VAULT_FILE)


@dataclass
class PlaybookRun:
    seconds: float
    returncode: int
    output: str


class BenchHost:
    def __init__(self, image: str, host: demo.Host = HOST) -> None:
        self.image = image
        self.host = host
        self._pid: int | None = None

    @property
    def name(self) -> str:
        return self.host.container

    def start(self) -> float:
        """A fresh container every time: the first playbook run must meet a new host."""
        demo.ensure_key(self.host)
        started = time.monotonic()
        demo.start_host(self.image, self.host, reuse=False)
        write_inventory()
        return time.monotonic() - started

    def remove(self) -> None:
        demo.down(self.host)

    def playbook(self, log: Path, extra: list[str] | None = None, playbook: str = "site.yml") -> PlaybookRun:
        """A playbook (site.yml by default) with per-task timing; output goes to the terminal and to `log`."""
        cmd = ["ansible-playbook", "-i", str(INVENTORY), "--vault-password-file", str(VAULT_PASS),
               str(ROOT / "playbooks" / playbook), *(extra or [])]
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks,djstack.stack.drift",
                   ANSIBLE_FORCE_COLOR="0")
        print("+", shlex.join(cmd), flush=True)
        log.parent.mkdir(parents=True, exist_ok=True)
        lines: list[str] = []
        started = time.monotonic()
        with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) as proc, log.open("w") as sink:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                sink.write(line)
                lines.append(line)
        return PlaybookRun(time.monotonic() - started, proc.returncode, "".join(lines))

    def pid(self) -> int:
        """PID (on the controller) of the container's init: the handle for nsenter."""
        if self._pid is None:
            self._pid = int(subprocess.run(["docker", "inspect", "--format", "{{.State.Pid}}", self.name],
                                           capture_output=True, text=True, check=True).stdout)
        return self._pid

    def container_id(self) -> str:
        return subprocess.run(["docker", "inspect", "--format", "{{.Id}}", self.name],
                              capture_output=True, text=True, check=True).stdout.strip()

    def sh(self, script: str, check: bool = True, timeout: float = 120) -> str:
        """A shell script inside the container, as root; its stdout."""
        proc = subprocess.run(["docker", "exec", self.name, "bash", "-c", script], capture_output=True,
                              text=True, check=False, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"in {self.name}: {script!r} exited {proc.returncode}: {proc.stderr.strip()}")
        return proc.stdout

    def put(self, path: str, text: str, mode: str = "0644") -> None:
        subprocess.run(["docker", "exec", "-i", self.name, "bash", "-c",
                        f"install -D -m {mode} /dev/stdin {shlex.quote(path)}"],
                       input=text, text=True, check=True)

    def netns_background(self, cmd: list[str]) -> subprocess.Popen[str]:
        """The same, left running: the caller stops it (wrk prints its summary on SIGINT)."""
        return subprocess.Popen(["nsenter", "-t", str(self.pid()), "-n", *cmd], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)

    def netns(self, cmd: list[str], timeout: float, check: bool = False) -> subprocess.CompletedProcess[str]:
        """A controller command inside the container's network namespace only."""
        return subprocess.run(["nsenter", "-t", str(self.pid()), "-n", *cmd], capture_output=True,
                              stdin=subprocess.DEVNULL, text=True, check=check, timeout=timeout)

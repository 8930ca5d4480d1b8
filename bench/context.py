"""What every section gets: the host, the bench's settings, and helpers that keep
each raw output (wrk, probes) next to the results for later inspection."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import wrk
from bench.host import BenchHost

SITE = "https://localhost"  # nginx's server_name on the bench host (site_domain: localhost)
# Django's HTTPS redirect is on; behind nginx every request carries this header, so the
# servers measured without nginx get it too and answer instead of redirecting.
PROXIED = {"X-Forwarded-Proto": "https"}


@dataclass
class Settings:
    seconds: int = 10  # each measured wrk run
    warmup_seconds: int = 2  # an unrecorded run before each target's first measurement
    static_connections: int = 64
    # Static runs alternate the servers this many times: nginx runs vary more between
    # 10-second runs than the stack differs from its ceiling.
    static_repeats: int = 2
    dynamic_connections: tuple[int, ...] = (1, 16, 64)
    memory_load_seconds: int = 30
    memory_load_connections: int = 64
    memory_sample_every_s: float = 5.0
    products: int = 200  # seed_products N


@dataclass
class Context:
    host: BenchHost
    raw: Path
    settings: Settings = field(default_factory=Settings)
    # What the runner learns on the way: the host's start time, the hashed static names.
    facts: dict[str, Any] = field(default_factory=dict)

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    def keep(self, name: str, text: str) -> None:
        self.raw.mkdir(parents=True, exist_ok=True)
        (self.raw / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.txt").write_text(text)

    def wrk(self, name: str, url: str, connections: int, seconds: int,
            headers: dict[str, str] | None = None) -> dict[str, Any]:
        cmd = wrk.command(url, connections, seconds, headers)
        self.log(f"{name}: {' '.join(cmd)}")
        proc = self.host.netns(cmd, timeout=seconds + 60)
        self.keep(f"wrk-{name}", proc.stdout + proc.stderr)
        if proc.returncode != 0:
            raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
        return wrk.parse(proc.stdout).to_dict()

    def warm(self, url: str, connections: int, headers: dict[str, str] | None = None) -> None:
        if self.settings.warmup_seconds > 0:
            self.host.netns(wrk.command(url, connections, self.settings.warmup_seconds, headers),
                            timeout=self.settings.warmup_seconds + 60)

    def fetch(self, name: str, url: str, headers: dict[str, str] | None = None) -> str:
        """One GET over HTTP/1.1 (as wrk speaks it); the response head, body discarded."""
        cmd = ["curl", "-sk", "--http1.1", "--max-time", "30", "-o", "/dev/null", "-D", "-"]
        for key, value in (headers or {}).items():
            cmd += ["-H", f"{key}: {value}"]
        proc = self.host.netns([*cmd, url], timeout=60)
        self.keep(f"head-{name}", proc.stdout + proc.stderr)
        return proc.stdout

    def controller(self, cmd: list[str]) -> str:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return (proc.stdout or proc.stderr).strip()

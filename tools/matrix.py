"""Run Molecule scenarios across the distro matrix, a few at a time.

Each (scenario, distro) pair gets its own instance name and Molecule ephemeral
directory, so pairs run side by side without touching each other. Output goes to
one log per pair; a failure prints that log's tail. The last line is a plain
`N passed, N failed` summary that CI reads.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools.images import DISTROS

ROOT = Path(__file__).resolve().parent.parent
MOLECULE_DIR = ROOT / "molecule"
BASE_CONFIG = ROOT / ".config" / "molecule" / "config.yml"
TAIL_LINES = 80


@dataclass(frozen=True)
class Job:
    scenario: str
    distro: str

    @property
    def name(self) -> str:
        return f"{self.scenario}@{self.distro}"


@dataclass
class Outcome:
    job: Job
    ok: bool
    seconds: float
    log: Path


def discover_scenarios(molecule_dir: Path = MOLECULE_DIR) -> list[str]:
    return sorted(p.parent.name for p in molecule_dir.glob("*/molecule.yml"))


def _header(scenario: str, key: str, molecule_dir: Path | None) -> str | None:
    """The value of a `# djstack-<key>: <value>` line at the top of a scenario's molecule.yml."""
    text = ((molecule_dir or MOLECULE_DIR) / scenario / "molecule.yml").read_text()
    for line in text.splitlines():
        if line.startswith(f"# djstack-{key}:"):
            return line.split(":", 1)[1].strip()
    return None


def scenario_weight(scenario: str, molecule_dir: Path | None = None) -> int:
    """A scenario may declare `# djstack-weight: N` (its rough minutes) so the
    longest ones start first and the pool finishes together."""
    return int(_header(scenario, "weight", molecule_dir) or 1)


def scenario_split_distro(scenario: str, molecule_dir: Path | None = None) -> str | None:
    """A scenario may declare `# djstack-split-distro: debianNN`: the distro CI's split gives it,
    outside the turns the others take (so adding it moves none of them)."""
    return _header(scenario, "split-distro", molecule_dir)


def scenario_memory(scenario: str, molecule_dir: Path | None = None) -> str:
    """A scenario may declare `# djstack-memory: 1g`, the container's memory limit (the
    shared platform's `memory`, DJSTACK_MEMORY): for roles sized from the host's limits.
    "0" is docker's "no limit"."""
    return _header(scenario, "memory", molecule_dir) or "0"


def scenario_platforms(scenario: str, molecule_dir: Path | None = None,
                       base_config: Path = BASE_CONFIG) -> list[dict] | None:
    """The platforms of a scenario with more than one host, or None for the shared one alone.

    Such a scenario lists its hosts in `platforms.yml` next to its molecule.yml: each entry
    names a `host` and the keys it sets on top of the shared platform of
    .config/molecule/config.yml (a key given replaces the shared one, lists too, as Molecule
    merges). Each host is the shared platform named `<shared name>-<host>`: the same
    systemd container, so one set of container options serves every scenario. Molecule
    replaces lists whole, so a scenario's own `platforms:` could only repeat them."""
    path = (molecule_dir or MOLECULE_DIR) / scenario / "platforms.yml"
    if not path.exists():
        return None
    shared = yaml.safe_load(base_config.read_text())["platforms"][0]
    platforms = []
    for entry in yaml.safe_load(path.read_text()):
        extra = dict(entry)
        host = extra.pop("host")
        platforms.append({**copy.deepcopy(shared), **extra, "name": f"{shared['name']}-{host}"})
    return platforms


class _QuotingDumper(yaml.SafeDumper):
    """Strings double-quoted: Molecule substitutes `${VAR}` in the text before parsing it, so a
    value such as "${DJSTACK_MEMORY:-0}" must stay a string once it reads "0"."""


_QuotingDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"'))


def base_configs(job: Job, log_dir: Path, molecule_dir: Path | None = None,
                 base_config: Path = BASE_CONFIG) -> list[str]:
    """Molecule's `-c` options for a job: the shared config, then the scenario's platforms."""
    platforms = scenario_platforms(job.scenario, molecule_dir, base_config)
    if platforms is None:
        return []
    extra = log_dir / "ephemeral" / f"{job.scenario}-{job.distro}.platforms.yml"
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(yaml.dump({"platforms": platforms}, Dumper=_QuotingDumper, sort_keys=False))
    return ["-c", str(base_config), "-c", str(extra)]


def plan(scenarios: Sequence[str], distros: Sequence[str], split: bool = False) -> list[Job]:
    """Every scenario on every distro; or, with `split`, each scenario once, the distros
    taken in turn down the scenarios by weight, so every distro gets its share of the
    heavy ones and all are covered (CI's time budget; `make test-all` runs them all)."""
    ordered = sorted(scenarios, key=lambda s: (-scenario_weight(s), s))
    if split:
        pinned = {s: scenario_split_distro(s) for s in ordered}
        pinned = {s: d for s, d in pinned.items() if d in distros}
        turns = [s for s in ordered if s not in pinned]
        jobs = [Job(s, distros[i % len(distros)]) for i, s in enumerate(turns)]
        jobs += [Job(s, d) for s, d in pinned.items()]
    else:
        jobs = [Job(s, d) for s in ordered for d in distros]
    return sorted(jobs, key=lambda j: (-scenario_weight(j.scenario), j.scenario, j.distro))


def scenario_network(distro: str) -> str:
    """The /24 (its first three octets, DJSTACK_NET) where a scenario of several hosts gives
    them fixed addresses, as a cluster's inventory names its hosts' private addresses: one
    per distro (debian12: 10.213.12), so both distros' runs of a scenario can run at once."""
    return "10.213." + "".join(ch for ch in distro if ch.isdigit())


def job_env(job: Job, log_dir: Path, image: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["DJSTACK_DISTRO"] = job.distro
    env["DJSTACK_NET"] = scenario_network(job.distro)
    env["DJSTACK_MEMORY"] = scenario_memory(job.scenario)
    env["DJSTACK_IMAGE"] = image or DISTROS[job.distro].image
    env["MOLECULE_EPHEMERAL_DIRECTORY"] = str(log_dir / "ephemeral" / f"{job.scenario}-{job.distro}")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["PY_COLORS"] = "0"
    env["NO_COLOR"] = "1"
    return env


_print_lock = threading.Lock()


def say(message: str) -> None:
    with _print_lock:
        print(message, flush=True)


def run_job(job: Job, log_dir: Path, image: str | None, command: str) -> Outcome:
    log = log_dir / f"{job.scenario}-{job.distro}.log"
    say(f"[start] {job.name}")
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "molecule", *base_configs(job, log_dir), command, "-s", job.scenario],
            cwd=ROOT, env=job_env(job, log_dir, image), stdout=out, stderr=subprocess.STDOUT,
            check=False,
        )
    outcome = Outcome(job, proc.returncode == 0, time.monotonic() - started, log)
    status = "pass" if outcome.ok else "FAIL"
    say(f"[{status}] {job.name} in {outcome.seconds:.0f}s (log: {log.relative_to(ROOT)})")
    if not outcome.ok:
        tail = log.read_text(errors="replace").splitlines()[-TAIL_LINES:]
        say("\n".join(f"  | {line}" for line in tail))
    return outcome


def summary(outcomes: Sequence[Outcome], wall: float) -> str:
    width = max((len(o.job.name) for o in outcomes), default=10)
    lines = ["", "Molecule matrix:"]
    for o in sorted(outcomes, key=lambda o: o.job.name):
        lines.append(f"  {o.job.name:<{width}}  {'passed' if o.ok else 'FAILED':<6}  {o.seconds:6.0f}s")
    passed = sum(o.ok for o in outcomes)
    lines.append(f"  wall time {wall:.0f}s")
    lines.append(f"{passed} passed, {len(outcomes) - passed} failed")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenario", "-s", action="append",
                        help="scenario to run (repeatable; default: all in molecule/)")
    parser.add_argument("--distro", "-d", action="append", help="debian12 and/or debian13 (default: both)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="pairs run at once")
    parser.add_argument("--split", action="store_true",
                        help="each scenario once, on the distros in turn (default: each on every distro)")
    parser.add_argument("--image", help="systemd image for every pair (overrides the distro's local image)")
    parser.add_argument("--command", default="test", help="molecule command (test, converge, verify, destroy)")
    parser.add_argument("--log-dir", type=Path, default=ROOT / ".cache" / "molecule-logs")
    args = parser.parse_args(argv)

    known = discover_scenarios()
    scenarios = args.scenario or known
    unknown = sorted(set(scenarios) - set(known))
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}; known: {known}")
    distros = args.distro or sorted(DISTROS)
    unknown_distros = sorted(set(distros) - set(DISTROS))
    if unknown_distros:
        parser.error(f"unknown distro(s) {unknown_distros}; known: {sorted(DISTROS)}")
    args.log_dir.mkdir(parents=True, exist_ok=True)

    jobs = plan(scenarios, sorted(distros), split=args.split)
    say(f"Running {len(jobs)} scenario runs, {args.jobs} at a time: {', '.join(j.name for j in jobs)}")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda j: run_job(j, args.log_dir, args.image, args.command), jobs))
    say(summary(outcomes, time.monotonic() - started))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

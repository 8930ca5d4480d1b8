"""The host lock covers every run that changes the host: a second site.yml or a deploy
is refused before it changes anything, naming the holder; a lock left by a run of
this controller that is over is taken over; the lock is gone when a run ends."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from djstack_testlib.site import ROOT, Run, run_site

LOCK = "/run/lock/djstack.lock"
DEPLOY = ROOT / "playbooks" / "deploy.yml"
# Drift in the base tier's and the web tier's files: a refused run must leave it,
# a run that goes ahead repairs it.
TAMPERED = ("/etc/nftables.conf", "/etc/nginx/sites-enabled/demo.conf")
MARK = "# drift: edited while locked"
FOREIGN = {"token": "token-of-alice", "owner": "alice on laptop (Site)", "since": "2026-12-02T08:00:00Z",
           "run": "laptop:4242:1"}


@dataclass
class Locked:
    site: Run
    deploy: Run
    tampered_after: dict[str, bool]
    took_over: Run
    concurrent_deploy: Run
    lock_after: bool
    tampered_after_takeover: dict[str, bool]


def _write_lock(host, claim: dict) -> None:
    host.check_output(f"printf '%s' '{json.dumps(claim)}' > {LOCK} && chmod 0600 {LOCK}")


def _marked(host) -> dict[str, bool]:
    return {path: MARK in host.file(path).content_string for path in TAMPERED}


def _finished_run() -> str:
    """The name of a run of this controller whose process is gone (a run that failed)."""
    child = subprocess.Popen(["sleep", "60"])
    ticks = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    child.kill()
    child.wait()
    return f"{socket.gethostname()}:{child.pid}:{ticks}"


@pytest.fixture(scope="module")
def locked(host) -> Locked:
    for path in TAMPERED:
        host.check_output(f"echo '{MARK}' >> {path}")
    _write_lock(host, FOREIGN)
    site = run_site()
    deploy = run_site(playbook=DEPLOY)
    tampered_after = _marked(host)

    # The same lock, left by a run of this controller that failed: the next run goes ahead.
    dead = _finished_run()
    _write_lock(host, dict(FOREIGN, token="token-of-a-failed-run", owner="a run that failed (Site)", run=dead))
    runs: list[Run] = []
    background = threading.Thread(target=lambda: runs.append(run_site()))
    background.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and dead in host.run(f"cat {LOCK}").stdout:
        time.sleep(0.5)
    # Taken over by the site run and held for its whole length: a deploy now is refused.
    concurrent_deploy = run_site(playbook=DEPLOY)
    background.join()
    return Locked(site, deploy, tampered_after, runs[0], concurrent_deploy,
                  host.file(LOCK).exists, _marked(host))


def test_site_is_refused_naming_the_holder(locked):
    assert locked.site.rc != 0
    assert "another run holds the host lock /run/lock/djstack.lock: alice on laptop (Site)" in locked.site.output


def test_a_refused_site_changes_nothing(locked):
    assert locked.site.recap()["changed"] == 0, locked.site.changed_tasks()
    assert all(locked.tampered_after.values()), locked.tampered_after


def test_deploy_is_refused_naming_the_holder(locked):
    assert locked.deploy.rc != 0
    assert "alice on laptop (Site)" in locked.deploy.output
    assert locked.deploy.recap()["changed"] == 0, locked.deploy.changed_tasks()


def test_a_lock_left_by_a_finished_run_of_this_controller_is_taken_over(locked):
    assert locked.took_over.rc == 0, locked.took_over.output[-5000:]
    assert "that run is over" in locked.took_over.output


def test_the_run_that_took_over_repairs_every_tier(locked):
    assert not any(locked.tampered_after_takeover.values()), locked.tampered_after_takeover


def test_a_deploy_during_a_site_run_is_refused(locked):
    assert locked.concurrent_deploy.rc != 0
    # The holder is the site run that took over, named by its controller and play.
    assert f"on {socket.gethostname()} (Site) since" in locked.concurrent_deploy.output


def test_no_lock_is_left_after_the_run(locked):
    assert not locked.lock_after

"""The sample app's service tests fail, never skip, when their service is missing:
a CI run without memcached must not pass by skipping the cache tests."""

from __future__ import annotations

import os
import subprocess
import sys

from tools.collection import ROOT


def test_memcached_tests_fail_without_memcached_whatever_ci_says() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    # Only the venv on PATH: no memcached binary to be found.
    env["PATH"] = os.path.dirname(sys.executable)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_memcached.py"],
                         cwd=ROOT / "app", env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "memcached is not installed" in run.stdout
    assert " skipped" not in run.stdout.splitlines()[-1]

"""The live release's static files stay whole and present while site.yml and deploy.yml run.

On a host serving release s1 (a copy of the sample app), a site.yml run that keeps s1
and a deploy.yml run of s2 (its CSS changed, so its hashed names change) happen while
a load generator fetches every static file s1 references (its manifest: the names its
pages link and the plain names), with and without Accept-Encoding: gzip, through nginx.
nginx keeps recently opened files open (open_file_cache), which hides most of the moments
a file is missing from such a load; so the runs are also watched on the file system
itself (inotify): a live file may appear only by rename, never be deleted or written.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from djstack_testlib import load, nginx
from djstack_testlib.site import ROOT, Run, run_site

DOMAIN = "demo.localhost"
APP_ROOT = "/srv/demo"
STATIC = f"{APP_ROOT}/shared/static"
DEPLOY = ROOT / "playbooks" / "deploy.yml"
SITE_CSS = "catalog/css/site.css"
VARIANTS = [{}, {"Accept-Encoding": "gzip"}]
IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", "staticfiles", "staticfiles.json", "media",
                                "db.sqlite3*", "RELEASE", "*.env", ".venv")

WATCH_UNIT = "djstack-static-watch"
WATCH_RESULT = "/run/djstack-static-watch.json"
WATCH_READY = "/run/djstack-static-watch.ready"
WATCH_STOP = "/run/djstack-static-watch.stop"

# Runs with the host's python3 (stdlib and ctypes only): inotify on every directory of the
# live static root. A file may arrive by rename (IN_MOVED_TO); being created, written,
# deleted or moved away in place means a reader could meet it absent or half-written.
_WATCHER = r"""
import ctypes, ctypes.util, json, os, select, struct, sys

root, result, ready, stop = sys.argv[1:5]
libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x2, 0x40, 0x80, 0x100, 0x200
IN_Q_OVERFLOW, IN_ISDIR = 0x4000, 0x40000000
NAMES = {IN_MODIFY: "written", IN_MOVED_FROM: "moved away", IN_CREATE: "created", IN_DELETE: "deleted"}
MASK = IN_MODIFY | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
fd = libc.inotify_init1(os.O_NONBLOCK)
dirs = {}


def watch(path):
    wd = libc.inotify_add_watch(fd, path.encode(), MASK)
    if wd < 0:
        raise OSError(ctypes.get_errno(), path)
    dirs[wd] = path


for directory, subdirs, _files in os.walk(root):
    watch(directory)
open(ready, "w").close()
tally = {"forbidden": [], "forbidden_count": 0, "renamed_in": [], "overflow": False}
while True:
    stopping = os.path.exists(stop)
    if select.select([fd], [], [], 0.2)[0]:
        buf = os.read(fd, 1 << 16)
        offset = 0
        while offset < len(buf):
            wd, mask, _cookie, size = struct.unpack_from("iIII", buf, offset)
            name = buf[offset + 16:offset + 16 + size].rstrip(b"\0").decode()
            offset += 16 + size
            if mask & IN_Q_OVERFLOW:
                tally["overflow"] = True
                continue
            path = os.path.relpath(os.path.join(dirs.get(wd, "?"), name), root)
            if mask & IN_ISDIR:
                if mask & IN_CREATE:  # a new directory: empty at first, then filled by renames
                    watch(os.path.join(dirs[wd], name))
                continue
            if mask & IN_MOVED_TO:
                tally["renamed_in"].append(path)
                continue
            what = next(label for bit, label in NAMES.items() if mask & bit)
            tally["forbidden_count"] += 1
            if len(tally["forbidden"]) < 50:
                tally["forbidden"].append(f"{what}: {path}")
    elif stopping:
        break
with open(result + ".tmp", "w") as out:
    json.dump(tally, out)
os.replace(result + ".tmp", result)
"""


@dataclass
class Watch:
    forbidden: list[str]
    forbidden_count: int
    renamed_in: list[str]
    overflow: bool


def _watch_start(host) -> None:
    host.run(f"rm -f {WATCH_RESULT} {WATCH_READY} {WATCH_STOP}; systemctl reset-failed {WATCH_UNIT} 2>/dev/null")
    host.check_output(f"systemd-run --unit {WATCH_UNIT} --collect --quiet /usr/bin/python3 -c "
                      f"{shlex.quote(_WATCHER)} {STATIC} {WATCH_RESULT} {WATCH_READY} {WATCH_STOP}")
    deadline = time.monotonic() + 60
    while not host.file(WATCH_READY).exists:
        assert time.monotonic() < deadline, host.run(f"journalctl -u {WATCH_UNIT} -o cat").stdout
        time.sleep(0.5)


def _watch_stop(host) -> Watch:
    host.check_output(f"touch {WATCH_STOP}")
    deadline = time.monotonic() + 60
    while not host.file(WATCH_RESULT).exists:
        assert time.monotonic() < deadline, host.run(f"journalctl -u {WATCH_UNIT} -o cat").stdout
        time.sleep(0.5)
    return Watch(**json.loads(host.file(WATCH_RESULT).content_string))


@dataclass
class Observed:
    """One run, and what the users and the file system saw meanwhile."""

    run: Run
    tally: load.Tally
    watch: Watch
    before: dict[str, list[str]] = field(default_factory=dict)
    after: dict[str, list[str]] = field(default_factory=dict)


def _version(base: Path, name: str) -> Path:
    """A copy of the sample app whose CSS differs: its own revision and hashed names."""
    tree = base / name
    shutil.copytree(ROOT / "app", tree, ignore=IGNORE)
    with (tree / "catalog" / "static" / SITE_CSS).open("a") as css:
        css.write(f"\n/* {name} */\n")
    return tree


def _manifest(host, release: str) -> dict[str, str]:
    return json.loads(host.file(f"{APP_ROOT}/releases/{release}/staticfiles.json").content_string)["paths"]


def _serving(host) -> str:
    return nginx.request(host, "/readyz", host_header=DOMAIN).header("X-App-Release")


def _stats(host) -> dict[str, list[str]]:
    """Inode and mtime of every live static file, by path."""
    out = host.check_output(f"cd {STATIC} && find . -type f -printf '%P %i %T@\\n'")
    return {path: [inode, mtime] for path, inode, mtime in (line.rsplit(" ", 2) for line in out.splitlines())}


@dataclass
class Story:
    s1: str = ""
    s2: str = ""
    files: list[str] = field(default_factory=list)
    hashed: list[str] = field(default_factory=list)
    runs: dict[str, Observed] = field(default_factory=dict)


def _observe(host, story: Story, *args: str, playbook: Path) -> Observed:
    paths = [f"/static/{name}" for name in story.files]
    before = _stats(host)
    _watch_start(host)
    # Static files are not rate-limited: two users, each fetching as fast as they get answers.
    load.start(host, DOMAIN, paths, connections=2, pause=0.01, max_seconds=1800, variants=VARIANTS)
    try:
        run = run_site(*args, playbook=playbook)
    finally:
        tally = load.stop(host)
        watch = _watch_stop(host)
    return Observed(run, tally, watch, before, _stats(host))


@pytest.fixture(scope="module")
def story(host, tmp_path_factory) -> Story:
    base = tmp_path_factory.mktemp("static-versions")
    s = Story()
    s1 = _version(base, "s1")
    run = run_site("-e", f"django_app_local_path={s1}", playbook=DEPLOY)
    assert run.rc == 0, run.output[-4000:]
    s.s1 = _serving(host)
    manifest = _manifest(host, s.s1)
    s.hashed = sorted(set(manifest.values()))
    s.files = sorted(set(manifest) | set(s.hashed))

    s.runs["site"] = _observe(host, s, "-e", f"django_app_local_path={s1}", playbook=ROOT / "playbooks" / "site.yml")
    assert s.runs["site"].run.rc == 0, s.runs["site"].run.output[-4000:]
    s.runs["deploy"] = _observe(host, s, "-e", f"django_app_local_path={_version(base, 's2')}", playbook=DEPLOY)
    assert s.runs["deploy"].run.rc == 0, s.runs["deploy"].run.output[-4000:]
    s.s2 = _serving(host)
    return s


@pytest.mark.parametrize("name", ["site", "deploy"])
def test_every_static_file_of_the_live_release_answers_200_during_the_run(story, name):
    tally = story.runs[name].tally
    assert tally.requests >= 2 * len(story.files), tally.requests
    assert (tally.errors, tally.failures) == ({}, {})
    assert tally.statuses == {"200": tally.requests}


@pytest.mark.parametrize("name", ["site", "deploy"])
def test_a_hashed_file_always_sends_the_same_bytes_during_the_run(story, name):
    """A content-hashed name never changes content: a second body would be a half-written file."""
    bodies = story.runs[name].tally.bodies
    hashed = [f"/static/{n} {v}" for n in story.hashed for v in range(len(VARIANTS))]
    assert {k: bodies.get(k) for k in hashed if len(bodies.get(k, [])) != 1} == {}


@pytest.mark.parametrize("name", ["site", "deploy"])
def test_no_live_static_file_is_deleted_or_written_in_place(story, name):
    watch = story.runs[name].watch
    assert not watch.overflow
    assert (watch.forbidden_count, watch.forbidden) == (0, [])


@pytest.mark.parametrize("name", ["site", "deploy"])
def test_live_files_the_run_does_not_change_are_left_untouched(story, name):
    """Same inode and mtime for every file of s1 with a hashed name and its gzip copy
    (their content cannot change)."""
    observed = story.runs[name]
    mine = {n for n in observed.before if n in story.hashed or n.removesuffix(".gz") in story.hashed}
    touched = {n: (observed.before[n], observed.after.get(n)) for n in sorted(mine)
               if observed.after.get(n) != observed.before[n]}
    assert len(mine) >= len(story.hashed)
    assert touched == {}


def test_the_deploy_puts_its_changed_css_in_place_by_rename(story, host):
    new = _manifest(host, story.s2)[SITE_CSS]
    assert new != _manifest(host, story.s1)[SITE_CSS]
    assert {new, SITE_CSS} <= set(story.runs["deploy"].watch.renamed_in)


def test_the_new_release_hashed_css_is_served(story, host):
    response = nginx.request(host, f"/static/{_manifest(host, story.s2)[SITE_CSS]}", host_header=DOMAIN)
    assert response.status == 200
    assert b"/* s2 */" in response.body


def test_the_previous_release_hashed_css_is_still_served_after_the_deploy(story, host):
    response = nginx.request(host, f"/static/{_manifest(host, story.s1)[SITE_CSS]}", host_header=DOMAIN)
    assert response.status == 200
    assert b"/* s1 */" in response.body


def test_published_files_are_root_owned_and_readable_by_all(story, host):
    css = host.file(f"{STATIC}/{_manifest(host, story.s2)[SITE_CSS]}")
    assert (css.user, css.group, css.mode) == ("root", "root", 0o644)


def test_no_staging_directory_is_left_behind(story, host):
    assert not host.file(f"{APP_ROOT}/shared/.static-staging").exists


def test_a_site_run_on_a_host_serving_the_release_changes_nothing(story):
    run = story.runs["site"].run
    assert run.recap()["changed"] == 0, sorted(run.changed_tasks())

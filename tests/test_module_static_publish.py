"""djstack.stack.static_publish and module_utils/static_publish.py: a release's static files
renamed into the live root one by one, and bin/manage's collectstatic into a staging directory."""

from __future__ import annotations

import gzip
import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ansible_collections.djstack.stack.plugins.module_utils import static_publish as sp
from tests.modrun import run_module

CSS = b"body { color: #222; margin: 0 auto; }\n" * 40
ATTRS = sp.Attributes(mode=0o644, directory_mode=0o755)


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """A live root holding release 1's files, and release 2's staging directory beside it."""
    live, staging = tmp_path / "static", tmp_path / ".static-staging" / "r2"
    for root in (live, staging):
        (root / "css").mkdir(parents=True)
    for root, name in ((live, "site.aaaaaaaaaaaa.css"), (staging, "site.bbbbbbbbbbbb.css")):
        (root / "css" / name).write_bytes(CSS + name.encode())
        (root / "css" / "site.css").write_bytes(CSS + name.encode())
    (live / "robots.txt").write_bytes(b"User-agent: *\n")
    (staging / "robots.txt").write_bytes(b"User-agent: *\n")
    for path in [*live.rglob("*"), *staging.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return live, staging


def _stage_again(staging: Path, live: Path) -> None:
    """What the next run collects: release 2's files, copied from the live root."""
    for name in ("css/site.bbbbbbbbbbbb.css", "css/site.css", "robots.txt"):
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes((live / name).read_bytes())


def test_new_and_changed_files_are_published(roots):
    live, staging = roots
    done = sp.publish(staging, live, ATTRS)
    assert (done.added, done.replaced, done.kept) == (["css/site.bbbbbbbbbbbb.css"], ["css/site.css"], 1)
    assert (live / "css" / "site.css").read_bytes() == CSS + b"site.bbbbbbbbbbbb.css"


def test_a_changed_file_is_replaced_by_rename_not_rewritten(roots):
    # A reader holding the old file open (nginx mid-response) keeps reading the old inode whole.
    live, staging = roots
    staged_inode = (staging / "css" / "site.css").stat().st_ino
    with (live / "css" / "site.css").open("rb") as reader:
        sp.publish(staging, live, ATTRS)
        assert reader.read() == CSS + b"site.aaaaaaaaaaaa.css"
    assert (live / "css" / "site.css").stat().st_ino == staged_inode


def test_files_the_release_no_longer_has_are_kept(roots):
    live, staging = roots
    sp.publish(staging, live, ATTRS)
    assert (live / "css" / "site.aaaaaaaaaaaa.css").read_bytes() == CSS + b"site.aaaaaaaaaaaa.css"


def test_an_unchanged_live_file_is_left_untouched(roots):
    live, staging = roots
    before = (live / "robots.txt").stat()
    sp.publish(staging, live, ATTRS)
    after = (live / "robots.txt").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_second_run_publishes_nothing(roots):
    live, staging = roots
    sp.publish(staging, live, ATTRS)
    _stage_again(staging, live)
    done = sp.publish(staging, live, ATTRS)
    assert (done.changed, done.added, done.replaced, done.removed, done.kept) == (False, [], [], [], 3)


def test_same_content_with_a_new_mtime_is_not_a_change(roots):
    # collectstatic re-saves post-processed CSS on every run: a new mtime, the same bytes.
    live, staging = roots
    os.utime(staging / "robots.txt", ns=(0, 10**18))
    assert sp.publish(staging, live, ATTRS).kept == 1


def test_a_live_file_with_a_drifted_mode_is_replaced(roots):
    live, staging = roots
    os.chmod(live / "robots.txt", 0o600)
    assert "robots.txt" in sp.publish(staging, live, ATTRS).replaced
    assert (live / "robots.txt").stat().st_mode & 0o777 == 0o644


def test_published_files_and_new_directories_get_the_modes(roots):
    live, staging = roots
    (staging / "img" / "icons").mkdir(parents=True)
    (staging / "img" / "icons" / "a.svg").write_bytes(b"<svg/>")
    os.chmod(staging / "img" / "icons" / "a.svg", 0o600)
    sp.publish(staging, live, sp.Attributes(mode=0o640, directory_mode=0o750))
    assert (live / "img" / "icons" / "a.svg").stat().st_mode & 0o777 == 0o640
    assert [(live / d).stat().st_mode & 0o777 for d in ("img", "img/icons")] == [0o750, 0o750]


def test_staging_directory_is_removed_after_publishing(roots):
    live, staging = roots
    sp.publish(staging, live, ATTRS)
    assert not staging.exists()


def test_dry_run_lists_without_changing_anything(roots):
    live, staging = roots
    done = sp.publish(staging, live, ATTRS, dry_run=True)
    assert (done.added, done.replaced) == (["css/site.bbbbbbbbbbbb.css"], ["css/site.css"])
    assert not (live / "css" / "site.bbbbbbbbbbbb.css").exists()
    assert (live / "css" / "site.css").read_bytes() == CSS + b"site.aaaaaaaaaaaa.css"
    assert staging.is_dir()


def test_a_gzip_copy_that_no_longer_matches_its_file_is_removed(roots):
    # nginx's gzip_static would send the old content to every client that accepts gzip.
    live, staging = roots
    (live / "css" / "site.css.gz").write_bytes(gzip.compress((live / "css" / "site.css").read_bytes()))
    assert sp.publish(staging, live, ATTRS).removed == ["css/site.css.gz"]
    assert not (live / "css" / "site.css.gz").exists()


def test_a_gzip_copy_that_still_matches_its_file_is_kept(roots):
    live, staging = roots
    (live / "robots.txt.gz").write_bytes(gzip.compress(b"User-agent: *\n"))
    assert sp.publish(staging, live, ATTRS).removed == []
    assert (live / "robots.txt.gz").exists()


def test_staged_gzip_copies_are_published_with_their_files(roots):
    live, staging = roots
    (staging / "css" / "site.css.gz").write_bytes(gzip.compress((staging / "css" / "site.css").read_bytes()))
    done = sp.publish(staging, live, ATTRS)
    assert "css/site.css.gz" in done.added
    assert gzip.decompress((live / "css" / "site.css.gz").read_bytes()) == (live / "css" / "site.css").read_bytes()


def test_a_symlink_in_the_staging_directory_is_refused(roots):
    live, staging = roots
    (staging / "link.css").symlink_to(staging / "css" / "site.css")
    with pytest.raises(sp.PublishError, match="link.css is not a regular file"):
        sp.publish(staging, live, ATTRS)


# --- the module ------------------------------------------------------------------------


def test_module_reports_counts_then_nothing_to_do(roots, tmp_path):
    live, staging = roots
    result = run_module("static_publish", {"src": str(staging), "dest": str(live)}, tmp_path)
    assert (result["changed"], result["added"], result["replaced"], result["removed"], result["kept"]) == \
        (True, 1, 1, 0, 1)
    assert "diff" not in result
    _stage_again(staging, live)
    again = run_module("static_publish", {"src": str(staging), "dest": str(live)}, tmp_path)
    assert (again["changed"], again["added"], again["replaced"], again["kept"]) == (False, 0, 0, 3)


def test_module_diff_names_the_files(roots, tmp_path):
    live, staging = roots
    (live / "css" / "site.css.gz").write_bytes(gzip.compress(b"old"))
    result = run_module("static_publish", {"src": str(staging), "dest": str(live)}, tmp_path, diff=True)
    assert result["diff"] == {"before": {"added": [], "replaced": [], "removed": []},
                              "after": {"added": ["css/site.bbbbbbbbbbbb.css"], "replaced": ["css/site.css"],
                                        "removed": ["css/site.css.gz"]}}


def test_module_check_mode_reports_drift_without_changing_anything(roots, tmp_path):
    live, staging = roots
    sp.publish(staging, live, ATTRS)
    _stage_again(staging, live)
    (live / "robots.txt").unlink()
    result = run_module("static_publish", {"src": str(staging), "dest": str(live)}, tmp_path, check=True, diff=True)
    assert (result["changed"], result["diff"]["after"]["added"]) == (True, ["robots.txt"])
    assert not (live / "robots.txt").exists()
    assert staging.is_dir()


def test_module_refuses_a_bad_mode(roots, tmp_path):
    live, staging = roots
    result = run_module("static_publish", {"src": str(staging), "dest": str(live), "mode": "rw"}, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == "mode must be an octal mode such as 0644 (got 'rw')"


def test_module_missing_staging_directory_is_an_error(roots, tmp_path):
    live, _staging = roots
    result = run_module("static_publish", {"src": str(tmp_path / "nope"), "dest": str(live)}, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == f"publishing {tmp_path / 'nope'} into {live}: {tmp_path / 'nope'} is not a directory"


# --- bin/manage --static-root: collectstatic into the staging directory ------------------

HELPER = Path(__file__).resolve().parents[1] / "roles" / "django_app" / "files" / "django_app_release.py"


def _helper():
    spec = importlib.util.spec_from_file_location("django_app_release_static", HELPER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def hardcoded_project(tmp_path: Path) -> Path:
    """A release of a project whose settings hard-code STATIC_ROOT, with the manifest storage."""
    project = tmp_path / "releases" / "r1"
    (project / "hard" / "static" / "hard").mkdir(parents=True)
    (project / "hard" / "__init__.py").write_text("")
    (project / "hard" / "static" / "hard" / "site.css").write_text("body { color: red; }\n")
    (project / "hard" / "settings.py").write_text(textwrap.dedent(f"""\
        SECRET_KEY = "x" * 50
        INSTALLED_APPS = ["django.contrib.staticfiles", "hard"]
        STATIC_URL = "/static/"
        STATIC_ROOT = {str(tmp_path / "hardcoded-static")!r}
        STORAGES = {{"staticfiles": {{"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}}}
        """))
    (project / "manage.py").write_text(textwrap.dedent("""\
        import os, sys
        if __name__ == "__main__":
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hard.settings")
            from django.core.management import execute_from_command_line
            execute_from_command_line(sys.argv)
        """))
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "env").write_text("DJANGO_SETTINGS_MODULE=hard.settings\n")
    return tmp_path


def _collect(root: Path, staging: Path) -> subprocess.CompletedProcess[str]:
    command = _helper().manage_command(root, "demo", "", ["--release", "r1", "--as-root", "--static-root",
                                                          str(staging), "collectstatic", "--noinput"])
    argv = [sys.executable, *command["argv"][1:]]  # the controller's Django stands in for the release venv
    env = dict(command["env"], PATH=os.environ["PATH"])
    return subprocess.run(argv, cwd=command["cwd"], env=env, capture_output=True, text=True, check=False)


def test_collectstatic_writes_into_the_staging_directory_despite_a_hard_coded_static_root(hardcoded_project):
    staging = hardcoded_project / "shared" / ".static-staging" / "r1"
    done = _collect(hardcoded_project, staging)
    assert done.returncode == 0, done.stderr
    assert (staging / "hard" / "site.css").is_file()
    assert (staging / "staticfiles.json").is_file()
    assert not (hardcoded_project / "hardcoded-static").exists()


def test_static_root_option_needs_an_absolute_directory(hardcoded_project):
    helper = _helper()
    with pytest.raises(helper.ReleaseError, match="--static-root needs an absolute path"):
        helper.manage_command(hardcoded_project, "demo", "", ["--static-root", "staging", "collectstatic"])

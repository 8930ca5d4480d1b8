"""The demo app and a third-party project deployed by django_app, after the side effect.

State the tests expect (see side_effect.yml): demo has had four deploys with
django_app_keep_releases 2 — converge, a changed copy, the original again (current),
and a copy failing check --deploy (recorded as failed). hardsite comes from git tag v1.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from testinfra.host import Host

from djstack_testlib.django_app import (
    GOOD,
    current_target,
    effective_settings,
    entry,
    history,
    manage,
    release_dirs,
    site_packages_file,
)

ROOT = "/srv/demo"
HARDSITE = "/srv/hardsite"
USER = "demo"
SCENARIO = Path(__file__).resolve().parent.parent
DEMO_VARS = yaml.safe_load((SCENARIO / "vars" / "demo.yml").read_text())


def _fails_as(host: Host, user: str, command: str) -> bool:
    return host.run(f"runuser -u {user} -- {command}").rc != 0


# --- the app account -----------------------------------------------------------


def test_app_user_is_a_system_account(host: Host):
    user = host.user(USER)
    assert user.uid < 1000
    assert user.group == USER


def test_app_user_cannot_log_in(host: Host):
    assert host.user(USER).shell == "/usr/sbin/nologin"
    assert host.user(USER).password in ("!", "*", "!*")


def test_app_user_has_no_other_groups(host: Host):
    assert host.user(USER).groups == [USER]


# --- files and permissions ---------------------------------------------------


def test_env_file_is_root_owned_and_group_readable_only(host: Host):
    env = host.file(f"{ROOT}/shared/env")
    assert (env.user, env.group, env.mode) == ("root", USER, 0o640)


def test_env_file_is_readable_by_the_app(host: Host):
    assert host.run(f"runuser -u {USER} -- cat {ROOT}/shared/env").rc == 0


def test_env_file_is_closed_to_other_users(host: Host):
    assert _fails_as(host, "nobody", f"cat {ROOT}/shared/env")


def test_code_is_not_writable_by_the_app(host: Host):
    assert _fails_as(host, USER, f"touch {ROOT}/current/manage.py")
    assert _fails_as(host, USER, f"touch {ROOT}/current/new-file")


def test_venv_is_not_writable_by_the_app(host: Host):
    site_packages = site_packages_file(host, f"{ROOT}/current", "")
    assert _fails_as(host, USER, f"touch {site_packages}/injected.py")
    assert _fails_as(host, USER, f"touch {ROOT}/current/venv/bin/python3")


def test_media_is_writable_by_the_app(host: Host):
    probe = f"{ROOT}/shared/media/.write-probe"
    assert host.run(f"runuser -u {USER} -- touch {probe}").rc == 0
    host.run(f"rm -f {probe}")


def test_database_directory_is_writable_by_the_app(host: Host):
    probe = f"{ROOT}/shared/db/.write-probe"
    assert host.run(f"runuser -u {USER} -- touch {probe}").rc == 0
    host.run(f"rm -f {probe}")


def test_static_files_are_not_writable_by_the_app(host: Host):
    assert _fails_as(host, USER, f"touch {ROOT}/shared/static/catalog/css/site.css")


def test_static_files_are_readable_by_nginx(host: Host):
    assert host.run(f"runuser -u www-data -- cat {ROOT}/shared/static/catalog/css/site.css").rc == 0


# --- releases ---------------------------------------------------------------------


def test_current_points_into_releases(host: Host):
    target = current_target(host, ROOT)
    assert target.startswith("releases/")
    assert host.file(f"{ROOT}/{target}").is_directory


def test_current_release_file_matches_the_active_entry(host: Host):
    active = entry(host, ROOT, "active")
    assert current_target(host, ROOT) == f"releases/{active['id']}"
    assert host.file(f"{ROOT}/current/RELEASE").content_string.strip() == active["id"]


def test_history_records_revision_and_time(host: Host):
    for release in history(host, ROOT):
        assert set(release) >= {"id", "revision", "time", "status"}
        assert release["status"] in (*GOOD, "failed")
        assert len(release["revision"]) == 64


def test_pruning_keeps_two_good_releases(host: Host):
    good = [e["id"] for e in history(host, ROOT) if e["status"] in GOOD]
    assert len(good) == 2
    failed = [e["id"] for e in history(host, ROOT) if e["status"] == "failed"]
    assert release_dirs(host, ROOT) == sorted(good + failed)


def test_pruning_keeps_current_and_previous(host: Host):
    present = release_dirs(host, ROOT)
    assert entry(host, ROOT, "active")["id"] in present
    assert entry(host, ROOT, "previous")["id"] in present


def test_failed_release_is_recorded_and_not_current(host: Host):
    failed = entry(host, ROOT, "failed")
    assert failed["reason"] == "Run Django's deployment checks"
    assert current_target(host, ROOT) != f"releases/{failed['id']}"
    # Kept for inspection: it is newer than the active release.
    assert host.file(f"{ROOT}/releases/{failed['id']}").is_directory


def test_new_release_reuses_the_previous_venv(host: Host):
    active, previous = entry(host, ROOT, "active"), entry(host, ROOT, "previous")
    assert active["venv_source"] == previous["id"]
    mine = host.file(site_packages_file(host, f"{ROOT}/releases/{active['id']}", "django/__init__.py"))
    theirs = host.file(site_packages_file(host, f"{ROOT}/releases/{previous['id']}", "django/__init__.py"))
    # Same inode: hard links, nothing downloaded or copied.
    assert mine.inode == theirs.inode


def test_reused_venv_scripts_point_to_their_own_release(host: Host):
    active = entry(host, ROOT, "active")
    shebang = host.file(f"{ROOT}/current/venv/bin/gunicorn").content_string.splitlines()[0]
    assert shebang == f"#!{ROOT}/releases/{active['id']}/venv/bin/python"


def test_reused_venv_works_after_its_source_release_is_pruned(host: Host):
    previous = entry(host, ROOT, "previous")
    # Its venv came from the converge release, which keep_releases 2 has removed.
    assert previous["venv_source"]
    assert previous["venv_source"] not in release_dirs(host, ROOT)
    result = host.run(f"{ROOT}/releases/{previous['id']}/venv/bin/gunicorn --version")
    assert result.rc == 0, result.stderr


def test_migrations_are_applied(host: Host):
    result = manage(host, ROOT, "showmigrations", "--plan")
    assert result.rc == 0, result.stderr
    assert "[X]" in result.stdout
    assert "[ ]" not in result.stdout


def test_database_lives_in_the_shared_directory(host: Host):
    query = "import sqlite3; print(sqlite3.connect('file:/srv/demo/shared/db/db.sqlite3?mode=ro', uri=True)" \
        ".execute(\"select count(*) from sqlite_master where name='catalog_product'\").fetchone()[0])"
    assert host.check_output(f"python3 -c {shlex.quote(query)}") == "1"


def test_collectstatic_wrote_hashed_files(host: Host):
    manifest = host.file(f"{ROOT}/current/staticfiles.json")
    paths = yaml.safe_load(manifest.content_string)["paths"]
    css = paths["catalog/css/site.css"]
    assert css != "catalog/css/site.css"
    assert host.file(f"{ROOT}/shared/static/{css}").is_file


def test_static_text_files_have_gzip_copies_for_nginx(host: Host):
    manifest = yaml.safe_load(host.file(f"{ROOT}/current/staticfiles.json").content_string)
    css = manifest["paths"]["catalog/css/site.css"]
    copy = host.file(f"{ROOT}/shared/static/{css}.gz")
    assert (copy.user, copy.group, copy.mode) == ("root", "root", 0o644)
    unpacked = host.run(f"gzip -dc {ROOT}/shared/static/{css}.gz | cmp - {ROOT}/shared/static/{css}")
    assert unpacked.rc == 0, unpacked.stdout + unpacked.stderr


def test_images_get_no_gzip_copy(host: Host):
    pngs = host.check_output(f"find {ROOT}/shared/static -name '*.png' | head -1")
    assert pngs, "the sample app ships a PNG"
    assert not host.file(f"{pngs}.gz").exists


def test_check_deploy_reports_no_issues(host: Host):
    result = manage(host, ROOT, "check", "--deploy", "--fail-level", "DEBUG")
    assert result.rc == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_manage_runs_as_the_app_user(host: Host):
    result = manage(host, ROOT, "shell", "--command", "import os; print(os.getuid())")
    assert result.rc == 0, result.stderr
    assert int(result.stdout.split()[-1]) == host.user(USER).uid


_ENV_PROBE_UNIT = f"""[Service]
Type=oneshot
EnvironmentFile={ROOT}/shared/env
ExecStart=/usr/bin/printenv DJANGO_SECRET_KEY
StandardOutput=file:/run/djstack-envprobe.out
"""


def _seen_by_systemd(host: Host) -> str:
    """The secret as a systemd service gets it from EnvironmentFile= (no D-Bus for systemd-run here)."""
    unit = "/run/systemd/system/djstack-envprobe.service"
    host.check_output(f"printf %s {shlex.quote(_ENV_PROBE_UNIT)} > {unit} && systemctl daemon-reload")
    try:
        host.check_output("systemctl start djstack-envprobe.service")
        return host.file("/run/djstack-envprobe.out").content_string.rstrip("\n")
    finally:
        host.run(f"rm -f {unit} /run/djstack-envprobe.out && systemctl daemon-reload")


def test_env_file_reads_the_same_for_systemd_and_manage(host: Host):
    # The secret holds spaces, quotes, a backslash, $ and #: the quoting must round-trip.
    seen_by_django = effective_settings(host, ROOT, ["SECRET_KEY"])["SECRET_KEY"]
    assert _seen_by_systemd(host) == seen_by_django == DEMO_VARS["django_app_secret_key"]


# --- git source and the settings overlay (hardsite) ---------------------------------


def _venv_version(host: Host, root: str, distribution: str) -> str:
    result = host.run(f"{root}/current/venv/bin/python -c "
                      f"\"import importlib.metadata as m; print(m.version('{distribution}'))\"")
    return result.stdout.strip() if result.rc == 0 else ""


def test_the_projects_own_gunicorn_pin_is_kept(host: Host):
    # hardsite pins gunicorn==22.0.0; the role's own (27.0.1) is only for projects without one.
    assert _venv_version(host, HARDSITE, "gunicorn") == "22.0.0"


def test_no_memcached_client_without_a_cache(host: Host):
    # Neither project's cache is wired here, and hardsite does not name pymemcache.
    assert _venv_version(host, HARDSITE, "pymemcache") == ""


def test_deploy_hooks_ran_once_each_in_order_around_migrate(host: Host):
    lines = host.file(f"{HARDSITE}/shared/db/hooks.log").content_string.splitlines()
    assert [line.split()[0] for line in lines] == ["before_migrate", "after_migrate", "after_collectstatic"]
    unapplied_before, applied_after = int(lines[0].split()[1]), int(lines[1].split()[1])
    assert unapplied_before > 0 and applied_after >= unapplied_before


def test_after_install_hook_ran_as_root_in_the_release_with_its_venv(host: Host):
    trace = host.file(f"{HARDSITE}/current/HOOK_AFTER_INSTALL")
    release = host.file(f"{HARDSITE}/current").linked_to
    assert trace.content_string.strip() == f"{release}/venv"
    # Written before the seal: read-only to the app like the rest of the release.
    assert trace.user == "root" and not trace.mode & 0o022


def test_git_release_is_the_tagged_commit(host: Host):
    tagged = host.check_output("git -C /srv/git/hardsite.git rev-parse 'v1^{commit}'")
    assert entry(host, HARDSITE, "active")["revision"] == tagged


def test_git_release_leaves_out_later_commits(host: Host):
    assert host.file(f"{HARDSITE}/current/manage.py").is_file
    assert not host.file(f"{HARDSITE}/current/NOT_IN_V1").exists


def test_project_settings_hard_code_development_values(host: Host):
    # The control for the overlay tests below: without it, these would be in effect.
    code = "import hardsite.settings as s; print(s.DEBUG, s.ALLOWED_HOSTS, s.STATIC_ROOT)"
    result = manage(host, HARDSITE, "shell", "--command", code)
    assert result.rc == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True ['hardcoded.example'] /var/www/hardcoded-static"


def test_overlay_turns_debug_off(host: Host):
    assert effective_settings(host, HARDSITE, ["DEBUG"])["DEBUG"] is False


def test_overlay_takes_allowed_hosts_from_the_env(host: Host):
    hosts = effective_settings(host, HARDSITE, ["ALLOWED_HOSTS"])["ALLOWED_HOSTS"]
    assert hosts == ["hardsite.example.test", "localhost"]


def test_overlay_takes_the_shared_static_root(host: Host):
    assert effective_settings(host, HARDSITE, ["STATIC_ROOT"])["STATIC_ROOT"] == f"{HARDSITE}/shared/static"


def test_overlay_puts_the_database_in_the_shared_directory(host: Host):
    databases = effective_settings(host, HARDSITE, ["DATABASES"])["DATABASES"]
    assert databases["default"]["NAME"] == f"{HARDSITE}/shared/db/db.sqlite3"


@pytest.mark.parametrize("root", [ROOT, HARDSITE])
def test_check_deploy_is_clean_for_both_projects(host: Host, root: str):
    result = manage(host, root, "check", "--deploy", "--fail-level", "DEBUG")
    assert result.rc == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout

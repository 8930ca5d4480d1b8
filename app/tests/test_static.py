"""collectstatic with the manifest storage, as the deploy runs it."""

from __future__ import annotations

import json
import shutil
import re
from pathlib import Path

import pytest

from demo_testlib import clean_env, get_in_subprocess, manage, python_snippet

SECRET = "static-test-secret-key-abcdefghijklmnopqrstuvwxyz-0123456789"
HASHED = r"[0-9a-f]{12}"


@pytest.fixture
def collected(collected_static: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """STATIC_ROOT after `manage.py collectstatic --noinput` (see conftest)."""
    env = clean_env(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_STATIC_ROOT=str(collected_static),
        DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    return collected_static, env


def only(root: Path, pattern: str) -> Path:
    matches = [p for p in root.rglob("*") if re.fullmatch(pattern, p.relative_to(root).as_posix())]
    assert len(matches) == 1, (pattern, matches)
    return matches[0]


def test_manifest_and_hashed_files(collected: tuple[Path, dict[str, str]]) -> None:
    root, _ = collected
    manifest = json.loads((root / "staticfiles.json").read_text())
    paths = manifest["paths"]
    css = only(root, rf"catalog/css/site\.{HASHED}\.css")
    png = only(root, rf"catalog/img/hero\.{HASHED}\.png")
    assert paths["catalog/css/site.css"] == css.relative_to(root).as_posix()
    assert paths["catalog/img/hero.png"] == png.relative_to(root).as_posix()
    assert 150_000 < png.stat().st_size < 250_000
    # The admin's files are collected and hashed too.
    only(root, rf"admin/css/base\.{HASHED}\.css")
    # The stylesheet's url() was rewritten to the hashed image name.
    assert png.name in css.read_text()


def test_pages_link_the_hashed_names(collected: tuple[Path, dict[str, str]]) -> None:
    root, env = collected
    manifest = json.loads((root / "staticfiles.json").read_text())["paths"]
    response = get_in_subprocess("/about/", env)
    assert response["status"] == 200
    assert f'href="/static/{manifest["catalog/css/site.css"]}"' in response["body"]
    assert f'src="/static/{manifest["catalog/img/hero.png"]}"' in response["body"]


def test_static_url_is_honoured(collected: tuple[Path, dict[str, str]]) -> None:
    _, env = collected
    response = get_in_subprocess("/about/", {**env, "DJANGO_STATIC_URL": "/assets/"})
    assert re.search(rf'href="/assets/catalog/css/site\.{HASHED}\.css"', response["body"])


def _collect_release(project: Path, static_root: Path, tmp_path: Path) -> dict[str, str]:
    env = clean_env(
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_STATIC_ROOT=str(static_root),
        DJANGO_STATIC_MANIFEST_DIR=".",
        DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = manage("collectstatic", "--noinput", env=env, cwd=project)
    assert result.returncode == 0, result.stderr
    return env


def test_release_manifest_stays_with_the_release(project_copy: Path, tmp_path: Path) -> None:
    static_root = tmp_path / "shared" / "static"
    _collect_release(project_copy, static_root, tmp_path)
    assert (project_copy / "staticfiles.json").is_file()
    assert not (static_root / "staticfiles.json").exists()


def test_a_new_release_keeps_the_old_release_assets_and_manifest(project_copy: Path, tmp_path: Path) -> None:
    """Release 2 changes the CSS: release 1's workers still link their own, present, file."""
    static_root = tmp_path / "shared" / "static"
    env = _collect_release(project_copy, static_root, tmp_path)
    old_css = json.loads((project_copy / "staticfiles.json").read_text())["paths"]["catalog/css/site.css"]
    second = tmp_path / "releases" / "c0ffee2"
    shutil.copytree(project_copy, second, ignore=shutil.ignore_patterns("staticfiles.json"))
    with (second / "catalog" / "static" / "catalog" / "css" / "site.css").open("a") as css:
        css.write("\n/* release 2 */\n")
    _collect_release(second, static_root, tmp_path)
    new_css = json.loads((second / "staticfiles.json").read_text())["paths"]["catalog/css/site.css"]
    assert new_css != old_css
    assert (static_root / old_css).is_file() and (static_root / new_css).is_file()
    page = get_in_subprocess("/about/", env, cwd=project_copy)
    assert page["status"] == 200
    assert f"/static/{old_css}" in page["body"]


# collectstatic twice (a re-run on the live release), with every removal of the
# manifest refused: Django's own storage deletes it before writing the new one.
NEVER_WITHOUT_MANIFEST = """
import os, sys
import django
_remove = os.remove
def remove(path, *args, **kwargs):
    if str(path).endswith("staticfiles.json"):
        sys.exit("the manifest was deleted: " + str(path))
    return _remove(path, *args, **kwargs)
os.remove = os.unlink = remove
django.setup()
from django.core.management import call_command
for _ in range(2):
    call_command("collectstatic", "--noinput", verbosity=0)
"""


def test_a_second_collectstatic_never_leaves_the_release_without_a_manifest(
        project_copy: Path, tmp_path: Path) -> None:
    env = _collect_release(project_copy, tmp_path / "shared" / "static", tmp_path)
    result = python_snippet(NEVER_WITHOUT_MANIFEST, env={**env, "DJANGO_SETTINGS_MODULE": "demo.settings"},
                            cwd=project_copy)
    assert result.returncode == 0, result.stderr[-2000:]
    # Readable by the app user, as Django's own storage leaves it.
    assert (project_copy / "staticfiles.json").stat().st_mode & 0o777 == 0o644
    assert json.loads((project_copy / "staticfiles.json").read_text())["paths"]["catalog/css/site.css"]

"""Every command in README.md is run here (or named to the test that runs it),
and its variable table matches what the code reads."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

from demo_testlib import APP_DIR, PYTHON, clean_env, free_port, load_env_file, settings_variables

README = (APP_DIR / "README.md").read_text(encoding="utf-8")

QUICKSTART = [
    "python -m pip install -r requirements.txt",
    "DJANGO_DEBUG=true python manage.py migrate",
    "DJANGO_DEBUG=true python manage.py runserver 127.0.0.1:8000",
]
SEED = "DJANGO_DEBUG=true python manage.py seed_products 50"
PRODUCTION = [
    "cp production.env.example production.env",
    "set -a; . ./production.env; set +a",
    "python manage.py check --deploy",
    "python manage.py migrate --noinput",
    "python manage.py collectstatic --noinput",
]
TESTS = ["python -m pip install -r requirements-dev.txt", "python -m pytest"]

# README command -> the test that runs it.
EXERCISED = {
    **{command: "test_quickstart" for command in [*QUICKSTART, SEED]},
    **{command: "test_production_commands" for command in PRODUCTION},
    **{command: "test_test_commands" for command in TESTS},
    "pytest app": "test_test_commands",
    "python tools/make_hero_png.py": "tests/test_hero_png.py::test_generator_reproduces_the_committed_file",
}


def code_blocks() -> list[list[str]]:
    blocks = re.findall(r"^```sh\n(.*?)^```", README, flags=re.S | re.M)
    return [[line.strip() for line in block.splitlines() if line.strip()] for block in blocks]


def inline_commands() -> set[str]:
    spans = re.findall(r"`([^`\n]+)`", README)
    return {span for span in spans if re.match(r"(python|pytest|pip|\.\./)\b", span)}


def shell_env(**overrides: str) -> dict[str, str]:
    """The README's `python` is the virtualenv's; put it first on PATH."""
    env = clean_env(**overrides)
    env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def sh(command: str, env: dict[str, str], cwd: Path = APP_DIR) -> str:
    result = subprocess.run(
        ["bash", "-c", f"set -e\n{command}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def offline_pip(command: str) -> str:
    # Everything is already installed in this virtualenv: resolve the pins
    # against it without the network, and change nothing.
    return f"{command} --no-index --dry-run"


def test_readme_commands_are_all_exercised() -> None:
    blocks = code_blocks()
    assert blocks == [QUICKSTART, [SEED], PRODUCTION, TESTS]
    documented = {line for block in blocks for line in block} | inline_commands()
    assert documented == set(EXERCISED), documented ^ set(EXERCISED)
    assert len(QUICKSTART) == 3  # "run it locally in three commands"


def test_requirements_are_pinned_and_installed() -> None:
    for line in (APP_DIR / "requirements.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"not pinned exactly: {line}"
        assert metadata.version(name.split("[")[0]) == version, line
    names = (APP_DIR / "requirements.txt").read_text().lower()
    for package in (
        "django==",
        "gunicorn==",
        "pymemcache==",
        "dj-database-url==",
        "psycopg[binary]==",
    ):
        assert package in names


def wait_for_http(url: str, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, dict(response.headers), response.read()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_quickstart(tmp_path: Path) -> None:
    # Same commands, but the SQLite file goes to a temp dir, not app/.
    env = shell_env(DJANGO_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    install, migrate, runserver = QUICKSTART
    assert "Requirement already satisfied" in sh(offline_pip(install), env)
    assert "Applying catalog.0001_initial" in sh(migrate, env)
    assert "Seeded 50 new products" in sh(SEED, env)

    port = free_port()
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        ["bash", "-c", runserver.replace(":8000", f":{port}")],
        cwd=APP_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # bash and the autoreloader fork; stop the whole group
    )
    try:
        base = f"http://127.0.0.1:{port}"
        try:
            status, headers, body = wait_for_http(f"{base}/healthz")
        except OSError:
            pytest.fail((tmp_path / "runserver.log").read_text())
        assert status == 200
        assert b'"status": "ok"' in body
        assert headers["X-App-Release"]
        status, headers, body = wait_for_http(f"{base}/products/")
        assert status == 200 and body.count(b'class="price"') == 50
        status, _, body = wait_for_http(f"{base}/static/catalog/css/site.css")
        assert status == 200 and b".hero" in body
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()


def test_production_commands(project_copy: Path, tmp_path: Path) -> None:
    env = shell_env()
    copy, *rest = PRODUCTION
    sh(copy, env, cwd=project_copy)

    # The manual step the README asks for: edit the secret and the paths.
    env_file = project_copy / "production.env"
    edits = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DATABASE_URL": f"sqlite:///{tmp_path / 'shared' / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "shared" / "static"),
        "DJANGO_MEDIA_ROOT": str(tmp_path / "shared" / "media"),
    }
    (tmp_path / "shared").mkdir()
    lines = []
    for line in env_file.read_text().splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={edits[key]}" if key in edits and not line.startswith("#") else line)
    env_file.write_text("\n".join(lines) + "\n")
    assert load_env_file(env_file)["DJANGO_SECRET_KEY"] == edits["DJANGO_SECRET_KEY"]

    output = sh("\n".join(rest), env, cwd=project_copy)
    assert "System check identified no issues (0 silenced)." in output
    assert (tmp_path / "shared" / "db.sqlite3").exists()
    assert (project_copy / "staticfiles.json").exists()
    assert any((tmp_path / "shared" / "static").rglob("site.*.css"))


def test_test_commands() -> None:
    env = shell_env()
    install, run_tests = TESTS
    assert "Requirement already satisfied: pytest==" in sh(offline_pip(install), env)
    # Collect only: running the suite from inside itself would recurse.
    here = sh(f"{run_tests} --collect-only -q", env)
    from_root = sh("pytest app --collect-only -q", env, cwd=APP_DIR.parent)
    count = re.search(r"(\d+) tests? collected", here)
    assert count and int(count.group(1)) > 50, here
    assert f"{count.group(1)} tests collected" in from_root, from_root


def variable_table() -> dict[str, str]:
    section = README.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(DJANGO_[A-Z_]+)` \| (.+?) \| (.+?) \|$", section, flags=re.M)
    return {name: default for name, default, _meaning in rows}


def test_variable_table_lists_exactly_what_the_code_reads() -> None:
    assert set(variable_table()) == settings_variables()


@pytest.mark.parametrize(
    ("name", "default"),
    [
        ("DJANGO_DEBUG", "`false`"),
        ("DJANGO_CACHE_TIMEOUT", "`300`"),
        ("DJANGO_STATIC_URL", "`/static/`"),
        ("DJANGO_MEDIA_URL", "`/media/`"),
        ("DJANGO_SECURE_HSTS_SECONDS", "`0`"),
        ("DJANGO_CACHE_BYPASS_ALLOWED", "`false`"),
        ("DJANGO_LOG_LEVEL", "`INFO`"),
    ],
)
def test_documented_defaults(name: str, default: str) -> None:
    assert variable_table()[name] == default

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# When a parent directory's pytest.ini governs the run (`pytest tests app`
# from the repository root), app/pytest.ini's pythonpath and -p plugin are
# not applied: do the same here, then load the settings so pytest-django's
# pytest_configure sets Django up. Without that ini, this conftest is still
# imported early enough, as an initial conftest of the `app` argument.
for _path in (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import demo_test_env  # noqa: E402, F401  (sets os.environ)
from django.conf import settings as django_settings  # noqa: E402

django_settings.INSTALLED_APPS  # noqa: B018  (force-load demo.settings)

from django.core.cache import cache  # noqa: E402
from pytest_django.fixtures import Settings  # noqa: E402

from demo_testlib import APP_DIR, clean_env, manage  # noqa: E402


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "memcached: needs the memcached binary (skipped when it is not installed)"
    )


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # The local-memory cache outlives a test; start each one empty.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Settings) -> None:
    # In-process tests render templates without running collectstatic, and
    # the manifest storage refuses names missing from its manifest. The
    # hashed storage itself is tested end to end in test_static.py.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A STATIC_ROOT filled by collectstatic, as the deploy does it; subprocess
    tests with DEBUG off need its manifest to render pages."""
    root = tmp_path_factory.mktemp("static")
    env = clean_env(
        DJANGO_SECRET_KEY="collectstatic-secret-key-abcdefghijklmnopqrstuvwxyz-0123456789",
        DJANGO_ALLOWED_HOSTS="localhost",
        DJANGO_STATIC_ROOT=str(root),
    )
    result = manage("collectstatic", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the project laid out like one deploy release directory, for
    tests that write files next to manage.py (RELEASE, production.env)."""
    target = tmp_path / "releases" / "c0ffee1"
    shutil.copytree(
        APP_DIR,
        target,
        ignore=shutil.ignore_patterns(
            "__pycache__",
            ".pytest_cache",
            "staticfiles",
            "media",
            "db.sqlite3*",
            "RELEASE",
            "production.env",
        ),
    )
    return target

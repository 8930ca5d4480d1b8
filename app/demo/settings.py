"""Settings for the demo project, read only from DJANGO_* environment variables.

The project knows nothing about the playbooks: the deploy role writes an
environment file (see production.env.example) and systemd passes it in.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from demo.config import cache_config, database_config
from demo.env import env_bool, env_int, env_list, env_str
from demo.release import manage_command, resolve_release

# The directory holding manage.py; in a deploy, one release directory.
BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

# --- secrets and hosts -------------------------------------------------------

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. It is required when DJANGO_DEBUG is off; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Development only; the prefix makes check --deploy flag it.
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
elif SECRET_KEY.startswith("CHANGE_ME") and not DEBUG:
    # production.env.example ships this placeholder; never serve with it.
    raise ImproperlyConfigured("DJANGO_SECRET_KEY still holds the CHANGE_ME placeholder.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS and not DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is empty. With DJANGO_DEBUG off it must list the host "
        "names this site answers to, comma-separated (e.g. app.example.com,localhost)."
    )
for _host in ALLOWED_HOSTS:
    if "/" in _host or " " in _host:
        raise ImproperlyConfigured(
            f"DJANGO_ALLOWED_HOSTS entry {_host!r} must be a bare host name, not a URL."
        )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"DJANGO_CSRF_TRUSTED_ORIGINS entry {_origin!r} needs a scheme, "
            "e.g. https://app.example.com."
        )

# --- application -------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "catalog.apps.CatalogConfig",
]

MIDDLEWARE = [
    # Outermost, so redirects and error responses carry the release too.
    "demo.middleware.release_header_middleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

RELEASE = resolve_release(BASE_DIR)
# The hints on pages name the command that works where the project is installed.
MANAGE_COMMAND = manage_command(BASE_DIR)

# --- database and cache ------------------------------------------------------

DATABASES = {
    "default": database_config(
        env_str("DJANGO_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        BASE_DIR,
    )
}

CACHES = {
    "default": cache_config(
        env_str("DJANGO_CACHE_LOCATION"),
        key_prefix=env_str("DJANGO_CACHE_KEY_PREFIX"),
    )
}
# How long the product list query result may live in the cache (seconds).
CATALOG_CACHE_TIMEOUT = env_int("DJANGO_CACHE_TIMEOUT", default=300)
# ?nocache=1 lets benchmarks measure the uncached path; off by default so the
# public cannot make every request hit the database.
CACHE_BYPASS_ALLOWED = env_bool("DJANGO_CACHE_BYPASS_ALLOWED", default=False)

# --- static and media files --------------------------------------------------

STATIC_URL = env_str("DJANGO_STATIC_URL", default="/static/")
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
MEDIA_URL = env_str("DJANGO_MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
for _name, _url in (("DJANGO_STATIC_URL", STATIC_URL), ("DJANGO_MEDIA_URL", MEDIA_URL)):
    if not _url.endswith("/"):
        raise ImproperlyConfigured(f"{_name}={_url!r} must end with a slash.")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Content-hashed names (site.3f2a….css) let nginx serve them with
    # "expires max"; a changed file gets a new name.
    "staticfiles": {"BACKEND": "demo.storage.ReleaseManifestStaticFilesStorage"},
}
# Where collectstatic's manifest lives (demo/storage.py): STATIC_ROOT by default;
# a relative path is taken from the project, so "." keeps one per release.
_manifest_dir = env_str("DJANGO_STATIC_MANIFEST_DIR", default="")
STATIC_MANIFEST_DIR = BASE_DIR / _manifest_dir if _manifest_dir else STATIC_ROOT

# --- HTTPS behind the proxy --------------------------------------------------

if env_bool("DJANGO_SECURE_PROXY_SSL_HEADER"):
    # Only safe because nginx overwrites X-Forwarded-Proto on every request.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT")
# Health probes reach gunicorn's unix socket directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD")
# check --deploy warnings the site's own policy accepts (a staging site's HSTS without preload).
SILENCED_SYSTEM_CHECKS = env_list("DJANGO_SILENCED_SYSTEM_CHECKS")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE")

# --- logging: stdout only, journald adds timestamps and metadata -----------

LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"DJANGO_LOG_LEVEL={LOG_LEVEL!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Replace Django's defaults (console only when DEBUG, mail_admins).
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
    },
}

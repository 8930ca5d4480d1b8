"""Two Django projects shaped the way users bring them, built the way they are built:
`django-admin startproject`, `startapp`, a model, a form and a template using
`{% static %}`; nothing in them knows about djstack.

tutorial:  what a public tutorial ships. Settings hard-code DEBUG, a foreign ALLOWED_HOSTS
           and an insecure fallback SECRET_KEY, split into a package
           (tutorial.settings.production); whitenoise's middleware and
           CompressedManifestStaticFilesStorage; dj-database-url; requirements pinned in
           requirements/production.txt, gunicorn included.
packaged:  a pyproject.toml project (installed with pip install .), manage.py under src/,
           Django's ManifestStaticFilesStorage, no gunicorn of its own, plain
           startproject settings (no STATIC_ROOT at all).

    python -m djstack_testlib.stock_projects DIR    # writes DIR/tutorial and DIR/packaged
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# The page each project serves its app on, and the static file its template links.
PAGE = "/notes/"
STYLESHEET = "notes/style.css"
# Long enough that a gzip copy is worth it (django_app_static_gzip_min_size).
CSS = "".join(f".note-{n} {{ margin: {n}px; padding: {n}px; border: 1px solid #{n:03d}; }}\n" for n in range(40))

MODELS = """
from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
"""

MIGRATION = """
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("text", models.CharField(max_length=200)),
                ("created", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-created", "-id"]},
        ),
    ]
"""

FORMS = """
from django import forms

from .models import Note


class NoteForm(forms.ModelForm):
    class Meta:
        model = Note
        fields = ["text"]
"""

VIEWS = """
from django.shortcuts import redirect, render

from .forms import NoteForm
from .models import Note


def index(request):
    form = NoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("notes:index")
    return render(request, "notes/index.html", {"form": form, "notes": Note.objects.all()[:20]})
"""

APP_URLS = """
from django.urls import path

from . import views

app_name = "notes"
urlpatterns = [path("", views.index, name="index")]
"""

TEMPLATE = """{% load static %}<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Notes</title>
<link rel="stylesheet" href="{% static 'notes/style.css' %}"></head>
<body>
<h1>Notes</h1>
<form method="post">{% csrf_token %}{{ form.as_p }}<button type="submit">Add</button></form>
<ul>{% for note in notes %}<li>{{ note.text }}</li>{% endfor %}</ul>
</body>
</html>
"""


def _run(*argv: str, cwd: Path) -> None:
    subprocess.run([sys.executable, *argv], cwd=cwd, check=True)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        # startproject's files come with single quotes, or double ones when black is on PATH.
        old = old.replace('"', "'")
    if old not in text:
        raise ValueError(f"{path}: {old!r} not found (startproject's template changed?)")
    path.write_text(text.replace(old, new, 1))


def _notes_app(manage_dir: Path, project: str) -> None:
    """startapp notes, with its model, migration, form, view, template and stylesheet."""
    _run("-m", "django", "startapp", "notes", cwd=manage_dir)
    app = manage_dir / "notes"
    _write(app / "models.py", MODELS)
    _write(app / "migrations" / "0001_initial.py", MIGRATION)
    _write(app / "forms.py", FORMS)
    _write(app / "views.py", VIEWS)
    _write(app / "urls.py", APP_URLS)
    _write(app / "templates" / "notes" / "index.html", TEMPLATE)
    _write(app / "static" / STYLESHEET, CSS)
    urls = manage_dir / project / "urls.py"
    _edit(urls, "from django.urls import path", "from django.urls import include, path")
    _edit(urls, 'path("admin/", admin.site.urls),',
          'path("admin/", admin.site.urls),\n    path("notes/", include("notes.urls")),')


def tutorial(top: Path) -> Path:
    top.mkdir(parents=True)
    _run("-m", "django", "startproject", "tutorial", str(top), cwd=top)
    package = top / "tutorial" / "settings"
    package.mkdir()
    (top / "tutorial" / "settings.py").rename(package / "base.py")
    (package / "__init__.py").write_text("")
    base = package / "base.py"
    # One level deeper than startproject's settings.py.
    _edit(base, "BASE_DIR = Path(__file__).resolve().parent.parent", "BASE_DIR = Path(__file__).resolve().parent.parent.parent")
    _edit(base, "from pathlib import Path", "import os\nfrom pathlib import Path\n\nimport dj_database_url")
    text = base.read_text()
    start = text.index("SECRET_KEY = ")
    end = text.index("\n", start)
    base.write_text(text[:start] + 'SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-tutorial-fallback")'
                    + text[end:])
    _edit(base, "ALLOWED_HOSTS = []", 'ALLOWED_HOSTS = ["tutorial.example.com"]')
    _edit(base, '"django.contrib.staticfiles",', '"django.contrib.staticfiles",\n    "notes",')
    _edit(base, '"django.middleware.security.SecurityMiddleware",',
          '"django.middleware.security.SecurityMiddleware",\n    "whitenoise.middleware.WhiteNoiseMiddleware",')
    text = base.read_text()
    start = text.index("DATABASES = {")
    end = text.index("\n}\n", start) + 3
    base.write_text(text[:start] + 'DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / \'db.sqlite3\'}")}\n'
                    + text[end:])
    with base.open("a") as settings:
        settings.write(textwrap.dedent("""
            STATIC_ROOT = BASE_DIR / "staticfiles"
            STORAGES = {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
            }
        """))
    _write(package / "production.py", '''
        from .base import *  # noqa: F401,F403

        DEBUG = True  # left on, as tutorials do
    ''')
    _write(top / "requirements" / "production.txt", """
        Django==5.2.19
        gunicorn==23.0.0
        whitenoise==6.9.0
        dj-database-url==2.3.0
        psycopg2-binary==2.9.10
    """)
    _notes_app(top, "tutorial")
    return top


def packaged(top: Path) -> Path:
    src = top / "src"
    src.mkdir(parents=True)
    _run("-m", "django", "startproject", "shopfront", str(src), cwd=src)
    settings = src / "shopfront" / "settings.py"
    _edit(settings, '"django.contrib.staticfiles",', '"django.contrib.staticfiles",\n    "notes",')
    with settings.open("a") as handle:
        handle.write(textwrap.dedent("""
            STORAGES = {
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
            }
        """))
    _notes_app(src, "shopfront")
    _write(top / "pyproject.toml", """
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "shopfront"
        version = "1.0.0"
        requires-python = ">=3.11"
        dependencies = ["Django>=5.2,<5.3"]

        [tool.setuptools.packages.find]
        where = ["src"]

        [tool.setuptools.package-data]
        "*" = ["templates/**/*", "static/**/*"]
    """)
    return top


def new_version(top: Path, label: str) -> None:
    """A visible change for a new release: the page and the stylesheet (a new hashed name)."""
    template = next(top.rglob("notes/templates/notes/index.html"))
    _edit(template, "<h1>Notes</h1>", f"<h1>Notes</h1><p class=\"version\">{label}</p>")
    with next(top.rglob(f"notes/static/{STYLESHEET}")).open("a") as css:
        css.write(f".version::after {{ content: \"{label}\"; }}\n")


def main(argv: list[str]) -> int:
    dest = Path(argv[0]).resolve()
    tutorial(dest / "tutorial")
    packaged(dest / "packaged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

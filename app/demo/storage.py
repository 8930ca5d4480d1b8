"""Static files storage whose manifest stays with the code that wrote it.

Every release collects into the same STATIC_ROOT, so files of older releases
stay there for pages already open in browsers. The manifest (name -> hashed
name) must not be shared: a worker of the serving release that starts after a
new release ran collectstatic would read the new manifest and link assets its
templates were not written for, or fail on names the new release dropped. So
each release keeps its own staticfiles.json next to manage.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.storage import FileSystemStorage


class ReleaseManifestStaticFilesStorage(ManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("manifest_storage", FileSystemStorage(location=settings.STATIC_MANIFEST_DIR))
        super().__init__(*args, **kwargs)

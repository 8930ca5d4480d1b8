"""Static files storage whose manifest stays with the code that wrote it.

Every release collects into the same STATIC_ROOT, so files of older releases
stay there for pages already open in browsers. The manifest (name -> hashed
name) must not be shared: a worker of the serving release that starts after a
new release ran collectstatic would read the new manifest and link assets its
templates were not written for, or fail on names the new release dropped. So
each release keeps its own staticfiles.json next to manage.py.

Every deploy run collects again for the live release, and Django saves the
manifest by deleting it and writing it anew: a worker starting in between
(gunicorn's max_requests) would find none and answer 500. The manifest is
written beside and renamed into place instead.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.files.storage import FileSystemStorage


class AtomicManifestStorage(FileSystemStorage):
    """Holds only the manifest, which a save replaces in one rename."""

    def delete(self, name: str) -> None:
        # Django deletes the manifest before saving the new one; the rename in
        # _save replaces it, so there is never a moment without one.
        return None

    def _save(self, name: str, content: Any) -> str:
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".staticfiles.")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in content.chunks():
                    out.write(chunk)
            # As FileSystemStorage would leave it: the app user must read what root wrote.
            os.chmod(tmp, self.file_permissions_mode or 0o644)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return name


class ReleaseManifestStaticFilesStorage(ManifestStaticFilesStorage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("manifest_storage", AtomicManifestStorage(location=settings.STATIC_MANIFEST_DIR))
        super().__init__(*args, **kwargs)

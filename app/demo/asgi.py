"""ASGI entry point (demo.asgi:application) for any ASGI server.

The collection deploys the WSGI entry point behind gunicorn; this one exists
so the project stays usable with an ASGI server too.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")

application = get_asgi_application()

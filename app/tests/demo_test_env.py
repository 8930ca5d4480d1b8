"""Fix the environment the test run sees, before demo.settings is imported.

Loaded as a pytest plugin (-p in app/pytest.ini) so it runs before
pytest-django reads the settings, and imported again by tests/conftest.py
for runs governed by another pytest.ini. Inherited DJANGO_* variables are
dropped first so a developer's shell (or a sourced production env file)
cannot change what the tests see.
"""

import os

for _name in [name for name in os.environ if name.startswith("DJANGO_")]:
    del os.environ[_name]

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "demo.settings",
        # Production-like: DEBUG off, so the secret key and hosts are required.
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DJANGO_RELEASE": "test-release",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
)

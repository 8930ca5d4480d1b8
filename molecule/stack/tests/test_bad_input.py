"""A missing or invalid required variable stops the run before any change, with a
message naming the variable."""

import pytest
from djstack_testlib.site import run_site


@pytest.mark.parametrize(("override", "named"), [
    ('{"vault_django_app_secret_key": ""}', "django_app_secret_key"),
    ('{"site_domain": "not a domain!"}', "site_domain"),
    ('{"gunicorn_workers": 0}', "gunicorn_workers"),
    ('{"django_app_local_path": "/nonexistent/app"}', "django_app_local_path"),
], ids=["no-secret-key", "invalid-domain", "zero-workers", "missing-app-path"])
def test_bad_value_stops_run_before_any_change(override, named):
    run = run_site("-e", override)
    assert run.rc != 0
    assert named in run.output
    assert run.recap()["changed"] == 0
    # It failed in the preflight play, before the first play that changes anything.
    assert "PLAY [Base system]" not in run.output

"""gunicorn_periodic_commands: manage.py on a systemd timer, as the app service runs."""

from __future__ import annotations

import pytest
from testinfra.host import Host

TIMER = "demo-cron-clearsessions.timer"
SERVICE = "demo-cron-clearsessions.service"
MANAGE = "/srv/demo/bin/manage"
# Properties that make the app service's identity, environment and sandbox.
SHARED = ("User", "Group", "EnvironmentFiles", "WorkingDirectory", "ProtectSystem", "ProtectHome",
          "PrivateTmp", "NoNewPrivileges", "CapabilityBoundingSet", "SystemCallFilter",
          "RestrictAddressFamilies", "ReadWritePaths", "MemoryDenyWriteExecute")


def _show(host: Host, unit: str, prop: str) -> str:
    return host.check_output(f"systemctl show -p {prop} --value {unit}")


def test_timer_is_enabled_and_waits_for_its_time(host: Host):
    assert host.run(f"systemctl is-enabled {TIMER}").stdout.strip() == "enabled"
    assert host.run(f"systemctl is-active {TIMER}").stdout.strip() == "active"
    assert "03:30:00" in _show(host, TIMER, "TimersCalendar")
    assert _show(host, TIMER, "Persistent") == "yes"


@pytest.mark.parametrize("prop", SHARED)
def test_command_runs_like_the_app_service(host: Host, prop: str):
    assert _show(host, SERVICE, prop) == _show(host, "demo.service", prop)


def test_command_removes_expired_sessions(host: Host):
    seed = ("from django.contrib.sessions.models import Session; from django.utils import timezone; "
            "import datetime; Session.objects.update_or_create(session_key='expired' * 4, defaults=dict("
            "session_data='', expire_date=timezone.now() - datetime.timedelta(days=1)))")
    count = ("from django.contrib.sessions.models import Session; "
             "print(Session.objects.filter(session_key='expired' * 4).count())")
    host.check_output(f"{MANAGE} shell -c \"{seed}\"")
    assert host.check_output(f"{MANAGE} shell -c \"{count}\"").splitlines()[-1] == "1"
    host.check_output(f"systemctl start {SERVICE}")
    assert _show(host, SERVICE, "Result") == "success"
    assert host.check_output(f"{MANAGE} shell -c \"{count}\"").splitlines()[-1] == "0"


@pytest.mark.parametrize("unit", ["demo-cron-retired.timer", "demo-cron-retired.service"])
def test_units_of_a_command_no_longer_listed_are_removed(host: Host, unit: str):
    # side_effect.yml left them, enabled and started, before the role's next run.
    assert not host.file(f"/etc/systemd/system/{unit}").exists
    assert host.run(f"systemctl is-active {unit}").stdout.strip() != "active"

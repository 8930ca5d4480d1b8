"""The postgresql role keeps the app's password out of every output: each task that
names it hides its arguments and result (no_log), and the argument spec marks it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROLE = Path(__file__).resolve().parents[1] / "roles" / "postgresql"


def _tasks(entries: list[dict[str, Any]], inherited_no_log: bool = False) -> Iterator[tuple[dict[str, Any], bool]]:
    for entry in entries:
        no_log = inherited_no_log or entry.get("no_log") is True
        if "block" in entry:
            for section in ("block", "rescue", "always"):
                yield from _tasks(entry.get(section) or [], no_log)
        else:
            yield entry, no_log


def _all_tasks() -> list[tuple[str, dict[str, Any], bool]]:
    found = []
    for path in sorted([*(ROLE / "tasks").glob("*.yml"), ROLE / "handlers" / "main.yml"]):
        for task, no_log in _tasks(yaml.safe_load(path.read_text()) or []):
            found.append((f"{path.name}: {task['name']}", task, no_log))
    return found


def test_every_task_using_the_password_has_no_log():
    using = [(name, no_log) for name, task, no_log in _all_tasks()
             if "postgresql_password" in yaml.safe_dump({k: v for k, v in task.items() if k != "name"})]
    # The checks of validate.yml only test that it is set; their message never shows it.
    using = [(name, no_log) for name, no_log in using if not name.startswith("validate.yml")]
    assert using, "no task sets the password"
    assert all(no_log for _, no_log in using), using


def test_validation_message_never_shows_the_password():
    assert "{{ postgresql_password" not in (ROLE / "tasks" / "validate.yml").read_text()


def test_argument_spec_marks_the_password_secret_and_validation_refuses_it_empty():
    # Its default is the stack-wide site_database_password, "" until the vault sets it.
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry in spec.values():
        assert entry["options"]["postgresql_password"]["no_log"] is True
    assert "- postgresql_password | length > 0" in (ROLE / "tasks" / "validate.yml").read_text()

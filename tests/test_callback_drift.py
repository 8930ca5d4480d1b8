"""The callback djstack.stack.drift and the role djstack.stack.drift_report: a check run
lists each host's drift at the end and exits 2 when there is any, 0 when there is none;
a normal run lists what it repaired and passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ansible_collections.djstack.stack.plugins.callback import drift

from tests.playbook import run_playbook

CALLBACK = {"ANSIBLE_CALLBACKS_ENABLED": "djstack.stack.drift"}
# ansible.cfg's callback list as it was before the drift callback.
NO_CALLBACK = {"ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks"}
JSON = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"}
PLAY = ("- hosts: all\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n")
# The report in a play of its own after the others, as site.yml would run it.
REPORT = PLAY + "  roles:\n    - djstack.stack.drift_report\n"
REPORT_TASK = "drift_report : Report the drift of this host"
FAIL_TASK = "drift_report : Fail the check run on the drift of this host"


def _playbook(tmp_path: Path, tasks: str, handlers: str = "", report: bool = True) -> Path:
    """A play running the role `demo` (TASKS, HANDLERS), then the report."""
    role = tmp_path / "roles" / "demo"
    (role / "tasks").mkdir(parents=True, exist_ok=True)
    (role / "tasks" / "main.yml").write_text("---\n" + tasks)
    if handlers:
        (role / "handlers").mkdir(exist_ok=True)
        (role / "handlers" / "main.yml").write_text("---\n" + handlers)
    playbook = tmp_path / "site.yml"
    playbook.write_text("---\n" + PLAY + "  roles:\n    - demo\n" + (REPORT if report else ""))
    return playbook


def _copy(dest: Path, content: str = "wanted\n") -> str:
    return (f"- name: Write the demo file\n  ansible.builtin.copy:\n    dest: {dest}\n"
            f"    content: {json.dumps(content)}\n    mode: '0644'\n")


def _json_run(playbook: Path, *args: str, env: dict[str, str] | None = None,
              inventory: str = "localhost,") -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    run = run_playbook(str(playbook), *args, inventory=inventory, env={**CALLBACK, **JSON, **(env or {})})
    try:
        report, _ = json.JSONDecoder().raw_decode(run.stdout[run.stdout.index("{"):])
    except ValueError:
        pytest.fail(f"no JSON report (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return run, report


def _task_results(report: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """Per host, the result of the task whose name ends with NAME (the last one run)."""
    found: dict[str, dict[str, Any]] = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].endswith(name):
                found.update(task["hosts"])
    return found


def _summary(report: dict[str, Any], host: str = "localhost") -> list[str]:
    return _task_results(report, REPORT_TASK)[host]["msg"]


def _failure(report: dict[str, Any], host: str = "localhost") -> dict[str, Any]:
    return _task_results(report, FAIL_TASK)[host]


# --- The report, as users see it ------------------------------------------------------


def test_a_drifted_file_fails_the_check_run_naming_the_file_and_its_kind(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    target.write_text("drifted\n")
    run = run_playbook(str(_playbook(tmp_path, _copy(target))), "--check", "--diff", env=CALLBACK)
    assert run.returncode == 2, run.stdout[-3000:]
    assert f"file {target} (demo : Write the demo file)" in run.stdout
    assert f"1 drifted item on localhost: file {target} (demo : Write the demo file)" in run.stdout
    assert target.read_text() == "drifted\n"


def test_a_check_run_without_drift_passes_and_says_so(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    target.write_text("wanted\n")
    target.chmod(0o644)
    run, report = _json_run(_playbook(tmp_path, _copy(target)), "--check", "--diff")
    assert run.returncode == 0, run.stdout[-3000:]
    assert _summary(report) == ["no drift"]
    assert _failure(report).get("skipped") is True


def test_each_loop_item_is_listed_with_its_label_and_the_loop_not_again(tmp_path: Path) -> None:
    # A command run for real in check mode: its result names nothing but the loop's label.
    tasks = ("- name: Run the demo commands\n  ansible.builtin.command: 'true {{ item.name }}'\n"
             "  changed_when: true\n  check_mode: false\n"
             "  loop: [{name: alpha}, {name: beta}]\n  loop_control:\n    label: 'step {{ item.name }}'\n")
    run, report = _json_run(_playbook(tmp_path, tasks), "--check")
    assert run.returncode == 2, run.stdout[-3000:]
    assert _summary(report)[1:] == ["command step alpha (demo : Run the demo commands)",
                                    "command step beta (demo : Run the demo commands)"]
    assert _failure(report)["msg"].startswith("2 drifted items on localhost: ")


def test_loop_items_of_a_file_module_name_their_own_dest(tmp_path: Path) -> None:
    tasks = ("- name: Write the demo files\n  ansible.builtin.copy:\n    dest: '" + str(tmp_path) + "/{{ item }}.conf'\n"
             "    content: wanted\n    mode: '0644'\n  loop: [one, two]\n")
    run, report = _json_run(_playbook(tmp_path, tasks), "--check")
    assert run.returncode == 2, run.stdout[-3000:]
    assert _summary(report)[1:] == [f"file {tmp_path}/one.conf (demo : Write the demo files)",
                                    f"file {tmp_path}/two.conf (demo : Write the demo files)"]


def test_handlers_are_not_listed(tmp_path: Path) -> None:
    tasks = ("- name: Change something\n  ansible.builtin.command: 'true'\n  changed_when: true\n"
             "  check_mode: false\n  notify: Restart the demo\n")
    handlers = "- name: Restart the demo\n  ansible.builtin.command: 'true'\n  changed_when: true\n  check_mode: false\n"
    run, report = _json_run(_playbook(tmp_path, tasks, handlers), "--check")
    assert _task_results(report, "Restart the demo")["localhost"]["changed"] is True
    assert run.returncode == 2, run.stdout[-3000:]
    assert _summary(report)[1:] == ["command (demo : Change something)"]


def test_a_normal_run_lists_what_it_repaired_and_passes(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    target.write_text("drifted\n")
    run, report = _json_run(_playbook(tmp_path, _copy(target)))
    assert run.returncode == 0, run.stdout[-3000:]
    assert _summary(report) == ["repaired on localhost: 1 changed", f"file {target} (demo : Write the demo file)"]
    assert _failure(report).get("skipped") is True
    assert target.read_text() == "wanted\n"


def test_fail_on_drift_false_lets_a_drifted_check_run_pass(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    target.write_text("drifted\n")
    run, report = _json_run(_playbook(tmp_path, _copy(target)), "--check", "-e", "drift_report_fail_on_drift=false")
    assert run.returncode == 0, run.stdout[-3000:]
    assert _summary(report)[1:] == [f"file {target} (demo : Write the demo file)"]


def test_each_host_is_reported_on_its_own(tmp_path: Path) -> None:
    tasks = ("- name: Change web1 only\n  ansible.builtin.command: 'true'\n  changed_when: true\n"
             "  check_mode: false\n  when: inventory_hostname == 'web1'\n")
    run, report = _json_run(_playbook(tmp_path, tasks), "--check", inventory="web1,web2,")
    assert run.returncode == 2, run.stdout[-3000:]
    assert _summary(report, "web1")[1:] == ["command (demo : Change web1 only)"]
    assert _summary(report, "web2") == ["no drift"]
    assert _failure(report, "web1")["msg"].startswith("1 drifted item on web1: ")
    assert _failure(report, "web2").get("skipped") is True


# --- Without the callback -------------------------------------------------------------


def test_a_check_run_without_the_callback_fails_naming_the_setting(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    target.write_text("wanted\n")
    run = run_playbook(str(_playbook(tmp_path, _copy(target))), "--check", env=NO_CALLBACK)
    assert run.returncode == 2, run.stdout[-3000:]
    assert "callbacks_enabled = djstack.stack.drift" in run.stdout
    assert "[defaults]" in run.stdout and "ANSIBLE_CALLBACKS_ENABLED" in run.stdout


def test_a_normal_run_without_the_callback_only_warns(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    target.write_text("drifted\n")
    run = run_playbook(str(_playbook(tmp_path, _copy(target))), env=NO_CALLBACK)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "WARNING: The drift report needs the callback djstack.stack.drift" in run.stdout
    assert "callbacks_enabled = djstack.stack.drift" in run.stdout


def test_the_repository_config_enables_the_callback(tmp_path: Path) -> None:
    # Without ANSIBLE_CALLBACKS_ENABLED: ansible.cfg's list alone.
    target = tmp_path / "demo.conf"
    target.write_text("drifted\n")
    run = run_playbook(str(_playbook(tmp_path, _copy(target))), "--check")
    assert run.returncode == 2, run.stdout[-3000:]
    assert f"1 drifted item on localhost: file {target}" in run.stdout


def test_the_readme_line_enables_the_callback_in_a_users_config(tmp_path: Path) -> None:
    """A user's own ansible.cfg with the README's line (and nothing of this repository's)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    line = next(s.strip() for s in readme.splitlines() if s.strip().startswith("callbacks_enabled ="))
    config = tmp_path / "ansible.cfg"
    config.write_text(f"[defaults]\n{line}\n")
    target = tmp_path / "demo.conf"
    target.write_text("drifted\n")
    assert "ANSIBLE_CALLBACKS_ENABLED" not in os.environ  # it would replace the config's list
    run = run_playbook(str(_playbook(tmp_path, _copy(target))), "--check", env={"ANSIBLE_CONFIG": str(config)})
    assert run.returncode == 2, run.stdout[-3000:]
    assert f"1 drifted item on localhost: file {target}" in run.stdout


def test_the_role_readmes_play_reports_the_runs_drift(tmp_path: Path) -> None:
    """The play the role's README tells users to put last, taken from the README as written."""
    readme = (Path(__file__).resolve().parent.parent / "roles" / "drift_report" / "README.md").read_text()
    play = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    target = tmp_path / "demo.conf"
    target.write_text("drifted\n")
    playbook = _playbook(tmp_path, _copy(target), report=False)
    playbook.write_text(playbook.read_text() + play)
    run = run_playbook(str(playbook), "--check", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}",
                       env=CALLBACK)
    assert run.returncode == 2, run.stdout[-3000:]
    assert f"1 drifted item on localhost: file {target} (demo : Write the demo file)" in run.stdout


# --- The host variables the callback publishes ----------------------------------------


def test_the_variables_are_visible_to_the_tasks_of_the_play(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    # Set at the play's start (an empty list before any change), then after each change.
    tasks = ("- name: Read the variables before any change\n  ansible.builtin.assert:\n    that:\n"
             "      - djstack_drift_enabled is true\n      - djstack_drift == []\n"
             + _copy(target) +
             "- name: Read the variables after the change\n  ansible.builtin.assert:\n    that:\n"
             "      - " + json.dumps(f"djstack_drift == [{{'task': 'demo : Write the demo file', 'kind': 'file', "
                              f"'item': '{target}'}}]") + "\n")
    run, report = _json_run(_playbook(tmp_path, tasks, report=False), "--check")
    assert run.returncode == 0, run.stdout[-3000:]
    for name in ("Read the variables before any change", "Read the variables after the change"):
        assert _task_results(report, name)["localhost"].get("failed") is not True, name


def test_a_later_play_reads_the_drift_of_the_earlier_ones(tmp_path: Path) -> None:
    target = tmp_path / "demo.conf"
    playbook = _playbook(tmp_path, _copy(target), report=False)
    playbook.write_text(playbook.read_text() + PLAY + "  tasks:\n    - name: Read the drift of the first play\n"
                        "      ansible.builtin.assert:\n        that: djstack_drift | map(attribute='item') | list"
                        f" == ['{target}']\n")
    run, report = _json_run(playbook, "--check")
    assert run.returncode == 0, run.stdout[-3000:]
    assert _task_results(report, "Read the drift of the first play")["localhost"].get("failed") is not True


def test_without_the_callback_the_variables_are_undefined(tmp_path: Path) -> None:
    tasks = ("- name: Read the variables\n  ansible.builtin.assert:\n    that:\n"
             "      - djstack_drift is not defined\n      - djstack_drift_enabled is not defined\n")
    run, _ = _json_run(_playbook(tmp_path, tasks, report=False), "--check", env=NO_CALLBACK)
    assert run.returncode == 0, run.stdout[-3000:]


# --- The callback's classification and labels -----------------------------------------


@pytest.mark.parametrize(("action", "kind"), [
    ("ansible.builtin.template", "file"), ("copy", "file"), ("ansible.legacy.lineinfile", "file"),
    ("blockinfile", "file"), ("ansible.builtin.file", "path"), ("file", "path"), ("apt", "package"),
    ("ansible.builtin.package", "package"), ("djstack.stack.deb_packages", "package"),
    ("ansible.builtin.systemd_service", "service"), ("systemd", "service"), ("ansible.builtin.service", "service"),
    ("ansible.builtin.user", "user"), ("group", "user"), ("djstack.stack.owned_directory", "stray entry"),
    ("djstack.stack.owned_tree", "ownership"), ("djstack.stack.nft_table", "firewall"),
    ("ansible.builtin.command", "command"), ("shell", "command"), ("ansible.builtin.git", "other"),
    ("other.collection.copy", "other"), (None, "other"),
])
def test_the_kind_follows_the_resolved_action(action: str | None, kind: str) -> None:
    assert drift.kind_of(action) == kind


def test_the_label_prefers_the_results_dest_then_path_then_name() -> None:
    assert drift.item_label({"dest": "/a", "path": "/b", "name": "c", "_ansible_item_label": "d"}) == "/a"
    assert drift.item_label({"path": "/b", "name": "c"}) == "/b"
    assert drift.item_label({"name": ["not", "a", "string"], "_ansible_item_label": "d"}) == "d"
    assert drift.item_label({"_ansible_item_label": {"n": 1}}) == "{'n': 1}"
    assert drift.item_label({}, {"dest": "/from/args"}) == "/from/args"
    assert drift.item_label({"path": "/b"}, {"dest": "/from/args"}) == "/b"
    assert drift.item_label({}) == ""
    assert drift.item_label({"missing": ["nginx", "curl"], "_ansible_item_label": "d"}, {"name": "x"}) == "nginx, curl"


def test_a_censored_result_has_no_label() -> None:
    assert drift.item_label({"_ansible_no_log": True, "_ansible_item_label": "secret"}, {"dest": "/x"}) == ""


def _result(role: str | None, changed: bool = True) -> Any:
    task = SimpleNamespace(name="Do it", action="ansible.builtin.copy", resolved_action="ansible.builtin.copy",
                           loop=None, loop_with=None,
                           _role=SimpleNamespace(get_name=lambda include_role_fqcn=True: role) if role else None)
    return SimpleNamespace(task=task, host=SimpleNamespace(get_name=lambda: "web1"), result={"dest": "/x"},
                           task_fields={"args": {}}, is_changed=lambda: changed)


def test_the_report_roles_own_tasks_are_not_recorded() -> None:
    callback = drift.CallbackModule()
    callback.v2_runner_on_ok(_result("drift_report"))
    callback.v2_runner_on_ok(_result(None, changed=False))
    assert callback.drift == {}
    callback.v2_runner_on_ok(_result("nginx"))
    callback.v2_runner_on_ok(_result(None))
    assert callback.drift == {"web1": [{"task": "nginx : Do it", "kind": "file", "item": "/x"},
                                       {"task": "Do it", "kind": "file", "item": "/x"}]}

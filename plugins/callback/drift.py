# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record what a run changed (or, in check mode, would change) on each host, for the
role djstack.stack.drift_report."""

from __future__ import annotations

DOCUMENTATION = r"""
name: drift
type: aggregate
short_description: Records each host's changed results as the host variable djstack_drift
version_added: 0.1.0
author: djstack maintainers (@djstack)
description:
  - Records, per host, every task result that is changed (in check mode, every item that
    would change, that is drift); each item of a loop on its own, the loop's own result not
    again. Results of handlers and of the role P(djstack.stack.drift_report#role) are left out.
  - Each recorded item is a dictionary with C(task) (the role's short name, a colon and the
    task's name), C(kind) (what the task's module manages, for instance C(file), C(package),
    C(service), or C(other)) and C(item) (the result's C(dest), C(path) or C(name), else its list of
    C(missing) packages, else the task's argument of that name, else the loop item's label,
    else an empty string).
  - Publishes the list as the host variable C(djstack_drift), and C(djstack_drift_enabled=true),
    for every host of each play, at the start of the play and after each recorded change, so
    the tasks of the play read it (include_vars precedence). A host with no change has an
    empty list.
  - The role P(djstack.stack.drift_report#role) prints it and, in check mode, fails a host with
    drift, so that C(ansible-playbook --check --diff) exits non-zero on drift.
requirements:
  - Enable it in ansible.cfg, C(callbacks_enabled = djstack.stack.drift) under C([defaults]),
    or with the environment variable C(ANSIBLE_CALLBACKS_ENABLED).
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = djstack.stack.drift
"""

import typing as t

from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase

if t.TYPE_CHECKING:
    from ansible.executor.task_result import CallbackTaskResult
    from ansible.playbook.play import Play
    from ansible.playbook.task import Task

# The report role's own tasks are never drift.
REPORT_ROLE = "drift_report"
# What a module manages, by its short name (ansible.builtin.*, ansible.legacy.*) or FQCN.
KINDS: dict[str, str] = {
    **dict.fromkeys(("template", "copy", "lineinfile", "blockinfile", "replace", "assemble", "ini_file",
                     "community.general.ini_file", "ansible.posix.authorized_key"), "file"),
    "file": "path",
    **dict.fromkeys(("apt", "package", "dnf", "pip", "djstack.stack.deb_packages"), "package"),
    **dict.fromkeys(("systemd_service", "systemd", "service", "sysvinit"), "service"),
    **dict.fromkeys(("user", "group"), "user"),
    "djstack.stack.owned_directory": "stray entry",
    "djstack.stack.owned_tree": "ownership",
    "djstack.stack.nft_table": "firewall",
    **dict.fromkeys(("command", "shell", "raw", "script"), "command"),
}
_SHORT_PREFIXES = ("ansible.builtin.", "ansible.legacy.")
# Result keys that name what was changed, the most telling first.
_LABEL_KEYS = ("dest", "path", "name")


def kind_of(action: str | None) -> str:
    """The kind of thing the module ACTION (short name or FQCN) manages."""
    name = action or ""
    for prefix in _SHORT_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return KINDS.get(name, KINDS.get(action or "", "other"))


def _named(source: t.Mapping[str, t.Any]) -> str:
    """SOURCE's dest, path or name, the first that is a non-empty string, else ""."""
    for key in _LABEL_KEYS:
        value = source.get(key)
        if isinstance(value, str) and value:
            return str(value)
    return ""


def item_label(result: t.Mapping[str, t.Any], args: t.Mapping[str, t.Any] | None = None) -> str:
    """The result's dest, path or name (a string), else its list of missing packages, else the
    task's templated argument of that name (copy and template report no dest in check mode),
    else the loop item's label, else ""."""
    if result.get("_ansible_no_log"):
        return ""
    if named := _named(result):
        return named
    # djstack.stack.deb_packages: the packages that were (in check mode, would be) installed.
    missing = result.get("missing")
    if isinstance(missing, list) and missing and all(isinstance(name, str) for name in missing):
        return ", ".join(str(name) for name in missing)
    if named := _named(args or {}):
        return named
    label = result.get("_ansible_item_label")
    return "" if label is None else str(label)


def task_label(task: Task) -> str:
    """"<role> : <task name>", the role by its short name, or the task's name alone."""
    name = (task.name or task.action or "").strip()
    role = getattr(task, "_role", None)
    return f"{role.get_name(include_role_fqcn=False)} : {name}" if role else name


def _args(result: CallbackTaskResult) -> t.Mapping[str, t.Any]:
    """The task's arguments as the worker templated them (for this loop item), {} under no_log."""
    fields = result.task_fields
    args = fields.get("args")
    if fields.get("no_log") or not isinstance(args, t.Mapping):
        return {}
    return args


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "djstack.stack.drift"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.drift: dict[str, list[dict[str, str]]] = {}
        self._variable_manager: t.Any = None

    # --- publishing ----------------------------------------------------------------
    def _publish(self, host_name: str) -> None:
        if self._variable_manager is None:
            return
        # A copy: what a task has read stays as it was.
        items = [dict(entry) for entry in self.drift.get(host_name, [])]
        self._variable_manager.set_host_variable(host_name, "djstack_drift", items)
        self._variable_manager.set_host_variable(host_name, "djstack_drift_enabled", True)

    def v2_playbook_on_play_start(self, play: Play) -> None:
        self._variable_manager = play.get_variable_manager()
        if self._variable_manager is None:
            return
        names = set(self.drift)
        inventory = getattr(self._variable_manager, "_inventory", None)
        if inventory is not None:
            # The play's hosts (its current serial batch, within --limit).
            names.update(host.get_name() for host in inventory.get_hosts(play.hosts))
        for name in sorted(names):
            self._publish(name)

    # --- recording -----------------------------------------------------------------
    def _record(self, result: CallbackTaskResult) -> None:
        task = result.task
        if isinstance(task, Handler) or not result.is_changed():
            return
        role = getattr(task, "_role", None)
        if role is not None and role.get_name(include_role_fqcn=False) == REPORT_ROLE:
            return
        host_name = result.host.get_name()
        self.drift.setdefault(host_name, []).append({
            "task": task_label(task),
            "kind": kind_of(task.resolved_action or task.action),
            "item": item_label(result.result, _args(result)),
        })
        self._publish(host_name)

    def v2_runner_on_ok(self, result: CallbackTaskResult) -> None:
        task = result.task
        # A loop's own result sums up its items, each of which came on its own.
        if (task.loop or task.loop_with) and isinstance(result.result.get("results"), list):
            return
        self._record(result)

    def v2_runner_item_on_ok(self, result: CallbackTaskResult) -> None:
        self._record(result)

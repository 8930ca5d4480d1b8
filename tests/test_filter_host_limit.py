"""djstack.stack.host_limit: the one place that picks the CPUs and memory the roles size
from (gunicorn's workers, memcached's cache, postgresql's buffers): the module
djstack.stack.host_limits' fact once it has run, Ansible's facts before. The filter on its
own, and the three roles' variables through a real play on this machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.djstack.stack.plugins.filter.host_limit import host_limit

from tests.playbook import run_playbook

ROLES = Path(__file__).resolve().parents[1] / "roles"
LIMITS = {"vcpus": 1, "memory_mb": 512, "memory_limited": True, "cpu_limited": True, "source": "cgroup v2"}
MACHINE = {"processor_vcpus": 8, "memtotal_mb": 24105}


@pytest.mark.parametrize("name, expected", [("vcpus", 1), ("memory_mb", 512)])
def test_the_modules_fact_wins_over_the_machines(name: str, expected: int) -> None:
    assert host_limit({**MACHINE, "djstack_host_limits": LIMITS}, name) == expected


@pytest.mark.parametrize("name, expected", [("vcpus", 8), ("memory_mb", 24105)])
def test_before_the_module_the_machines_facts_stand_in(name: str, expected: int) -> None:
    assert host_limit(MACHINE, name) == expected


def test_a_host_without_a_cpu_count_has_one() -> None:
    assert host_limit({"memtotal_mb": 470}, "vcpus") == 1


def test_an_unknown_limit_is_an_error() -> None:
    with pytest.raises(AnsibleFilterError, match="unknown limit 'cpus'"):
        host_limit(MACHINE, "cpus")


def test_anything_but_the_facts_is_an_error() -> None:
    with pytest.raises(AnsibleFilterError, match="ansible_facts"):
        host_limit(["memtotal_mb"], "memory_mb")  # type: ignore[arg-type]


def test_the_roles_size_from_no_facts_the_machines_then_the_modules(tmp_path: Path) -> None:
    """Each role's variables, as its vars/main.yml defines them: with no facts (show_config.yml:
    one CPU, memory undefined, not an error), after Ansible's facts, after the module's."""
    wanted = {"gunicorn": ["_gunicorn_host_vcpus", "_gunicorn_host_memory_mb"],
              "memcached": ["_memcached_host_vcpus", "_memcached_host_memory_mb"],
              "postgresql": ["_postgresql_memory_mb"]}
    names = [name for role_names in wanted.values() for name in role_names]
    report = "{{ {" + ", ".join(f"'{name}': {name} | default('undefined')" for name in names) + "} | to_json }}"
    show = f"    - ansible.builtin.debug:\n        msg: \"{report}\"\n"
    playbook = tmp_path / "sizes.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        f"  vars_files: {json.dumps([str(ROLES / role / 'vars' / 'main.yml') for role in wanted])}\n"
        "  tasks:\n" + show +
        "    - ansible.builtin.setup:\n        gather_subset: ['!all', hardware]\n"
        "        filter: [ansible_processor_vcpus, ansible_memtotal_mb]\n" + show +
        # The module's fact as it would be on a 512 MB / 1 vCPU container (cacheable: in ansible_facts).
        f"    - ansible.builtin.set_fact:\n        djstack_host_limits: {json.dumps(LIMITS)}\n        cacheable: true\n"
        + show +
        "    - ansible.builtin.debug:\n        msg: \"{{ ansible_facts | to_json }}\"\n")
    done = run_playbook(str(playbook), env={"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json"})
    assert done.returncode == 0, done.stdout + done.stderr
    result, _ = json.JSONDecoder().raw_decode(done.stdout[done.stdout.index("{"):])
    tasks = result["plays"][0]["tasks"]
    none, machine, limits, facts = (json.loads(tasks[i]["hosts"]["localhost"]["msg"]) for i in (0, 2, 4, 5))
    assert facts["djstack_host_limits"] == LIMITS
    for name in names:
        vcpus = name.endswith("vcpus")
        assert none[name] == (1 if vcpus else "undefined"), name
        assert machine[name] == facts["processor_vcpus" if vcpus else "memtotal_mb"], name
        assert limits[name] == LIMITS["vcpus" if vcpus else "memory_mb"], name

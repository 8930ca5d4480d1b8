#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
---
module: release_venv
short_description: Plan a django_app release's venv and reuse an identical one by hard links
description:
  - Computes the venv key of the release O(release) under O(root)/releases
    (SHA-256 of the interpreter and its bytecode tag, the requirements file and every file it
    includes with C(-r)/C(-c), and the extra packages).
  - Finds a release whose finished venv (marked complete by M(djstack.stack.release_code)) carries that key,
    the current release first, then the newest.
  - With O(reuse), hard-links that venv into the release; scripts in C(venv/bin) and C(pyvenv.cfg)
    that name the old path are rewritten as new files, so the clone keeps working after the release
    it came from is pruned. Without a source the caller creates the venv and installs into it.
  - A release that already has a C(venv/) is left alone.
  - Fails first, naming both versions and what to change, when O(python) cannot run the
    project, because the C(requires-python) of the release's C(pyproject.toml) excludes it or
    the oldest Django release its requirements allow needs a newer Python.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  root:
    description: The app root holding C(releases/) and C(current).
    type: path
    required: true
  release:
    description: The id of the new release (a directory under O(root)/releases).
    type: str
    required: true
  python:
    description: The interpreter the venv is built with.
    type: path
    required: true
  requirements:
    description: The requirements file, relative to the release; empty for none.
    type: str
    default: ""
  extra_packages:
    description: Packages installed besides the requirements, always; part of the key.
    type: list
    elements: str
    default: []
  stack_packages:
    description:
      - Packages the stack needs in every venv (the app server, the cache client, the database
        driver), each added only when the requirements (with their C(-r) includes) name none of
        its O(stack_packages[].names); the project's own pin of it is kept.
      - A project's pin below O(stack_packages[].minimum) fails, naming both versions.
    type: list
    elements: dict
    default: []
    suboptions:
      names:
        description: Distributions that provide it (e.g. psycopg, psycopg2-binary); any spelling.
        type: list
        elements: str
        required: true
      install:
        description: The requirement installed when the project names none of them.
        type: str
        required: true
      minimum:
        description: Oldest version the stack works with; empty for any.
        type: str
        default: ""
      reason:
        description: Why that minimum, for the failure message.
        type: str
        default: ""
  reuse:
    description: Hard-link a venv with the same key; false only plans.
    type: bool
    default: true
  project:
    description:
      - >-
        The release installs itself (C(pip install) of the C(pyproject.toml) at its top), so its
        C([project] dependencies) count as the project's requirements for O(stack_packages).
      - Its venv then holds the release's own code, so its key is the release's alone and no
        other release's venv is reused. A release without C(pyproject.toml) fails.
    type: bool
    default: false
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  check_mode:
    details: Computes the key and the source, reports whether it would clone, writes nothing.
  diff_mode:
    support: full
    details: The release's venv before and after (absent, or hard-linked from another release).
"""

EXAMPLES = r"""
- name: Reuse a venv with the same requirements
  djstack.stack.release_venv:
    root: /srv/demo
    release: 20261122T101500Z-3f2a9c1d7e4b
    python: /usr/bin/python3
    requirements: requirements.txt
    # gunicorn only if requirements.txt does not pin its own (then at least 22.0.0).
    stack_packages:
      - names: [gunicorn]
        install: gunicorn==27.0.1
        minimum: 22.0.0
  register: venv

- name: Create the venv when there was none to reuse
  ansible.builtin.command:
    argv: [/usr/bin/python3, -m, venv, /srv/demo/releases/20261122T101500Z-3f2a9c1d7e4b/venv]
  when: venv.source | length == 0
"""

RETURN = r"""
key:
  description: The venv key of the release.
  returned: always
  type: str
source:
  description: The release whose venv the new one reuses (V("") when none has the key, or O(reuse) is false).
  returned: always
  type: str
linked:
  description: Files hard-linked from the source venv.
  returned: when the venv was cloned
  type: int
rewritten:
  description: Scripts of C(venv/bin) (and C(pyvenv.cfg)) rewritten to name the new venv.
  returned: when the venv was cloned
  type: list
  elements: str
packages:
  description: What to install besides the requirements, O(extra_packages) first, then the stack's that the project lacks.
  returned: always
  type: list
  elements: str
  sample: ["gunicorn==27.0.1"]
added:
  description: The O(stack_packages) the project names none of, as installed.
  returned: always
  type: list
  elements: str
provided:
  description: The O(stack_packages) the project's requirements provide, as they name them.
  returned: always
  type: list
  elements: str
  sample: ["gunicorn==22.0.0"]
"""

import subprocess
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.releases import ReleaseError
from ansible_collections.djstack.stack.plugins.module_utils.python_requirement import (
    parse_version,
    python_problems,
)
from ansible_collections.djstack.stack.plugins.module_utils.venv import clone_venv, plan_venv


def interpreter_version(python: str) -> tuple[int, ...]:
    return parse_version(subprocess.run(
        [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        check=True, capture_output=True, text=True,
    ).stdout)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "root": {"type": "path", "required": True},
            "release": {"type": "str", "required": True},
            "python": {"type": "path", "required": True},
            "requirements": {"type": "str", "default": ""},
            "extra_packages": {"type": "list", "elements": "str", "default": []},
            "stack_packages": {"type": "list", "elements": "dict", "default": [], "options": {
                "names": {"type": "list", "elements": "str", "required": True},
                "install": {"type": "str", "required": True},
                "minimum": {"type": "str", "default": ""},
                "reason": {"type": "str", "default": ""},
            }},
            "reuse": {"type": "bool", "default": True},
            "project": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    root = Path(params["root"])
    dst = root / "releases" / params["release"] / "venv"
    try:
        # Before anything is built: pip's own refusal comes late and names no way out.
        problems = python_problems(root / "releases" / params["release"], params["requirements"],
                                   params["python"], interpreter_version(params["python"]))
        if problems:
            module.fail_json(msg=" ".join(problems))
        plan = plan_venv(root, params["release"], params["python"], params["requirements"],
                         params["extra_packages"], params["stack_packages"], project=params["project"])
    except (ReleaseError, OSError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    except subprocess.CalledProcessError as exc:
        module.fail_json(msg=f"{params['python']} cannot tell its bytecode tag: {(exc.stderr or '').strip()}")
    source = plan["source"] if params["reuse"] else ""
    result = {"key": plan["key"], "source": source, "packages": plan["packages"],
              "added": plan["added"], "provided": plan["provided"]}
    clone = bool(source) and not dst.exists()
    if clone and not module.check_mode:
        try:
            done = clone_venv(root / "releases" / source / "venv", dst)
        except (ReleaseError, OSError) as exc:
            module.fail_json(msg=f"cloning the venv of release {source}: {exc}")
        result.update(linked=done["linked"], rewritten=done["rewritten"])
    if module._diff:
        before = "present" if dst.exists() and not clone else "absent"
        after = f"hard-linked from releases/{source}/venv" if clone else before
        result["diff"] = {"before": {"venv": before}, "after": {"venv": after}}
    module.exit_json(changed=clone, **result)


if __name__ == "__main__":
    main()

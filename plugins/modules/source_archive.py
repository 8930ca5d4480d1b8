#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: djstack.stack.source_archive is an action plugin
# (plugins/action/source_archive.py) that runs on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: source_archive
short_description: Pack a controller directory into a deterministic archive and hash it
description:
  - Packs the directory O(src) on the controller into the gzipped tar archive O(dest), ready for
    M(ansible.builtin.unarchive) to copy to a host.
  - The archive is deterministic. Entries are sorted, owners and timestamps are left out, and modes are
    normalised (directories C(0755), files C(0644), or C(0755) when any execute bit is set, symlinks
    C(0777)). The same tree gives a byte-identical archive on every controller and every run.
  - RV(revision) is the SHA-256 of the uncompressed tar stream, so it changes exactly when a packed
    path, its content, its type, its symlink target or its executable bit changes, and never
    because of a timestamp.
  - Symlinks are packed as links. A symlink that is absolute or leads out of O(src) fails the task,
    as does anything that is not a regular file, a directory or a symlink (sockets, FIFOs, devices).
  - Runs on the controller only and changes nothing on the managed host (never reports changed). It
    makes no connection to the host.
  - In check mode it still writes O(dest), because a check run needs the revision to tell whether a
    deploy would make a new release.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  src:
    description:
      - Directory on the controller to pack.
      - A relative path is taken from the playbook's directory.
    type: path
    required: true
  dest:
    description:
      - Controller path of the C(.tar.gz) archive to write. Its directory must exist and must not be
        inside O(src).
      - An existing file is replaced. The archive is written to a temporary file next to O(dest) first, so
        a failed pack never leaves a truncated archive behind.
      - A relative path is taken from the playbook's directory.
    type: path
    required: true
  excludes:
    description:
      - Patterns (shell-style, C(fnmatch)) of paths left out of the archive. An excluded directory is
        left out with everything under it.
      - A pattern without C(/) matches the name of a file or directory at any depth, for example
        C(__pycache__) or C(*.pyc).
      - A pattern with C(/) matches the path relative to O(src). Leading and trailing slashes are
        ignored, so C(/media) is only the top-level C(media) directory, not C(catalog/media).
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - action_common_attributes
  - action_common_attributes.conn
  - action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  become:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details: Packs in check mode too (see the description); the host is never changed.
  connection:
    support: none
  delegation:
    support: none
    details: It always runs on the controller, with or without C(delegate_to).
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
    details: The controller's file system; the managed host is not involved.
seealso:
  - module: ansible.builtin.unarchive
  - module: ansible.builtin.tempfile
"""

EXAMPLES = r"""
- name: Create a scratch directory on the controller
  ansible.builtin.tempfile:
    state: directory
  delegate_to: localhost
  register: scratch

- name: Pack the project
  djstack.stack.source_archive:
    src: "{{ playbook_dir }}/../app"
    dest: "{{ scratch.path }}/source.tar.gz"
    excludes:
      - __pycache__
      - "*.pyc"
      - .git
      - /media
  register: packed

- name: Unpack it on the host
  ansible.builtin.unarchive:
    src: "{{ packed.dest }}"
    dest: /srv/demo/releases/{{ packed.revision[:12] }}
"""

RETURN = r"""
revision:
  description: SHA-256 (hex) of the uncompressed tar stream; the same tree always gives the same value.
  returned: success
  type: str
  sample: 3f0c2a9d8e1b4c5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f
src:
  description: Absolute path of the packed directory.
  returned: success
  type: str
  sample: /home/alice/project/app
dest:
  description: Absolute path of the archive written.
  returned: success
  type: str
  sample: /tmp/ansible.x1y2z3-django_app/source.tar.gz
files:
  description: Number of entries in the archive (regular files, directories and symlinks).
  returned: success
  type: int
  sample: 42
size:
  description: Size of the archive (compressed) in bytes.
  returned: success
  type: int
  sample: 18244
"""

"""The repository as the Ansible collection djstack.stack.

`link` makes the working tree importable as the collection without installing it:
.cache/collections/ansible_collections/djstack/stack points at the repository, and
ansible.cfg (and Molecule's config) put .cache/collections on the collections path, so
the roles' FQCN module names and the playbooks' FQCN role names resolve to the code
being edited. The built artifact is what users install (see `build`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE, NAME = "djstack", "stack"
COLLECTIONS = ROOT / ".cache" / "collections"


def link(collections: Path = COLLECTIONS, root: Path = ROOT) -> Path:
    """Point collections/ansible_collections/<ns>/<name> at the tree; idempotent."""
    target = collections / "ansible_collections" / NAMESPACE / NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() and Path(os.readlink(target)) == root:
        return target
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(root, target_is_directory=True)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("link", help="make .cache/collections resolve djstack.stack to this tree")
    args = parser.parse_args(argv)
    if args.command == "link":
        print(link())
    return 0


if __name__ == "__main__":
    sys.exit(main())

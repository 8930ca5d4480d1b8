# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A release's code and venv on the target host: the venv key, reuse by hard links,
the RELEASE files and bytecode, and the key that marks the venv complete."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Sequence

from ansible_collections.djstack.stack.plugins.module_utils.releases import ReleaseError, current_id

KEY_FILE = ".djstack-venv-key"
_INCLUDE = re.compile(r"^\s*(?:-r|-c|--requirement|--constraint)(?:\s+|=)(\S+)")


# --- what the stack adds to the project's requirements ---------------------------

# A requirement line's distribution name and the rest (extras, specifiers, markers).
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;#]*)")
_UPPER_BOUND = re.compile(r"(===|==|<=|<|~=)\s*([0-9][0-9A-Za-z.*+!-]*)")


def canonical_name(name: str) -> str:
    """PEP 503's normalised form: Django, django and DJANGO name one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_dependencies(path: Path) -> list[str]:
    """The requirement strings of pyproject.toml's [project] dependencies ([] without any)."""
    import tomllib  # Python 3.11+, as on every Debian we support; only projects that have one need it

    with path.open("rb") as handle:
        dependencies = tomllib.load(handle).get("project", {}).get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise ReleaseError(f"{path.name}: [project] dependencies must be a list of requirement strings")
    return dependencies


def declared_requirements(path: Path | None, extra: Sequence[str] = ()) -> dict[str, str]:
    """{canonical name: its specifiers} of every requirement the file and its includes name,
    and of the `extra` requirement strings (a pyproject's dependencies)."""
    lines: list[str] = []
    for file in requirement_files(path) if path is not None else []:
        lines += file.read_text(encoding="utf-8").splitlines()
    found: dict[str, str] = {}
    for line in [*lines, *extra]:
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        match = _REQUIREMENT.match(line.split("@", 1)[0] if " @ " in line else line)
        if match:
            found[canonical_name(match.group(1))] = match.group(2).strip()
    return found


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+", 1)[0])[:4])


def too_old(specifiers: str, minimum: str) -> str:
    """The specifier of the project's that keeps the distribution below `minimum`, or ""."""
    if not minimum:
        return ""
    floor = _version(minimum)
    for operator, version in _UPPER_BOUND.findall(specifiers):
        ceiling = _version(version.replace("*", "0"))
        # ~=X.Y and ==X.* allow newer releases of X: compare what they pin down.
        if operator == "~=" or version.endswith("*"):
            ceiling = ceiling[:-1] + (10 ** 6,) if len(ceiling) > 1 else (10 ** 6,)
        if ceiling < floor or (operator == "<" and ceiling == floor):
            return f"{operator}{version}"
    return ""


def stack_packages(path: Path | None, wanted: Sequence[dict[str, Any]], source: str = "the requirements",
                   extra: Sequence[str] = ()) -> dict[str, Any]:
    """Which of the stack's packages the venv needs besides the project's requirements.

    Each wanted entry: names (any of them in the requirements provides it), install (the
    requirement to add when none does), minimum (the oldest version the stack works with).
    A project's own pin is kept; one below the minimum is a problem, naming both versions.
    """
    declared = declared_requirements(path, extra)
    added: list[str] = []
    provided: list[str] = []
    problems: list[str] = []
    for entry in wanted:
        names = [canonical_name(n) for n in entry["names"]]
        mine = next((n for n in names if n in declared), None)
        if mine is None:
            added.append(entry["install"])
            continue
        provided.append(mine + declared[mine])
        bound = too_old(declared[mine], entry.get("minimum") or "")
        if bound:
            problems.append(f"{source} pin {mine}{bound}, but the stack needs {mine}>={entry['minimum']}"
                            f"{' (' + entry['reason'] + ')' if entry.get('reason') else ''}: raise the pin")
    return {"added": added, "provided": provided, "problems": problems}


# --- the venv key --------------------------------------------------------------


def requirement_files(path: Path, seen: set[Path] | None = None) -> list[Path]:
    """The requirements file and every file it pulls in with -r/-c, in order."""
    seen = set() if seen is None else seen
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    files = [path]
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _INCLUDE.match(line)
        if match:
            files += requirement_files(path.parent / match.group(1), seen)
    return files


def python_tag(python: str) -> str:
    """The interpreter's bytecode tag and platform: what makes a venv's files its own."""
    return subprocess.run(
        [python, "-c", "import sys; print(sys.implementation.cache_tag, sys.platform)"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def venv_key(python: str, requirements: Path | None, extras: Sequence[str], base: Path | None = None,
             python_tag: str | None = None, project: str = "") -> str:  # pylint: disable=redefined-outer-name
    """Identify what a venv would contain: interpreter, requirement files' content, extras,
    and the release whose own code is installed in it (`project`; "" for none).

    Equal keys mean a venv can be reused instead of downloading everything again.
    """
    tag = python_tag if python_tag is not None else _python_tag(python)
    parts: dict[str, Any] = {"format": 1, "python": [python, tag], "extras": list(extras)}
    if project:
        parts["project"] = project
    if requirements is not None:
        base = base or requirements.parent
        parts["requirements"] = [
            [os.path.relpath(f, base), hashlib.sha256(f.read_bytes()).hexdigest()]
            for f in requirement_files(requirements)
        ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


_python_tag = python_tag


def find_venv(root: Path, key: str, exclude: str) -> str:
    """A release (current first, then newest) whose finished venv carries `key`; "" if none."""
    current = current_id(root)
    try:
        names = sorted((p.name for p in (root / "releases").iterdir() if p.is_dir()), reverse=True)
    except FileNotFoundError:
        return ""
    if current in names:
        names.remove(current)
        names.insert(0, current)
    for name in names:
        if name == exclude:
            continue
        marker = root / "releases" / name / "venv" / KEY_FILE
        with contextlib.suppress(OSError):
            if marker.read_text(encoding="utf-8").strip() == key:
                return name
    return ""


def plan_venv(root: Path, release: str, python: str, requirements: str, extras: Sequence[str],
              wanted: Sequence[dict[str, Any]] = (), project: bool = False) -> dict[str, Any]:
    """The new release's venv key, a release whose finished venv has that key ("" if none),
    and the packages installed besides the requirements (extras, then what the stack
    needs and the project does not name). With `project`, the release installs itself
    (pip install of its pyproject.toml): its dependencies count as declared, and its venv
    holds its own code, so its key is the release's alone and no other venv is reused."""
    release_dir = root / "releases" / release
    path = release_dir / requirements if requirements else None
    if path is not None and not path.is_file():
        raise ReleaseError(f"requirements file {requirements} is missing from the release")
    dependencies: list[str] = []
    if project:
        pyproject = release_dir / "pyproject.toml"
        if not pyproject.is_file():
            raise ReleaseError("the project is to be installed (django_app_install_project), but the release "
                               "has no pyproject.toml at the top of its tree")
        dependencies = pyproject_dependencies(pyproject)
    source = " and ".join(([requirements] if requirements else []) + (["pyproject.toml"] if project else []))
    stack = stack_packages(path, wanted, source=source or "the project", extra=dependencies)
    if stack["problems"]:
        raise ReleaseError("; ".join(stack["problems"]))
    packages = list(extras) + [p for p in stack["added"] if p not in extras]
    key = venv_key(python, path, packages, base=release_dir, project=release if project else "")
    return {"key": key, "source": find_venv(root, key, exclude=release), "packages": packages,
            "added": stack["added"], "provided": stack["provided"]}


def clone_venv(src: Path, dst: Path) -> dict[str, Any]:
    """Hard-link every file of src into dst, then give dst's scripts their own paths.

    Scripts in bin/ carry the venv's absolute path (shebangs, activate). Those that
    mention src are rewritten as new files, so the source keeps its own inodes and
    dst keeps working after src's release is pruned.
    """
    if dst.exists():
        raise ReleaseError(f"{dst} already exists")
    linked = 0
    for directory, dirnames, filenames in os.walk(src):
        here = Path(directory)
        target = dst / here.relative_to(src)
        target.mkdir(mode=0o755)
        shutil.copystat(here, target)
        for name in sorted(filenames + [d for d in dirnames if (here / d).is_symlink()]):
            source = here / name
            if source.is_symlink():
                link = os.readlink(source)
                os.symlink(link.replace(str(src), str(dst)), target / name)
            else:
                os.link(source, target / name)
                linked += 1
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
    old, new = str(src).encode(), str(dst).encode()
    rewritten = []
    for path in sorted([*(dst / "bin").iterdir(), dst / "pyvenv.cfg"]):
        if path.is_symlink() or not path.is_file():
            continue
        content = path.read_bytes()
        if old not in content:
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content.replace(old, new))
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
        rewritten.append(path.name)
    return {"changed": True, "linked": linked, "rewritten": rewritten}


# --- the code: RELEASE files and bytecode --------------------------------------


def release_files(release: Path, project_dir: str) -> list[Path]:
    """RELEASE at the top and next to manage.py (the app reads that one)."""
    project = release / project_dir if project_dir else release
    if not (project / "manage.py").is_file():
        raise ReleaseError(f"no manage.py in {project}: check django_app_project_dir")
    return [directory / "RELEASE" for directory in dict.fromkeys([release, project])]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _bytecode(release: Path) -> dict[str, int]:
    """Every .pyc under the release and its mtime: compiling changed the code iff this changed."""
    found = {}
    for directory, _dirs, files in os.walk(release):
        if os.path.basename(directory) != "__pycache__":
            continue
        for name in files:
            if name.endswith(".pyc"):
                path = os.path.join(directory, name)
                found[path] = os.lstat(path).st_mtime_ns
    return found


def stale_sources(release: Path, tag: str) -> list[str]:
    """Python files compileall would (re)compile: no bytecode for `tag`, or older than the source."""
    stale = []
    for directory, dirs, files in os.walk(release):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if not name.endswith(".py"):
                continue
            source = os.path.join(directory, name)
            cached = os.path.join(directory, "__pycache__", f"{name[:-3]}.{tag}.pyc")
            with contextlib.suppress(OSError):
                if os.stat(cached).st_mtime_ns >= os.stat(source).st_mtime_ns:
                    continue
            stale.append(os.path.relpath(source, release))
    return sorted(stale)


def finish_code(release: Path, release_id: str, project_dir: str, python: str,
                check: bool = False) -> dict[str, Any]:
    """RELEASE files (the app reads the one next to manage.py) and bytecode.

    The app cannot write __pycache__ into its read-only code, so compile it now.
    A file that does not compile (e.g. a template named .py) is not fatal here:
    check --deploy imports everything the project really uses.
    """
    files = release_files(release, project_dir)
    content = f"{release_id}\n"
    before = {str(f): _read(f) for f in files}
    after = {str(f): content for f in files}
    if check:
        tag = python_tag(python).split()[0]
        stale = stale_sources(release, tag)
        return {"changed": before != after or bool(stale), "compile_errors": False, "compiled": len(stale),
                "diff": {"before": before, "after": after}}
    for path in files:
        if before[str(path)] != content:
            path.write_text(content, encoding="utf-8")
    pyc_before = _bytecode(release)
    compiled = subprocess.run([python, "-m", "compileall", "-q", str(release)], capture_output=True, text=True,
                              check=False)
    pyc_after = _bytecode(release)
    written = sum(1 for path, mtime in pyc_after.items() if pyc_before.get(path) != mtime)
    return {"changed": before != after or written > 0, "compile_errors": compiled.returncode != 0,
            "compiled": written, "diff": {"before": before, "after": after}}


# --- sealing ---------------------------------------------------------------------


def mark_complete(release: Path, venv_key: str, check: bool = False) -> dict[str, Any]:
    """Write the venv key, after a successful install: a venv without it is unfinished and
    never reused."""
    key_file = release / "venv" / KEY_FILE
    key_before = _read(key_file).strip()
    changed = key_before != venv_key
    if changed and not check:
        key_file.write_text(f"{venv_key}\n", encoding="utf-8")
    return {"changed": changed, "diff": {"before": {"venv_key": key_before}, "after": {"venv_key": venv_key}}}

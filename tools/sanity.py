"""`make sanity` (part of `make lint`): ansible-test sanity on the built collection.

It checks the artifact users install, not the working tree: the collection is built,
installed into .cache/sanity/collections/ansible_collections/djstack/stack (the path
ansible-test requires) and tested there with the pinned ansible-core, in a venv of its
own, so the test requirements it installs from PyPI stay out of .venv.

ansible-test bootstraps pip into each test venv with a get-pip script it downloads
from its own CI file server, which our build machines (like many corporate networks)
cannot reach. The script only installs pip, so a stand-in that does the same from the
interpreter's bundled ensurepip and the configured package index takes its cache slot.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tools.collection import NAME, NAMESPACE, ROOT, build, install

STATE = ROOT / ".cache" / "sanity"
VENV = STATE / "venv"
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"
GET_PIP_CACHE = Path.home() / ".ansible" / "test" / "cache"
GET_PIP_STAND_IN = '''\
"""Stand-in for get-pip.py (written by djstack's tools/sanity.py): installs pip with
the interpreter's ensurepip, then the requested pip version from the package index."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
'''


def pinned(package: str, requirements: Path = ROOT / "requirements.txt") -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)$", requirements.read_text(), re.M)
    if match is None:
        raise SystemExit(f"{requirements} pins no {package}")
    return match.group(1)


def ensure_venv() -> Path:
    core = f"ansible-core=={pinned('ansible-core')}"
    stamp = VENV / ".installed"
    if not stamp.exists() or stamp.read_text() != core:
        shutil.rmtree(VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", core], check=True)
        stamp.write_text(core)
    return VENV / "bin" / "ansible-test"


def pip_versions(venv: Path = VENV) -> set[str]:
    """The pip versions ansible-test bootstraps (python_requirements.get_venv_packages)."""
    sources = venv.glob("lib/python*/site-packages/ansible_test/_internal/python_requirements.py")
    return {v for source in sources for v in re.findall(r"pip='([0-9.]+)'", source.read_text())}


def install_get_pip_stand_in(versions: set[str], cache: Path = GET_PIP_CACHE) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for version in versions:
        (cache / f"get_pip_{version.replace('.', '_')}.py").write_text(GET_PIP_STAND_IN)


def main() -> int:
    ansible_test = ensure_venv()
    versions = pip_versions()
    if not versions:
        raise SystemExit("Could not read the pip version ansible-test bootstraps; update tools/sanity.py.")
    install_get_pip_stand_in(versions)
    collections = STATE / "collections"
    shutil.rmtree(collections, ignore_errors=True)
    installed = install(build(STATE / "dist"), collections)
    assert installed == collections / "ansible_collections" / NAMESPACE / NAME
    # ansible-test lists a collection's files through git (tracked and untracked alike);
    # without a repository it finds none and skips every test, so give the copy one.
    subprocess.run(["git", "init", "-q", str(installed)], check=True)
    print(f"ansible-test sanity on {installed} (Python {PYTHON_VERSION})", flush=True)
    done = subprocess.run([str(ansible_test), "sanity", "--requirements", "--python", PYTHON_VERSION,
                           "--color", "no"], cwd=installed, check=False, capture_output=True, text=True)
    output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not _pip_noise(line))
    print(output)
    # A sanity run that tested nothing must not pass as clean.
    if "All targets skipped" in output or "Running sanity test" not in output:
        print("ansible-test sanity ran no test: see above.")
        return 1
    return done.returncode


def _pip_noise(line: str) -> bool:
    """pip's warnings about this machine's pip.conf (local find-links that do not exist here)."""
    return line.startswith("WARNING: Location 'file:")


if __name__ == "__main__":
    sys.exit(main())

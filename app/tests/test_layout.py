"""The suite also runs under a parent directory's pytest.ini, next to another
`tests` package, as the repository's `pytest tests app` does."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from demo_testlib import PYTHON, clean_env


def test_suite_runs_under_a_foreign_pytest_ini(project_copy: Path, tmp_path: Path) -> None:
    # tmp_path plays the repository root: its own ini (no Django settings)
    # and its own `tests` package; project_copy (releases/c0ffee1) is app/.
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\npythonpath = .\naddopts = -p no:cacheprovider\n"
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "test_other.py").write_text(
        "import tests\n\n\ndef test_other_package_is_intact():\n"
        f"    assert tests.__file__ == {str(tmp_path / 'tests' / '__init__.py')!r}\n"
    )
    app = project_copy.relative_to(tmp_path)
    result = subprocess.run(
        [PYTHON, "-m", "pytest", "-q", "tests", str(app), "-k", "other or test_views"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed and int(passed.group(1)) > 5, result.stdout

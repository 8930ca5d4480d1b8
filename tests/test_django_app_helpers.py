"""Unit tests, on the controller, of the script the django_app role ships in files/:
the env file's validation and bin/manage. (The release logic's tests are in
test_module_release*.py and test_module_deploy_lock.py; the source archive's in
test_action_source_archive.py.)"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

FILES = Path(__file__).resolve().parents[1] / "roles" / "django_app" / "files"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, FILES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


release = _load("django_app_release")


# --- environment file ------------------------------------------------------------


def test_env_parser_reads_systemd_quoting():
    text = "\n".join([
        "# comment",
        "; another",
        "PLAIN=a,b:c/d",
        'QUOTED="a \\"b\\" c\\\\d $HOME #x"',
        "SINGLE='no \\escapes'",
        "  SPACED  =  trimmed value  ",
        "EMPTY=",
    ])
    assert release.parse_env(text) == {
        "PLAIN": "a,b:c/d",
        "QUOTED": 'a "b" c\\d $HOME #x',
        "SINGLE": "no \\escapes",
        "SPACED": "trimmed value",
        "EMPTY": "",
    }


@pytest.mark.parametrize("line", ["NO_EQUALS", "1BAD=x", 'OPEN="unterminated', 'ESC="ends with \\"'])
def test_env_parser_refuses_malformed_lines(line: str):
    with pytest.raises(release.ReleaseError):
        release.parse_env(line)


def test_check_env_is_the_template_validation(tmp_path: Path):
    """The command line `validate:` runs: a count on success, the line on failure, nothing else."""
    good, bad = tmp_path / "good.env", tmp_path / "bad.env"
    good.write_text('A=1\nB="two words"\n')
    bad.write_text("A=1\nnot an assignment\n")
    script = str(FILES / "django_app_release.py")
    ok = subprocess.run([sys.executable, "-I", script, "check-env", str(good)], capture_output=True, text=True)
    assert (ok.returncode, ok.stdout.strip()) == (0, '{"variables": 2}')
    refused = subprocess.run([sys.executable, "-I", script, "check-env", str(bad)], capture_output=True, text=True)
    assert refused.returncode == 1
    assert refused.stderr.strip() == f"django_app_release check-env: {bad}:2: expected KEY=value"


# --- manage ------------------------------------------------------------------------


def test_manage_command_runs_the_chosen_release_with_the_env_file(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "env").write_text('DJANGO_SECRET_KEY="s e c"\nPATH=/evil\n')
    command = release.manage_command(tmp_path, "demo", "src", ["--release", "r2", "--as-root", "migrate"])
    assert command["argv"] == [f"{tmp_path}/releases/r2/venv/bin/python", f"{tmp_path}/releases/r2/src/manage.py",
                               "migrate"]
    assert command["cwd"] == f"{tmp_path}/releases/r2/src"
    assert command["env"]["DJANGO_SECRET_KEY"] == "s e c"
    assert command["user"] is None


def test_manage_command_defaults_to_current_as_the_app_user(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "env").write_text("A=1\n")
    command = release.manage_command(tmp_path, "demo", "", ["check"])
    assert command["argv"][1] == f"{tmp_path}/current/manage.py"
    assert command["user"] == "demo"


def test_exec_runs_a_hook_command_in_the_release_with_its_venv_first(tmp_path: Path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "env").write_text("DJANGO_SETTINGS_MODULE=site.settings\n")
    command = release.manage_command(tmp_path, "demo", "src", ["--release", "r2", "--exec", "sh", "-c", "make mo"])
    assert command["argv"] == ["sh", "-c", "make mo"]
    assert command["cwd"] == f"{tmp_path}/releases/r2/src"
    assert command["env"]["PATH"].startswith(f"{tmp_path}/releases/r2/venv/bin:")
    assert command["env"]["VIRTUAL_ENV"] == f"{tmp_path}/releases/r2/venv"
    assert command["env"]["DJANGO_SETTINGS_MODULE"] == "site.settings"
    assert command["user"] == "demo"


@pytest.mark.parametrize("args", [["--exec"], ["--exec", "--static-root", "/tmp/s", "sh"]])
def test_exec_refuses_no_command_or_a_static_root(tmp_path: Path, args: list[str]):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "env").write_text("A=1\n")
    with pytest.raises(release.ReleaseError, match="--exec needs a command"):
        release.manage_command(tmp_path, "demo", "", args)

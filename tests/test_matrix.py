"""The Molecule matrix runner: planning, isolation and the summary CI reads."""

from pathlib import Path

import pytest
import yaml

from tools import matrix


def _scenario(root: Path, name: str, weight: int | None = None) -> None:
    (root / name).mkdir()
    header = f"# djstack-weight: {weight}\n" if weight else ""
    (root / name / "molecule.yml").write_text(header + "---\n")


def test_discovers_only_directories_with_molecule_yml(tmp_path):
    _scenario(tmp_path, "memcached")
    (tmp_path / "djstack_testlib").mkdir()
    assert matrix.discover_scenarios(tmp_path) == ["memcached"]


def test_heaviest_scenarios_start_first(tmp_path, monkeypatch):
    _scenario(tmp_path, "light")
    _scenario(tmp_path, "heavy", weight=5)
    monkeypatch.setattr(matrix, "MOLECULE_DIR", tmp_path)
    jobs = matrix.plan(["light", "heavy"], ["debian12", "debian13"])
    assert [j.name for j in jobs] == ["heavy@debian12", "heavy@debian13", "light@debian12", "light@debian13"]


def test_split_runs_each_scenario_once_covering_every_distro(tmp_path, monkeypatch):
    for name, weight in (("deploy", 14), ("stack", 12), ("nginx", 6), ("base", None), ("python", None)):
        _scenario(tmp_path, name, weight)
    monkeypatch.setattr(matrix, "MOLECULE_DIR", tmp_path)
    jobs = matrix.plan(["base", "deploy", "nginx", "python", "stack"], ["debian12", "debian13"], split=True)
    # The two heaviest on different distros, then in turn down the list.
    assert [j.name for j in jobs] == ["deploy@debian12", "stack@debian13", "nginx@debian12", "base@debian13",
                                      "python@debian12"]


def test_split_with_one_distro_runs_everything_on_it(tmp_path, monkeypatch):
    _scenario(tmp_path, "light")
    _scenario(tmp_path, "heavy", weight=5)
    monkeypatch.setattr(matrix, "MOLECULE_DIR", tmp_path)
    jobs = matrix.plan(["light", "heavy"], ["debian13"], split=True)
    assert [j.name for j in jobs] == ["heavy@debian13", "light@debian13"]


def test_each_pair_gets_its_own_image_and_ephemeral_dir(tmp_path):
    a = matrix.job_env(matrix.Job("memcached", "debian12"), tmp_path, None)
    b = matrix.job_env(matrix.Job("memcached", "debian13"), tmp_path, None)
    assert a["DJSTACK_IMAGE"] == "djstack-systemd:debian12"
    assert b["DJSTACK_IMAGE"] == "djstack-systemd:debian13"
    assert a["MOLECULE_EPHEMERAL_DIRECTORY"] != b["MOLECULE_EPHEMERAL_DIRECTORY"]


def test_image_override_applies_to_every_pair(tmp_path):
    env = matrix.job_env(matrix.Job("memcached", "debian13"), tmp_path, "me/debian-systemd:13")
    assert env["DJSTACK_IMAGE"] == "me/debian-systemd:13"
    assert env["DJSTACK_DISTRO"] == "debian13"


def test_summary_ends_with_the_line_ci_reads(tmp_path):
    outcomes = [
        matrix.Outcome(matrix.Job("a", "debian12"), True, 10.0, tmp_path / "a.log"),
        matrix.Outcome(matrix.Job("b", "debian12"), False, 20.0, tmp_path / "b.log"),
    ]
    text = matrix.summary(outcomes, 25.0)
    assert text.splitlines()[-1] == "1 passed, 1 failed"
    assert "b@debian12  FAILED" in text


def test_a_scenario_without_hosts_runs_on_the_shared_platform(tmp_path, monkeypatch):
    _scenario(tmp_path, "memcached")
    monkeypatch.setattr(matrix, "MOLECULE_DIR", tmp_path)
    argv = matrix.molecule_argv(matrix.Job("memcached", "debian12"), tmp_path, "test")
    assert argv[-4:] == ["molecule", "test", "-s", "memcached"] and "--base-config" not in argv


def test_declared_hosts_are_the_shared_platform_with_their_names_groups_and_network(tmp_path, monkeypatch):
    (tmp_path / "pair").mkdir()
    (tmp_path / "pair" / "molecule.yml").write_text("# djstack-hosts: app=web,app target=backup_target\n---\n")
    monkeypatch.setattr(matrix, "MOLECULE_DIR", tmp_path)
    argv = matrix.molecule_argv(matrix.Job("pair", "debian13"), tmp_path, "converge")
    assert argv[argv.index("--base-config") + 1] == str(matrix.BASE_CONFIG)
    generated = yaml.safe_load(Path(argv[argv.index("--base-config", argv.index("--base-config") + 1) + 1]).read_text())
    shared = yaml.safe_load(matrix.BASE_CONFIG.read_text())["platforms"][0]
    app, target = generated["platforms"]
    assert app["name"] == "djstack-${MOLECULE_SCENARIO_NAME}-app-${DJSTACK_DISTRO:-debian12}"
    assert (app["groups"], target["groups"]) == (["web", "app"], ["backup_target"])
    assert app["networks"][0]["name"] == target["networks"][0]["name"] and target["networks"][0]["aliases"] == ["target"]
    for key in ("image", "command", "capabilities", "security_opts", "cgroupns_mode", "tmpfs", "volumes"):
        assert target[key] == shared[key]
    assert argv[-3:] == ["converge", "-s", "pair"]


def test_a_malformed_hosts_line_is_refused(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "molecule.yml").write_text("# djstack-hosts: app target=backup_target\n---\n")
    with pytest.raises(ValueError, match="NAME=GROUP"):
        matrix.scenario_hosts("bad", tmp_path)

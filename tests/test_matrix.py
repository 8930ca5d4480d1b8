"""The Molecule matrix runner: planning, isolation and the summary CI reads."""

from pathlib import Path

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


def test_split_gives_a_pinned_scenario_its_distro_and_the_others_their_turns(tmp_path, monkeypatch):
    for name, weight in (("deploy", 14), ("stack", 12), ("nginx", 6)):
        _scenario(tmp_path, name, weight)
    (tmp_path / "cluster").mkdir()
    (tmp_path / "cluster" / "molecule.yml").write_text("# djstack-weight: 14\n# djstack-split-distro: debian12\n---\n")
    monkeypatch.setattr(matrix, "MOLECULE_DIR", tmp_path)
    jobs = matrix.plan(["cluster", "deploy", "nginx", "stack"], ["debian12", "debian13"], split=True)
    assert [j.name for j in jobs] == ["cluster@debian12", "deploy@debian12", "stack@debian13", "nginx@debian12"]
    # Not split: it runs on both, like every scenario.
    assert {j.name for j in matrix.plan(["cluster"], ["debian12", "debian13"])} == {"cluster@debian12",
                                                                                  "cluster@debian13"}


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


def test_each_distro_gets_its_own_network_for_fixed_addresses(tmp_path):
    a = matrix.job_env(matrix.Job("cluster", "debian12"), tmp_path, None)
    b = matrix.job_env(matrix.Job("cluster", "debian13"), tmp_path, None)
    assert (a["DJSTACK_NET"], b["DJSTACK_NET"]) == ("10.213.12", "10.213.13")


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


def _platforms(root: Path, name: str, text: str) -> None:
    _scenario(root, name)
    (root / name / "platforms.yml").write_text(text)


def test_a_scenario_without_platforms_yml_keeps_the_shared_platform(tmp_path):
    _scenario(tmp_path, "memcached")
    assert matrix.scenario_platforms("memcached", tmp_path) is None
    assert matrix.base_configs(matrix.Job("memcached", "debian12"), tmp_path / "logs", tmp_path) == []


def test_each_host_is_the_shared_platform_with_its_own_name_and_keys(tmp_path):
    _platforms(tmp_path, "acme", "- host: web\n  groups: [web]\n- host: ca\n  groups: [acme_ca]\n")
    shared = yaml.safe_load(matrix.BASE_CONFIG.read_text())["platforms"][0]
    web, ca = matrix.scenario_platforms("acme", tmp_path)
    assert web["name"] == f"{shared['name']}-web"
    assert ca["name"] == f"{shared['name']}-ca"
    assert (web["groups"], ca["groups"]) == (["web"], ["acme_ca"])
    assert web["capabilities"] == ca["capabilities"] == shared["capabilities"]
    assert web["command"] == shared["command"]


def test_the_hosts_reach_molecule_after_the_shared_config_with_strings_kept_strings(tmp_path):
    _platforms(tmp_path, "acme", "- host: web\n- host: ca\n")
    options = matrix.base_configs(matrix.Job("acme", "debian13"), tmp_path / "logs", tmp_path)
    assert options[:3] == ["-c", str(matrix.BASE_CONFIG), "-c"]
    generated = Path(options[3]).read_text()
    # Molecule substitutes ${...} in the text before parsing: "0" must stay a string.
    assert '"${DJSTACK_MEMORY:-0}"' in generated
    assert len(yaml.safe_load(generated)["platforms"]) == 2

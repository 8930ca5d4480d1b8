"""Each tasks_from entry point declares only the options it reads: a deploy step such as
switching django_app's release runs without the vault's secret, the host lock needs no
role's options, gunicorn's reload and nginx's
check do not re-judge the service's options, while the preflight entry point (validate)
still refuses a run that lacks what the service needs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tools.collection import ROOT
from tests.playbook import run_playbook

SPECS = yaml.safe_load((ROOT / "roles" / "django_app" / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def _run_entry(tmp_path: Path, role: str, tasks_from: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """One entry point of a role on the controller."""
    playbook = tmp_path / f"{role}-{tasks_from}.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n  tasks:\n"
        f"    - ansible.builtin.include_role:\n        name: djstack.stack.{role}\n        tasks_from: {tasks_from}\n")
    return run_playbook(str(playbook), *extra)


def _run(tmp_path: Path, tasks_from: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run_entry(tmp_path, "django_app", tasks_from, "-e", "django_app_name=entrypointtest", *extra)


def test_deploy_steps_do_not_declare_the_secret() -> None:
    for entry in ("activate", "prune", "revert", "rollback", "restore", "restore_check"):
        assert "django_app_secret_key" not in SPECS[entry]["options"], entry


def test_the_host_lock_is_taken_and_given_back(tmp_path: Path) -> None:
    # Under /run, as host_lock requires (a reboot must clear it).
    lock = Path("/run/lock") / f"djstack-test-{tmp_path.name}.lock"
    playbook = tmp_path / "lock.yml"
    # Two nested holds, as site.yml and its app tier take: the file goes with the last.
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n"
        "  vars:\n    ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
        f"    host_lock_path: {lock}\n  tasks:\n"
        + "".join(f"    - ansible.builtin.include_role:\n        name: djstack.stack.host_lock\n"
                  f"        tasks_from: {entry}\n"
                  + (f"    - ansible.builtin.assert:\n        that: \"{check}\"\n" if check else "")
                  for entry, check in (("main", f"'{lock}' is file"), ("main", ""), ("unlock", f"'{lock}' is file"),
                                       ("unlock", f"'{lock}' is not exists"))))
    run = run_playbook(str(playbook))
    assert run.returncode == 0, run.stdout[-3000:]
    assert not lock.exists()


def test_validate_still_requires_the_secret(tmp_path: Path) -> None:
    run = _run(tmp_path, "validate")
    assert run.returncode != 0
    assert "django_app_secret_key" in run.stdout


GUNICORN_SPECS = yaml.safe_load((ROOT / "roles" / "gunicorn" / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def _run_gunicorn(tmp_path: Path, tasks_from: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run_entry(tmp_path, "gunicorn", tasks_from, "--check", *extra)


def test_gunicorn_reload_declares_only_what_it_reads() -> None:
    reload = set(GUNICORN_SPECS["reload"]["options"])
    assert {"gunicorn_expected_release", "gunicorn_ready_url", "gunicorn_socket_path"} <= reload
    assert not reload & {"gunicorn_wsgi_app", "gunicorn_workers", "gunicorn_venv", "gunicorn_canary_chdir"}


def test_gunicorn_canary_takes_the_service_options_and_its_own() -> None:
    canary, main = set(GUNICORN_SPECS["canary"]["options"]), set(GUNICORN_SPECS["main"]["options"])
    assert canary == main | {"gunicorn_canary_chdir", "gunicorn_canary_venv", "gunicorn_canary_release"}
    assert "gunicorn_expected_release" not in main


def test_gunicorn_reload_does_not_judge_the_service_options(tmp_path: Path) -> None:
    # A service option the reload never reads cannot stop a deploy's reload step.
    run = _run_gunicorn(tmp_path, "reload", "-e", "gunicorn_wsgi_app=not-a-callable")
    assert run.returncode == 0, run.stdout[-3000:]


def test_gunicorn_reload_refuses_a_bad_option_it_reads(tmp_path: Path) -> None:
    run = _run_gunicorn(tmp_path, "reload", "-e", "gunicorn_ready_url=ftp://nowhere")
    assert run.returncode != 0
    assert "gunicorn_ready_url" in run.stdout


NGINX_SPECS = yaml.safe_load((ROOT / "roles" / "nginx" / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def test_nginx_verify_declares_only_what_it_reads() -> None:
    assert set(NGINX_SPECS["verify"]["options"]) == {
        "nginx_server_name", "nginx_verify_socket", "nginx_verify_path", "nginx_verify_header", "nginx_verify_release",
        "nginx_verify_smoke_paths"}
    assert not set(NGINX_SPECS["main"]["options"]) & {"nginx_verify_path", "nginx_verify_release"}


def _run_nginx(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run_entry(tmp_path, "nginx", "verify", "--check", *extra)


def test_nginx_verify_does_not_judge_the_site_options(tmp_path: Path) -> None:
    # A site option the check never reads cannot stop a deploy's last step.
    run = _run_nginx(tmp_path, "-e", "nginx_client_max_body_size=lots")
    assert run.returncode == 0, run.stdout[-3000:]


def test_nginx_verify_refuses_a_bad_option_it_reads(tmp_path: Path) -> None:
    run = _run_nginx(tmp_path, "-e", "nginx_verify_path=readyz")
    assert run.returncode != 0
    assert "nginx_verify_path" in run.stdout

"""bench.ansible_output: PLAY RECAP and profile_tasks output of real site.yml runs on the bench host."""

from __future__ import annotations

import pytest

from bench import ansible_output

# The start of a run: profile_tasks' per-task time stamps must not count as tasks.
START = """\

PLAY [Check the site's variables] **********************************************

TASK [Check the site domain and app name] **************************************
Sunday 22 November 2026  20:30:48 +0000 (0:00:00.019)       0:00:00.019 ******* 
ok: [bench]

PLAY [Check the cache tier's variables] ****************************************
"""
# The end of the first run on a fresh host.
FIRST_RUN_END = """\
PLAY RECAP *********************************************************************
bench                      : ok=135  changed=53   unreachable=0    failed=0    skipped=19   rescued=0    ignored=0   


TASKS RECAP ********************************************************************
Sunday 22 November 2026  20:32:11 +0000 (0:00:00.499)       0:01:22.317 ******* 
=============================================================================== 
base : Install the base packages --------------------------------------- 11.01s
django_app : Install the requirements into the venv --------------------- 4.30s
memcached : Install memcached ------------------------------------------- 3.61s
nginx : Install nginx and openssl --------------------------------------- 3.55s
nginx : Render the candidate configuration into the scratch directory --- 3.07s
nginx : Write the nginx configuration ----------------------------------- 2.86s
django_app : Create the release's venv ---------------------------------- 2.80s
python : Install python3, the venv tooling and the build packages ------- 1.98s
gunicorn : Check gunicorn answers --------------------------------------- 1.70s
Gathering Facts --------------------------------------------------------- 1.58s
django_app : Create the app directories --------------------------------- 1.54s
Gathering Facts --------------------------------------------------------- 1.26s
memcached : Restart memcached ------------------------------------------- 1.24s
base : Generate locales ------------------------------------------------- 1.15s
base : Configure unattended upgrades ------------------------------------ 1.02s
base : Enable and start nftables ---------------------------------------- 0.96s
django_app : Unpack the project archive into the release ---------------- 0.92s
django_app : Apply the database migrations ------------------------------ 0.91s
django_app : Mark the venv complete and make the release read-only to the app --- 0.89s
django_app : Run Django's deployment checks ----------------------------- 0.85s
"""
# The end of a run that failed (a role mid-edit).
FAILED_RUN_END = """\
fatal: [bench]: FAILED! => {"changed": false, "msg": "Task failed: '_gunicorn_sandbox' is undefined"}

PLAY RECAP *********************************************************************
bench                      : ok=91   changed=0    unreachable=0    failed=1    skipped=13   rescued=0    ignored=0   


TASKS RECAP ********************************************************************
Sunday 22 November 2026  20:32:47 +0000 (0:00:00.104)       0:00:34.912 ******* 
=============================================================================== 
django_app : Create the app directories --------------------------------- 1.92s
base : Configure unattended upgrades ------------------------------------ 1.17s
base : Install the base packages ---------------------------------------- 1.10s
Gathering Facts --------------------------------------------------------- 1.08s
base : Enable and start nftables ---------------------------------------- 1.01s
memcached : Install memcached ------------------------------------------- 0.96s
gunicorn : Install procps ----------------------------------------------- 0.94s
django_app : Apply the database migrations ------------------------------ 0.91s
django_app : Run Django's deployment checks ----------------------------- 0.88s
django_app : Collect the static files ----------------------------------- 0.85s
django_app : Write the environment file --------------------------------- 0.80s
python : Install python3, the venv tooling and the build packages ------- 0.79s
Gathering Facts --------------------------------------------------------- 0.71s
Gathering Facts --------------------------------------------------------- 0.69s
Gathering Facts --------------------------------------------------------- 0.69s
memcached : Enable and start memcached ---------------------------------- 0.69s
base : Write the nftables ruleset --------------------------------------- 0.69s
django_app : Install the manage wrapper --------------------------------- 0.67s
memcached : Write the memcached unit drop-in (options and sandbox) ------ 0.67s
memcached : Write the memcached configuration stub ---------------------- 0.64s
"""


def test_recap_of_the_first_run():
    assert ansible_output.recap(START + FIRST_RUN_END) == {
        "bench": {"ok": 135, "changed": 53, "unreachable": 0, "failed": 0, "skipped": 19, "rescued": 0,
                  "ignored": 0}}


def test_recap_of_a_failed_run():
    recap = ansible_output.recap(FAILED_RUN_END)["bench"]
    assert recap["failed"] == 1
    assert recap["changed"] == 0


def test_no_recap_is_an_error():
    with pytest.raises(ValueError, match="PLAY RECAP"):
        ansible_output.recap(START)


def test_slowest_tasks_first():
    tasks = ansible_output.task_times(START + FIRST_RUN_END)
    assert len(tasks) == 20
    assert tasks[0] == ansible_output.TaskTime("base : Install the base packages", 11.01)
    assert tasks[1].name == "django_app : Install the requirements into the venv"
    assert [t.seconds for t in tasks] == sorted((t.seconds for t in tasks), reverse=True)
    # A name too long for the padding keeps its three dashes out of the name.
    assert ansible_output.TaskTime(
        "django_app : Mark the venv complete and make the release read-only to the app", 0.89) in tasks
    assert sum(t.name == "Gathering Facts" for t in tasks) == 2


def test_failed_run_still_has_task_times():
    tasks = ansible_output.task_times(FAILED_RUN_END)
    assert tasks[0] == ansible_output.TaskTime("django_app : Create the app directories", 1.92)


def test_without_the_callback_there_is_no_summary():
    with pytest.raises(ValueError, match="profile_tasks"):
        ansible_output.task_times(FIRST_RUN_END.split("TASKS RECAP")[0])

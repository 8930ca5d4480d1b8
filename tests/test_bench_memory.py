"""bench.memory and the memory section's parsers, on outputs captured from the bench host."""

from __future__ import annotations

import pytest

from bench import memory
from bench.sections import memory as section

# `ps -eo pid=,ppid=,comm=` in the bench host (one gunicorn worker recycled: 5409).
PS = """\
      1       0 systemd
    512       1 sshd
   2324       1 unattended-upgr
   2643       1 systemd-journal
   3020       1 memcached
   3793       1 python
   3796    3793 python
   3797    3793 python
   3799    3793 python
   3802    3793 python
   4406       1 nginx
   4417    4406 nginx
   4418    4406 nginx
   5409    3793 python
   5555       0 ps
"""
# rollup_script's output for the stack's processes, idle.
ROLLUPS = """\
==> smaps_rollup 3020
564db202b000-7fff4d203000 ---p 00000000 00:00 0                          [rollup]
Rss:                6472 kB
Pss:                3899 kB
Pss_Dirty:          3164 kB
Pss_Anon:           3164 kB
Pss_File:            735 kB
Pss_Shmem:             0 kB
Shared_Clean:       2792 kB
Shared_Dirty:          0 kB
Private_Clean:       516 kB
Private_Dirty:      3164 kB
Referenced:         6472 kB
Anonymous:          3164 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 3793
00400000-7fff96a45000 ---p 00000000 00:00 0                              [rollup]
Rss:               23876 kB
Pss:               12455 kB
Pss_Dirty:         10850 kB
Pss_Anon:          10850 kB
Pss_File:           1605 kB
Pss_Shmem:             0 kB
Shared_Clean:       9412 kB
Shared_Dirty:       3904 kB
Private_Clean:       384 kB
Private_Dirty:     10176 kB
Referenced:        23876 kB
Anonymous:         14080 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 3796
00400000-7fff96a45000 ---p 00000000 00:00 0                              [rollup]
Rss:               48220 kB
Pss:               35994 kB
Pss_Dirty:         34732 kB
Pss_Anon:          34732 kB
Pss_File:           1261 kB
Pss_Shmem:             0 kB
Shared_Clean:      10276 kB
Shared_Dirty:       3856 kB
Private_Clean:         0 kB
Private_Dirty:     34088 kB
Referenced:        48132 kB
Anonymous:         37944 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 3797
00400000-7fff96a45000 ---p 00000000 00:00 0                              [rollup]
Rss:               48164 kB
Pss:               35938 kB
Pss_Dirty:         34676 kB
Pss_Anon:          34676 kB
Pss_File:           1262 kB
Pss_Shmem:             0 kB
Shared_Clean:      10276 kB
Shared_Dirty:       3856 kB
Private_Clean:         0 kB
Private_Dirty:     34032 kB
Referenced:        48076 kB
Anonymous:         37888 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 3799
00400000-7fff96a45000 ---p 00000000 00:00 0                              [rollup]
Rss:               48232 kB
Pss:               36006 kB
Pss_Dirty:         34744 kB
Pss_Anon:          34744 kB
Pss_File:           1261 kB
Pss_Shmem:             0 kB
Shared_Clean:      10276 kB
Shared_Dirty:       3856 kB
Private_Clean:         0 kB
Private_Dirty:     34100 kB
Referenced:        48144 kB
Anonymous:         37956 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 3802
00400000-7fff96a45000 ---p 00000000 00:00 0                              [rollup]
Rss:               48164 kB
Pss:               35939 kB
Pss_Dirty:         34676 kB
Pss_Anon:          34676 kB
Pss_File:           1262 kB
Pss_Shmem:             0 kB
Shared_Clean:      10276 kB
Shared_Dirty:       3856 kB
Private_Clean:         0 kB
Private_Dirty:     34032 kB
Referenced:        48076 kB
Anonymous:         37888 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 4406
56446dbc4000-7ffed85c8000 ---p 00000000 00:00 0                          [rollup]
Rss:                7312 kB
Pss:                2154 kB
Pss_Dirty:          1043 kB
Pss_Anon:           1020 kB
Pss_File:           1110 kB
Pss_Shmem:            22 kB
Shared_Clean:       5376 kB
Shared_Dirty:       1156 kB
Private_Clean:       124 kB
Private_Dirty:       656 kB
Referenced:         6960 kB
Anonymous:          1744 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 4417
56446dbc4000-7ffed85c8000 ---p 00000000 00:00 0                          [rollup]
Rss:               10252 kB
Pss:                4673 kB
Pss_Dirty:          3611 kB
Pss_Anon:           3504 kB
Pss_File:           1062 kB
Pss_Shmem:           106 kB
Shared_Clean:       5824 kB
Shared_Dirty:       1252 kB
Private_Clean:         0 kB
Private_Dirty:      3176 kB
Referenced:         9968 kB
Anonymous:          4224 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 4418
56446dbc4000-7ffed85c8000 ---p 00000000 00:00 0                          [rollup]
Rss:                9492 kB
Pss:                3912 kB
Pss_Dirty:          2849 kB
Pss_Anon:           2774 kB
Pss_File:           1062 kB
Pss_Shmem:            74 kB
Shared_Clean:       5824 kB
Shared_Dirty:       1256 kB
Private_Clean:         0 kB
Private_Dirty:      2412 kB
Referenced:         9212 kB
Anonymous:          3496 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
==> smaps_rollup 5409
00400000-7fff96a45000 ---p 00000000 00:00 0                              [rollup]
Rss:               46076 kB
Pss:               33839 kB
Pss_Dirty:         32565 kB
Pss_Anon:          32565 kB
Pss_File:           1273 kB
Pss_Shmem:             0 kB
Shared_Clean:      10272 kB
Shared_Dirty:       3900 kB
Private_Clean:        12 kB
Private_Dirty:     31892 kB
Referenced:        45988 kB
Anonymous:         35792 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
ShmemPmdMapped:        0 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
"""
# memory.oom_control of the bench container, and of a 32 MB container after `python3 -c
# "x=bytearray(100<<20)"` was killed in it.
OOM_CONTROL = """\
oom_kill_disable 0
under_oom 0
oom_kill 0
"""
OOM_CONTROL_KILLED = """\
oom_kill_disable 0
under_oom 0
oom_kill 1
"""
# cgroup v2's memory.events has the same counter.
MEMORY_EVENTS_V2 = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n"
# journalctl -o cat of demo.service after a worker was stopped (SIGSTOP) for longer than timeout.
JOURNAL_TIMEOUT = """\
[2026-11-22 20:34:25 +0000] [3793] [CRITICAL] WORKER TIMEOUT (pid:3794)
[2026-11-22 20:34:26 +0000] [3793] [ERROR] Worker (pid:3794) was sent SIGKILL! Perhaps out of memory?
[2026-11-22 20:34:26 +0000] [5409] [INFO] Booting worker with pid: 5409
"""
JOURNAL_ACCESS = """\
127.0.0.1 "GET /products/?nocache=1 HTTP/1.1" 200 57312 "-" "-" 120ms
127.0.0.1 "GET /products/?nocache=1 HTTP/1.1" 200 57312 "-" "-" 165ms
127.0.0.1 "GET /products/?nocache=1 HTTP/1.1" 200 57312 "-" "-" 190ms
127.0.0.1 "GET /products/?nocache=1 HTTP/1.1" 200 57312 "-" "-" 202ms
"""
# The worker lines of /etc/demo/gunicorn.conf.py as the role rendered it.
GUNICORN_CONF = """\
worker_class = "sync"
workers = 5
threads = 1
worker_connections = 1000
"""
MAIN_PIDS = {"nginx": 4406, "gunicorn": 3793, "memcached": 3020}


def test_smaps_rollup_fields():
    fields = memory.rollups(ROLLUPS)[3793]
    assert fields["Rss"] == 23876
    assert fields["Pss"] == 12455
    assert fields["Private_Dirty"] == 10176


def test_not_a_rollup():
    with pytest.raises(ValueError):
        memory.smaps_rollup("Name: python\nVmRSS: 1 kB\n")


def test_a_pid_that_exited_is_skipped():
    script_output = ROLLUPS + "==> smaps_rollup 99999\n"
    assert 99999 not in memory.rollups(script_output)
    assert "99999" in memory.rollup_script([99999])


def test_process_tree_groups():
    table = memory.process_table(PS)
    assert table[5409] == (3793, "python")
    groups = memory.classify(MAIN_PIDS, table)
    assert groups[4406] == "nginx master"
    assert groups[4417] == groups[4418] == "nginx worker"
    assert groups[3793] == "gunicorn master"
    assert sorted(p for p, g in groups.items() if g == "gunicorn worker") == [3796, 3797, 3799, 3802, 5409]
    assert groups[3020] == "memcached"
    assert 2643 not in groups  # journald is not the stack's


def test_summary_per_group():
    groups = memory.classify(MAIN_PIDS, memory.process_table(PS))
    processes = memory.measure(groups, memory.rollups(ROLLUPS))
    summary = memory.summarise(processes)
    assert summary["gunicorn worker"]["count"] == 5
    assert summary["nginx worker"]["count"] == 2
    assert summary["memcached"]["rss_mb"] == pytest.approx(6472 / 1024)
    assert summary["memcached"]["pss_mb"] == pytest.approx(3899 / 1024)
    workers = [p for p in processes if p.group == "gunicorn worker"]
    assert summary["gunicorn worker"]["pss_mb"] == pytest.approx(sum(p.pss_kb for p in workers) / 1024)
    assert summary["gunicorn worker"]["max_rss_mb"] == pytest.approx(max(p.rss_kb for p in workers) / 1024)


def test_peak_takes_each_figure_on_its_own():
    low = {"gunicorn worker": {"count": 5, "rss_mb": 200.0, "pss_mb": 150.0, "max_rss_mb": 48.0}}
    high = {"gunicorn worker": {"count": 4, "rss_mb": 190.0, "pss_mb": 160.0, "max_rss_mb": 50.0}}
    assert memory.peak([low, high])["gunicorn worker"] == {"count": 5, "rss_mb": 200.0, "pss_mb": 160.0,
                                                          "max_rss_mb": 50.0}


def test_oom_counters():
    assert memory.oom_kills(OOM_CONTROL) == 0
    assert memory.oom_kills(OOM_CONTROL_KILLED) == 1
    assert memory.oom_kills(MEMORY_EVENTS_V2) == 1
    with pytest.raises(ValueError):
        memory.oom_kills("under_oom 0\n")


def test_worker_timeouts_in_the_journal():
    assert section.worker_timeouts(JOURNAL_TIMEOUT) == 1
    assert section.worker_timeouts(JOURNAL_ACCESS) == 0


def test_worker_boots_in_the_journal():
    assert section.worker_boots(JOURNAL_TIMEOUT) == 1
    assert section.worker_boots(JOURNAL_ACCESS + JOURNAL_TIMEOUT + JOURNAL_TIMEOUT) == 2


def test_worker_count_from_the_rendered_config():
    assert section.gunicorn_workers(GUNICORN_CONF) == 5
    with pytest.raises(ValueError):
        section.gunicorn_workers("# workers = 3\n")


@pytest.mark.parametrize("memory_mb, cpus, workers", [(512, 1.0, 2), (2048, 2.0, 5), (24105, 2.0, 5),
                                                      (300, 1.0, 1), (512, 0.5, 2), (None, 1.0, None)])
def test_the_roles_formula_on_container_limits(memory_mb, cpus, workers):
    assert section.expected_workers(memory_mb, cpus) == workers

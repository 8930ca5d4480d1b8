"""4. Provisioning: site.yml on the fresh host, then again with nothing to change."""

from __future__ import annotations

from bench import ansible_output
from bench.context import Context
from bench.sections.base import Data, Goal, Section, num, table

RUNS = (("first", "first run, fresh host"), ("second", "second run, no change expected"))


def run(ctx: Context) -> Data:
    runs = []
    for key, label in RUNS:
        ctx.log(f"site.yml, {label}")
        result = ctx.host.playbook(ctx.raw / f"site-{key}.log")
        entry: Data = {"key": key, "label": label, "seconds": round(result.seconds, 1),
                       "returncode": result.returncode}
        try:
            entry["recap"] = next(iter(ansible_output.recap(result.output).values()))
            entry["slowest"] = [[t.name, t.seconds] for t in ansible_output.task_times(result.output)[:10]]
        except ValueError as error:
            entry["error"] = str(error)
        runs.append(entry)
        if key == "first" and result.returncode != 0:
            raise RuntimeError(f"the first site.yml run failed (exit {result.returncode}); see {ctx.raw}")
    return {"runs": runs, "host_start_seconds": ctx.facts.get("host_start_seconds")}


def goals(data: Data) -> list[Goal]:
    found = []
    for entry in data.get("runs", []):
        recap = entry.get("recap", {})
        ok = entry.get("returncode") == 0 and recap.get("failed", 1) == 0 and recap.get("unreachable", 1) == 0
        found.append(Goal(f"site.yml {entry['label']} succeeds", "README: Deploy your own app", ok,
                          f"exit {entry.get('returncode')}, failed={recap.get('failed', '?')}"))
        if entry["key"] == "second":
            changed = recap.get("changed")
            found.append(Goal("a converged host reports changed=0", "README: djstack",
                              changed == 0, f"changed={changed if changed is not None else '?'}"))
    return found


def render(data: Data) -> list[str]:
    lines = []
    if data.get("host_start_seconds") is not None:
        lines += [f"The fresh container (systemd boot, sshd and the `deploy` user, as cloud-init would) "
                  f"took {num(data['host_start_seconds'], 1)} s before the first run; not included below.", ""]
    rows = []
    for entry in data.get("runs", []):
        recap = entry.get("recap", {})
        rows.append([entry["label"], f"{num(entry['seconds'], 1)} s", str(entry["returncode"]),
                     *(str(recap.get(k, "?")) for k in ("ok", "changed", "failed", "skipped"))])
    lines += table(["site.yml", "wall time", "exit", "ok", "changed", "failed", "skipped"], rows)
    for entry in data.get("runs", []):
        lines += ["", f"Ten slowest tasks, {entry['label']} (profile_tasks):", ""]
        if "slowest" in entry:
            lines += table(["task", "seconds"], [[name, num(sec, 2)]
                                                 for name, sec in entry["slowest"]])
        else:
            lines.append(f"(no task timing: {entry.get('error', 'missing')})")
    return lines


SECTION = Section("provisioning", 4, "Provisioning", run, render, goals)

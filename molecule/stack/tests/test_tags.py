"""A partial run: `site.yml --tags config,service` on a converged host repairs a
hand-edited nginx.conf and a stopped memcached without touching a package."""

from __future__ import annotations

from pathlib import Path

import yaml
from djstack_testlib.site import ROOT, run_site

NGINX_CONF = "/etc/nginx/nginx.conf"


def _install_only_tasks() -> set[str]:
    """Every role task ("role : task") tagged install and nothing a config,service run selects."""
    def walk(entries, inherited=frozenset()):
        for entry in entries or []:
            tags = entry.get("tags", [])
            tags = inherited | ({tags} if isinstance(tags, str) else set(tags))
            if "block" in entry:
                for section in ("block", "rescue", "always"):
                    yield from walk(entry.get(section), frozenset(tags))
            else:
                yield entry["name"], tags

    names = set()
    for path in (ROOT / "roles").glob("*/tasks/*.yml"):
        role = Path(path).parent.parent.name
        for name, tags in walk(yaml.safe_load(path.read_text())):
            if "install" in tags and not tags & {"config", "service", "always"}:
                names.add(f"djstack.stack.{role} : {name}")
    return names


def test_config_service_run_repairs_config_and_services_but_installs_nothing(host):
    managed = host.file(NGINX_CONF).md5sum
    host.run_expect([0], f"echo '# tags: edited by hand' >> {NGINX_CONF}")
    host.run_expect([0], "systemctl stop memcached.service")
    assert host.file(NGINX_CONF).md5sum != managed

    run = run_site("--tags", "config,service")

    assert run.rc == 0, run.output[-5000:]
    assert host.file(NGINX_CONF).md5sum == managed
    assert host.service("memcached").is_running
    assert {"djstack.stack.nginx : Write the nginx configuration",
            "djstack.stack.memcached : Enable and start memcached"} <= run.changed_tasks()
    install_only = _install_only_tasks()
    assert "djstack.stack.nginx : Install nginx and openssl" in install_only
    ran = {line[len("TASK ["):].rsplit("]", 1)[0].strip()
           for line in run.output.splitlines() if line.startswith("TASK [")}
    assert not ran & install_only, sorted(ran & install_only)

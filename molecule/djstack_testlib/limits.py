"""What the test container is given: its own cgroup limits, as djstack.stack.host_limits reads them."""

from __future__ import annotations

from testinfra.host import Host


def memory_limit_mb(host: Host) -> int:
    """The container's own cgroup memory limit in MB (cgroup v1 or v2)."""
    for line in host.file("/proc/self/cgroup").content_string.splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return int(host.file(f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes").content_string) // 2**20
        if controllers == "":
            return int(host.file(f"/sys/fs/cgroup{path}/memory.max").content_string) // 2**20
    raise AssertionError("no memory cgroup")

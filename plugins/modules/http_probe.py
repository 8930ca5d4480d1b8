#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_probe
short_description: GET one path from a service on this host, as its users reach it
description:
  - Sends one GET over HTTPS or HTTP to an address of this host (default V(127.0.0.1)), or over a unix
    socket, with the site's name in SNI and in the C(Host) header, and retries until the answer has an
    expected status and the expected headers.
  - Meant for checking what nginx and the app behind it answer (through this host's nginx, or on
    gunicorn's socket). The certificate is not verified unless O(validate_certs) asks for it, and
    redirects are not followed.
  - Fails, after the last attempt, with a message that names the URL, where it was asked, what answered
    (the status, or the connection error) and what was expected.
  - Never changes anything.
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  url:
    description:
      - The URL to ask, as V(https://example.org/readyz). Its host is the name sent in SNI and C(Host);
        the connection still goes to O(connect_address) or O(unix_socket).
      - Give either O(url) or O(server_name) (with O(path), O(scheme), O(port)).
    type: str
  server_name:
    description:
      - The name sent in SNI and in the C(Host) header (with C(:port) when O(port) is not the scheme's).
    type: str
  path:
    description:
      - Path (and query) to GET, starting with C(/). Defaults to C(/).
    type: str
  scheme:
    description:
      - V(https) or V(http). Defaults to V(https), or V(http) with O(unix_socket).
    type: str
    choices: [http, https]
  port:
    description:
      - TCP port on O(connect_address). Defaults to the scheme's (443 or 80). Not used with O(unix_socket).
    type: int
  connect_address:
    description:
      - Address (or host name) to connect to. Not used with O(unix_socket).
    type: str
    default: 127.0.0.1
  unix_socket:
    description:
      - Path of a unix socket to send the request over instead of TCP.
    type: path
  validate_certs:
    description:
      - Verify the server's certificate and that it is valid for the server name.
    type: bool
    default: false
  ca_path:
    description:
      - CA certificates (PEM) to verify against instead of the system's. Only with O(validate_certs=true).
    type: path
  timeout:
    description:
      - Seconds each attempt may take to connect, and then to wait for data.
    type: float
    default: 10
  expect_status:
    description:
      - Statuses that count as the expected answer. An empty list accepts any status.
      - Not used when O(expect_status_below) is given.
    type: list
    elements: int
    default: [200]
  expect_status_below:
    description:
      - Any status below this one counts as the expected answer, instead of O(expect_status).
        V(500) asks only that the page works, whatever it answers (a redirect, a 404 or a 403
        included), and refuses a server error or no answer at all.
      - Mutually exclusive with O(expect_status).
    type: int
  request_headers:
    description:
      - More request headers, name to value, as a proxy in front of the service would add them
        (V(X-Forwarded-Proto) for an app behind nginx on its socket).
      - C(Host) and C(User-Agent) are not among them; they come from O(url) or O(server_name),
        and O(user_agent).
    type: dict
    default: {}
  expect_headers:
    description:
      - Response headers the expected answer must have, name (any case) to exact value. A header whose
        value is empty is not checked, so a caller can pass an optional expectation through as is.
    type: dict
    default: {}
  retries:
    description:
      - Further attempts after the first while the answer is not the expected one (as Ansible's
        C(retries) counts), O(delay) seconds apart.
    type: int
    default: 0
  delay:
    description:
      - Seconds between attempts.
    type: float
    default: 1
  user_agent:
    description:
      - The C(User-Agent) header, so the probe is recognisable in access logs.
    type: str
    default: djstack-http-probe
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  diff_mode:
    support: none
notes:
  - It runs in check mode too (it only reads); skip it there with C(when) if the service may not exist yet.
"""

EXAMPLES = r"""
- name: Ask the site through this host's nginx
  djstack.stack.http_probe:
    server_name: example.org
    path: /readyz
    expect_headers:
      X-App-Release: "{{ release }}"
    retries: 5

- name: Ask gunicorn on its socket
  djstack.stack.http_probe:
    url: http://localhost/readyz
    unix_socket: /run/demo/gunicorn.sock
    retries: 30
  register: answer

- name: Ask gunicorn for the home page as nginx forwards it; anything but a server error will do
  djstack.stack.http_probe:
    url: http://example.org/
    unix_socket: /run/demo/gunicorn.sock
    request_headers:
      X-Forwarded-Proto: https
    expect_status_below: 500
"""

RETURN = r"""
url:
  description: The URL asked (its host is the name sent in SNI and C(Host)).
  returned: always
  type: str
  sample: https://example.org/readyz
status:
  description: The status of the last answer; V(0) when nothing answered.
  returned: always
  type: int
  sample: 200
headers:
  description: The headers of the last answer, names lower-cased; repeated headers joined with C(, ).
  returned: always
  type: dict
  sample: {"content-type": "text/plain", "x-app-release": "20260101T000000Z"}
error:
  description: Why nothing answered on the last attempt (connection, TLS or protocol error); empty if something answered.
  returned: always
  type: str
  sample: "ConnectionRefusedError: [Errno 111] Connection refused"
attempts:
  description: How many GETs were sent.
  returned: always
  type: int
  sample: 1
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.djstack.stack.plugins.module_utils.http_probe import (
    DEFAULT_PORTS, Target, failure_message, probe, request_headers, target_from_url)


def _target(module: AnsibleModule) -> Target:
    p = module.params
    try:
        headers = request_headers(p["request_headers"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    options = {"connect_address": p["connect_address"], "unix_socket": p["unix_socket"],
               "validate_certs": p["validate_certs"], "ca_path": p["ca_path"], "user_agent": p["user_agent"],
               "headers": headers}
    if p["url"]:
        try:
            return target_from_url(p["url"], **options)
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    path = p["path"] or "/"
    if not path.startswith("/"):
        module.fail_json(msg=f"path must start with / (got {path!r}).")
    scheme = p["scheme"] or ("http" if p["unix_socket"] else "https")
    return Target(scheme, p["server_name"], p["port"] or DEFAULT_PORTS[scheme], path, **options)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str"},
            "server_name": {"type": "str"},
            "path": {"type": "str"},
            "scheme": {"type": "str", "choices": ["http", "https"]},
            "port": {"type": "int"},
            "connect_address": {"type": "str", "default": "127.0.0.1"},
            "unix_socket": {"type": "path"},
            "validate_certs": {"type": "bool", "default": False},
            "ca_path": {"type": "path"},
            "timeout": {"type": "float", "default": 10},
            "expect_status": {"type": "list", "elements": "int", "default": [200]},
            "expect_status_below": {"type": "int"},
            "request_headers": {"type": "dict", "default": {}},
            "expect_headers": {"type": "dict", "default": {}},
            "retries": {"type": "int", "default": 0},
            "delay": {"type": "float", "default": 1},
            "user_agent": {"type": "str", "default": "djstack-http-probe"},
        },
        required_one_of=[("url", "server_name")],
        mutually_exclusive=[("url", "server_name"), ("url", "path"), ("url", "scheme"), ("url", "port"),
                            ("expect_status", "expect_status_below")],
        supports_check_mode=True,
    )
    p = module.params
    if p["retries"] < 0 or p["delay"] < 0 or p["timeout"] <= 0:
        module.fail_json(msg=f"retries and delay must be 0 or more and timeout more than 0 "
                             f"(got retries={p['retries']}, delay={p['delay']}, timeout={p['timeout']}).")
    below = p["expect_status_below"]
    if below is not None and not 100 < below <= 600:
        module.fail_json(msg=f"expect_status_below must be a status from 101 to 600 (got {below}).")
    target = _target(module)
    # Header values arrive as whatever YAML made of them (a release id may look like a number).
    expect_headers = {str(k): "" if v is None else str(v) for k, v in p["expect_headers"].items()}
    answer, attempts, ok = probe(target, expect_status=p["expect_status"], expect_headers=expect_headers,
                                 retries=p["retries"], delay=p["delay"], timeout=p["timeout"], status_below=below)
    result = {"changed": False, "url": target.url, "status": answer.status, "headers": answer.headers,
              "error": answer.error, "attempts": attempts}
    if not ok:
        module.fail_json(msg=failure_message(target, answer, attempts, p["expect_status"], expect_headers, below),
                         **result)
    module.exit_json(msg=f"GET {target.url} on {target.via} answered {answer.status} "
                         f"after {attempts} attempt{'s' if attempts != 1 else ''}.", **result)


if __name__ == "__main__":
    main()

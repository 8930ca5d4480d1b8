#!/usr/bin/python
# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: acme_certificate
short_description: A certificate from an ACME CA for a list of names, issued by certbot over HTTP-01
description:
  - Reads the certbot lineage O(cert_name) under O(config_dir) (its certificate's names and expiry, the
    ACME directory it came from) and issues it with C(certbot certonly --webroot) when it is missing,
    covers other names, comes from another directory, has expired or expires within O(renew_before_days).
  - The account key and the certificate's key are made by certbot on the host and never leave it.
  - Check mode reports whether an issuance is due without contacting the CA; diff shows the names, the
    directory and the expiry before and after.
  - Fails with certbot's own explanation when the CA refuses (the names must resolve to this host and
    its port 80 must serve O(webroot) at C(/.well-known/acme-challenge/)).
version_added: 0.1.0
author:
  - djstack maintainers (@djstack)
options:
  cert_name:
    description: Name of the certbot lineage (C(live/<cert_name>/)).
    type: str
    required: true
  domains:
    description: The names the certificate must cover, the first one its subject.
    type: list
    elements: str
    required: true
  webroot:
    description: Directory served over plain HTTP at C(/.well-known/acme-challenge/) for every name.
    type: path
    required: true
  directory_url:
    description: The ACME directory URL of the CA.
    type: str
    required: true
  email:
    description: Contact address of the ACME account (empty registers without one).
    type: str
    default: ""
  key_type:
    description: Type of the certificate's key.
    type: str
    choices: [ecdsa, rsa]
    default: ecdsa
  renew_before_days:
    description: Issue again when the certificate expires within this many days.
    type: int
    default: 30
  deploy_hook:
    description: Command certbot runs after each issuance and renewal of the lineage (kept for renewals).
    type: str
    default: ""
  config_dir:
    description: certbot's configuration directory.
    type: path
    default: /etc/letsencrypt
  certbot:
    description: The certbot program.
    type: path
    default: /usr/bin/certbot
extends_documentation_fragment:
  - djstack.stack.common_attributes
attributes:
  diff_mode:
    support: full
requirements:
  - certbot and openssl on the host
notes:
  - Renewal of an issued lineage is certbot's (C(certbot renew), e.g. from a systemd timer); this module
    issues when the lineage no longer matches what is wanted.
"""

EXAMPLES = r"""
- name: Issue the site's certificate from Let's Encrypt
  djstack.stack.acme_certificate:
    cert_name: demo
    domains: [www.example.com, example.com]
    webroot: /var/www/acme
    directory_url: https://acme-v02.api.letsencrypt.org/directory
    email: ops@example.com
    deploy_hook: /etc/letsencrypt/djstack/demo-deploy-hook
  register: cert
"""

RETURN = r"""
action:
  description: V(issue) when a certificate was (or, in check mode, would be) issued, else V(none).
  returned: always
  type: str
  sample: issue
reason:
  description: Why.
  returned: always
  type: str
  sample: no certificate yet
certificate:
  description: The certificate chain, leaf first (certbot's C(fullchain.pem)).
  returned: always
  type: str
  sample: /etc/letsencrypt/live/demo/fullchain.pem
key:
  description: Its private key (owner-only).
  returned: always
  type: str
  sample: /etc/letsencrypt/live/demo/privkey.pem
usable:
  description: Whether O(cert_name)'s files are there and the certificate has not expired (after the run).
  returned: always
  type: bool
  sample: true
names:
  description: The names of the certificate there is after the run (none without one).
  returned: always
  type: list
  elements: str
  sample: [example.com, www.example.com]
not_after:
  description: Its expiry (UTC, ISO 8601), empty without one.
  returned: always
  type: str
  sample: "2026-03-01T10:00:00+00:00"
serial:
  description: Its serial number (hex), empty without one.
  returned: always
  type: str
  sample: 3A5F0C
issuer:
  description: Its issuer's distinguished name, empty without one.
  returned: always
  type: str
  sample: CN=R11,O=Let's Encrypt,C=US
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.djstack.stack.plugins.module_utils.acme_certificate import (
    certbot_argv, decide, describe, failure_reason, lineage_paths, parse_x509_text, read_server, usable)


def _read(module: AnsibleModule, paths: dict) -> dict | None:
    if not os.path.exists(paths["certificate"]):
        return None
    rc, out, err = module.run_command(
        ["openssl", "x509", "-in", paths["certificate"], "-noout", "-serial", "-enddate", "-issuer",
         "-nameopt", "RFC2253", "-ext", "subjectAltName"])
    if rc != 0:
        module.fail_json(msg=f"openssl cannot read {paths['certificate']}: {err.strip()}")
    current = parse_x509_text(out)
    current["key_present"] = os.path.exists(paths["key"])
    try:
        with open(paths["renewal"], encoding="utf-8") as stream:
            current["server"] = read_server(stream.read())
    except FileNotFoundError:
        current["server"] = ""
    return current


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "cert_name": {"type": "str", "required": True},
            "domains": {"type": "list", "elements": "str", "required": True},
            "webroot": {"type": "path", "required": True},
            "directory_url": {"type": "str", "required": True},
            "email": {"type": "str", "default": ""},
            "key_type": {"type": "str", "choices": ["ecdsa", "rsa"], "default": "ecdsa"},
            "renew_before_days": {"type": "int", "default": 30},
            "deploy_hook": {"type": "str", "default": ""},
            "config_dir": {"type": "path", "default": "/etc/letsencrypt"},
            "certbot": {"type": "path", "default": "/usr/bin/certbot"},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not params["domains"]:
        module.fail_json(msg="domains must name at least one host name")
    if "/" in params["cert_name"] or params["cert_name"] in ("", ".", ".."):
        module.fail_json(msg=f"cert_name must be a plain name (got {params['cert_name']!r})")
    paths = lineage_paths(params["config_dir"], params["cert_name"])
    now = datetime.datetime.now(datetime.timezone.utc)
    current = _read(module, paths)
    action, reason = decide(params, current, now)
    before = describe(current["names"], current["server"], current["not_after"]) if current else ""
    result = {"action": action, "reason": reason, "certificate": paths["certificate"], "key": paths["key"]}
    if module._diff:
        result["diff"] = {
            "before_header": paths["certificate"], "after_header": paths["certificate"], "before": before,
            "after": describe(params["domains"], params["directory_url"], None) if action == "issue" else before,
        }
    if action == "issue" and not module.check_mode:
        if not os.path.isdir(params["webroot"]):
            module.fail_json(msg=f"the challenge directory {params['webroot']} does not exist", **result)
        rc, out, err = module.run_command(certbot_argv(params, renew=current is not None))
        if rc != 0:
            module.fail_json(
                msg=f"certbot could not get a certificate for {', '.join(params['domains'])} from "
                    f"{params['directory_url']}: {failure_reason(err or out)}",
                rc=rc, stderr=err, **result)
        current = _read(module, paths)
    result.update(
        usable=usable(current, now),
        names=current["names"] if current else [],
        not_after=current["not_after"].isoformat() if current and current["not_after"] else "",
        serial=current["serial"] if current else "",
        issuer=current["issuer"] if current else "",
    )
    module.exit_json(changed=action == "issue", **result)


if __name__ == "__main__":
    main()

"""TLS and security-header policy are role defaults a user overrides from the inventory:
nginx.conf rendered by Ansible from the role's own template and defaults."""

from __future__ import annotations

import json
from pathlib import Path

from tools.collection import ROOT
from tests.playbook import run_playbook

ROLE = ROOT / "roles" / "nginx"


def _render(tmp_path: Path, **overrides: object) -> str:
    out = tmp_path / "nginx.conf"
    playbook = tmp_path / "render.yml"
    playbook.write_text(f"""
- hosts: localhost
  connection: local
  gather_facts: false
  vars_files: ["{ROLE / 'defaults' / 'main.yml'}"]
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
    _nginx_version: "1.22.1"
    _nginx_openssl_version: "3.0.15"
  tasks:
    - ansible.builtin.template:
        src: "{ROLE / 'templates' / 'etc' / 'nginx' / 'nginx.conf.j2'}"
        dest: "{out}"
        mode: "0644"
""")
    run = run_playbook(str(playbook), "-e", json.dumps({"nginx_site_name": "demo", **overrides}))
    assert run.returncode == 0, run.stdout[-3000:]
    return out.read_text()


def _directive(conf: str, name: str) -> str:
    return next(line.strip() for line in conf.splitlines() if line.strip().startswith(name + " "))


def test_defaults_are_mozilla_intermediate(tmp_path: Path) -> None:
    conf = _render(tmp_path)
    assert _directive(conf, "ssl_protocols") == "ssl_protocols TLSv1.2 TLSv1.3;"
    assert _directive(conf, "ssl_ciphers").startswith("ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:")
    assert '"" "nosniff";' in conf and '"" "DENY";' in conf and '"" "frame-ancestors \'none\'";' in conf


def test_inventory_overrides_reach_the_config(tmp_path: Path) -> None:
    conf = _render(tmp_path, nginx_tls_protocols=["TLSv1.3"], nginx_tls12_ciphers=["ECDHE-RSA-AES256-GCM-SHA384"],
                   nginx_x_frame_options="SAMEORIGIN", nginx_content_security_policy="default-src 'self'")
    assert _directive(conf, "ssl_protocols") == "ssl_protocols TLSv1.3;"
    assert _directive(conf, "ssl_ciphers") == "ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384;"
    assert '"" "SAMEORIGIN";' in conf
    assert '"" "default-src \'self\'";' in conf

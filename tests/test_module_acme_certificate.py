"""djstack.stack.acme_certificate and module_utils/acme_certificate.py: when the site's ACME
certificate must be issued, and how certbot is asked for it."""

from __future__ import annotations

import datetime
import stat
from pathlib import Path

from ansible_collections.djstack.stack.plugins.module_utils import acme_certificate as acme
from tests.modrun import run_module

NOW = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.timezone.utc)
DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
WANTED = {"domains": ["www.example.com", "example.com"], "directory_url": DIRECTORY, "renew_before_days": 30}

X509_TEXT = """serial=0A1B2C3D
notAfter=Mar  4 10:00:00 2027 GMT
issuer=CN=Pebble Intermediate CA 1a2b3c
X509v3 Subject Alternative Name: \n    DNS:example.com, DNS:www.example.com
"""


def _current(**changes) -> dict:
    current = {"names": ["example.com", "www.example.com"], "server": DIRECTORY, "key_present": True,
               "not_after": NOW + datetime.timedelta(days=80), "serial": "0A", "issuer": "CN=R11"}
    current.update(changes)
    return current


def test_openssl_fields_are_read():
    info = acme.parse_x509_text(X509_TEXT)
    assert info["serial"] == "0A1B2C3D"
    assert info["names"] == ["example.com", "www.example.com"]
    assert info["issuer"] == "CN=Pebble Intermediate CA 1a2b3c"
    assert info["not_after"] == datetime.datetime(2027, 3, 4, 10, 0, tzinfo=datetime.timezone.utc)


def test_a_certificate_without_names_has_none():
    assert acme.parse_x509_text("serial=01\nnotAfter=Mar  4 10:00:00 2027 GMT\n")["names"] == []


def test_the_directory_comes_from_the_renewal_configuration():
    text = "version = 2.1.0\narchive_dir = /etc/letsencrypt/archive/demo\n[renewalparams]\nserver = https://ca/dir\n"
    assert acme.read_server(text) == "https://ca/dir"


def test_no_lineage_is_issued():
    assert acme.decide(WANTED, None, NOW) == ("issue", "no certificate yet")


def test_a_valid_certificate_for_the_names_is_kept():
    action, reason = acme.decide(WANTED, _current(), NOW)
    assert action == "none"
    assert "example.com, www.example.com" in reason


def test_a_new_alias_issues_again():
    action, reason = acme.decide(dict(WANTED, domains=WANTED["domains"] + ["shop.example.com"]), _current(), NOW)
    assert action == "issue"
    assert "shop.example.com" in reason


def test_another_directory_issues_again():
    action, reason = acme.decide(WANTED, _current(server="https://acme-staging-v02.api.letsencrypt.org/directory"), NOW)
    assert action == "issue"
    assert "staging" in reason


def test_a_certificate_in_the_renewal_window_is_issued_again():
    assert acme.decide(WANTED, _current(not_after=NOW + datetime.timedelta(days=10)), NOW)[0] == "issue"


def test_an_expired_certificate_is_issued_again_and_not_usable():
    current = _current(not_after=NOW - datetime.timedelta(days=1))
    assert acme.decide(WANTED, current, NOW) == ("issue", "it has expired")
    assert not acme.usable(current, NOW)


def test_a_missing_key_issues_again_and_is_not_usable():
    current = _current(key_present=False)
    assert acme.decide(WANTED, current, NOW)[0] == "issue"
    assert not acme.usable(current, NOW)


def test_a_valid_certificate_for_other_names_is_still_usable():
    # nginx keeps serving it while the new one is issued.
    assert acme.usable(_current(names=["old.example.com"]), NOW)


def _params(**changes) -> dict:
    params = {"certbot": "/usr/bin/certbot", "config_dir": "/etc/letsencrypt", "cert_name": "demo",
              "webroot": "/var/www/acme", "directory_url": DIRECTORY, "key_type": "ecdsa",
              "domains": ["www.example.com", "example.com"], "email": "", "deploy_hook": ""}
    params.update(changes)
    return params


def test_certbot_is_asked_non_interactively_over_the_webroot():
    argv = acme.certbot_argv(_params(), renew=False)
    assert argv[:2] == ["/usr/bin/certbot", "certonly"]
    for flag in ("--non-interactive", "--agree-tos", "--webroot", "--register-unsafely-without-email"):
        assert flag in argv
    assert argv[argv.index("--webroot-path") + 1] == "/var/www/acme"
    assert argv[argv.index("--server") + 1] == DIRECTORY
    assert [argv[i + 1] for i, arg in enumerate(argv) if arg == "--domain"] == ["www.example.com", "example.com"]
    assert "--force-renewal" not in argv


def test_certbot_gets_the_email_and_the_deploy_hook():
    argv = acme.certbot_argv(_params(email="ops@example.com", deploy_hook="/etc/letsencrypt/djstack/hook"), renew=False)
    assert argv[argv.index("--email") + 1] == "ops@example.com"
    assert argv[argv.index("--deploy-hook") + 1] == "/etc/letsencrypt/djstack/hook"
    assert "--register-unsafely-without-email" not in argv


def test_an_existing_lineage_is_replaced_whatever_certbot_would_keep():
    assert "--force-renewal" in acme.certbot_argv(_params(), renew=True)


def test_the_failure_reason_keeps_certbots_explanation_only():
    stderr = ("Saving debug log to /var/log/letsencrypt/letsencrypt.log\n"
              "Certbot failed to authenticate some domains (authenticator: webroot).\n"
              "  Domain: nowhere.example.com\n  Type:   dns\n  Detail: no such host\n\n"
              "Hint: The Certificate Authority failed to download...\n"
              "Some challenges have failed.\nAsk for help or search for solutions at https://community.letsencrypt.org.\n")
    reason = acme.failure_reason(stderr)
    assert "Detail: no such host" in reason
    assert "Saving debug log" not in reason
    assert "Ask for help" not in reason


# --- The module protocol, against a stand-in certbot ------------------------------


def _fake_certbot(tmp_path: Path, config_dir: Path, fails: bool = False) -> Path:
    """A certbot that writes a self-signed lineage for the --domain names (or fails)."""
    script = tmp_path / "certbot"
    script.write_text(f"""#!/bin/sh
set -eu
{"echo 'Detail: no such host' >&2; exit 1" if fails else ""}
names=""; name=""; prev=""
for arg in "$@"; do
  case "$prev" in --domain) names="$names,DNS:$arg";; --cert-name) name="$arg";; esac
  prev="$arg"
done
live="{config_dir}/live/$name"; mkdir -p "$live" "{config_dir}/renewal"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 -subj /CN=test \\
  -addext "subjectAltName=${{names#,}}" -keyout "$live/privkey.pem" -out "$live/fullchain.pem" 2>/dev/null
printf 'version = 2.1.0\\n[renewalparams]\\nserver = {DIRECTORY}\\n' > "{config_dir}/renewal/$name.conf"
echo "$@" >> "{tmp_path}/certbot.calls"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _module_args(tmp_path: Path, certbot: Path, config_dir: Path, **changes) -> dict:
    webroot = tmp_path / "acme"
    webroot.mkdir(exist_ok=True)
    args = {"cert_name": "demo", "domains": ["www.example.com", "example.com"], "webroot": str(webroot),
            "directory_url": DIRECTORY, "config_dir": str(config_dir), "certbot": str(certbot)}
    args.update(changes)
    return args


def test_module_issues_then_changes_nothing(tmp_path):
    config_dir = tmp_path / "letsencrypt"
    args = _module_args(tmp_path, _fake_certbot(tmp_path, config_dir), config_dir)
    first = run_module("acme_certificate", args, tmp_path)
    assert first["changed"] and first["usable"], first
    assert first["names"] == ["example.com", "www.example.com"]
    second = run_module("acme_certificate", args, tmp_path)
    assert not second["changed"], second
    assert len((tmp_path / "certbot.calls").read_text().splitlines()) == 1


def test_check_mode_reports_the_issuance_with_a_diff_and_asks_no_one(tmp_path):
    config_dir = tmp_path / "letsencrypt"
    args = _module_args(tmp_path, _fake_certbot(tmp_path, config_dir), config_dir)
    result = run_module("acme_certificate", args, tmp_path, check=True, diff=True)
    assert result["changed"] and result["action"] == "issue"
    assert not result["usable"]
    assert "names: example.com, www.example.com" in result["diff"]["after"]
    assert result["diff"]["before"] == ""
    assert not (tmp_path / "certbot.calls").exists()


def test_a_refused_issuance_fails_with_certbots_reason(tmp_path):
    config_dir = tmp_path / "letsencrypt"
    args = _module_args(tmp_path, _fake_certbot(tmp_path, config_dir, fails=True), config_dir)
    result = run_module("acme_certificate", args, tmp_path)
    assert result["rc"] == 1
    assert "could not get a certificate for www.example.com, example.com" in result["msg"]
    assert "no such host" in result["msg"]


def test_a_new_name_issues_again(tmp_path):
    config_dir = tmp_path / "letsencrypt"
    certbot = _fake_certbot(tmp_path, config_dir)
    run_module("acme_certificate", _module_args(tmp_path, certbot, config_dir), tmp_path)
    result = run_module("acme_certificate", _module_args(
        tmp_path, certbot, config_dir, domains=["www.example.com", "example.com", "shop.example.com"]), tmp_path)
    assert result["changed"]
    assert "shop.example.com" in result["names"]
    assert "--force-renewal" in (tmp_path / "certbot.calls").read_text().splitlines()[-1]

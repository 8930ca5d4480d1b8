# Copyright (c) 2026 djstack maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a certificate from an ACME CA needs: read the lineage certbot keeps, decide whether
it must be issued (again), and the certbot command line that issues it (HTTP-01, webroot)."""

from __future__ import annotations

import datetime
import os
import re

_DATE_FORMAT = "%b %d %H:%M:%S %Y %Z"


def lineage_paths(config_dir: str, cert_name: str) -> dict:
    """Where certbot keeps a lineage: live/ holds links to the newest files of archive/."""
    live = os.path.join(config_dir, "live", cert_name)
    return {
        "certificate": os.path.join(live, "fullchain.pem"),
        "key": os.path.join(live, "privkey.pem"),
        "chain": os.path.join(live, "chain.pem"),
        "renewal": os.path.join(config_dir, "renewal", f"{cert_name}.conf"),
    }


def parse_x509_text(text: str) -> dict:
    """The fields of `openssl x509 -noout -serial -enddate -issuer -ext subjectAltName`."""
    info: dict = {"serial": "", "not_after": None, "issuer": "", "names": []}
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("serial="):
            info["serial"] = line.split("=", 1)[1].strip().upper()
        elif line.startswith("notAfter="):
            stamp = re.sub(r"\s+", " ", line.split("=", 1)[1].strip())
            info["not_after"] = datetime.datetime.strptime(stamp, _DATE_FORMAT).replace(
                tzinfo=datetime.timezone.utc)
        elif line.startswith("issuer="):
            info["issuer"] = line.split("=", 1)[1].strip()
        elif "Subject Alternative Name" in line and index + 1 < len(lines):
            info["names"] = sorted(
                entry.strip()[4:] for entry in lines[index + 1].split(",") if entry.strip().startswith("DNS:"))
    return info


def read_server(renewal_text: str) -> str:
    """The ACME directory URL a lineage was issued from (its renewal configuration's `server`)."""
    for line in renewal_text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "server":
            return value.strip()
    return ""


def decide(wanted: dict, current: dict | None, now: datetime.datetime) -> tuple[str, str]:
    """("issue" or "none", why). `current` is None without a lineage, else its certificate's
    fields plus `server` (the directory it came from) and `key_present`."""
    if current is None:
        return "issue", "no certificate yet"
    if not current.get("key_present"):
        return "issue", "the certificate's private key is missing"
    if sorted(set(wanted["domains"])) != current["names"]:
        return "issue", f"it covers {', '.join(current['names']) or 'no name'}, not {', '.join(sorted(set(wanted['domains'])))}"
    if current.get("server") and current["server"] != wanted["directory_url"]:
        return "issue", f"it comes from {current['server']}, not {wanted['directory_url']}"
    if current["not_after"] is None or current["not_after"] <= now:
        return "issue", "it has expired"
    if current["not_after"] - now <= datetime.timedelta(days=wanted["renew_before_days"]):
        return "issue", f"it expires within {wanted['renew_before_days']} days ({current['not_after']:%Y-%m-%d})"
    return "none", f"valid for {', '.join(current['names'])} until {current['not_after']:%Y-%m-%d}"


def usable(current: dict | None, now: datetime.datetime) -> bool:
    """Whether nginx can serve the lineage's files as they are (present and not expired)."""
    return bool(current and current.get("key_present") and current["not_after"] and current["not_after"] > now)


def certbot_argv(params: dict, renew: bool) -> list:
    """certbot certonly over HTTP-01 in webroot mode, non-interactive; `renew` when a lineage
    exists (its names, CA or key are replaced, whatever certbot would keep)."""
    argv = [
        params["certbot"], "certonly", "--non-interactive", "--agree-tos",
        "--config-dir", params["config_dir"],
        "--cert-name", params["cert_name"],
        "--webroot", "--webroot-path", params["webroot"],
        "--server", params["directory_url"],
        "--key-type", params["key_type"],
    ]
    for domain in params["domains"]:
        argv += ["--domain", domain]
    if params["email"]:
        argv += ["--email", params["email"], "--no-eff-email"]
    else:
        argv += ["--register-unsafely-without-email"]
    if params["deploy_hook"]:
        argv += ["--deploy-hook", params["deploy_hook"]]
    if renew:
        argv += ["--force-renewal"]
    return argv


def describe(domains: list, server: str, not_after: datetime.datetime | None) -> str:
    """A lineage as the diff shows it."""
    until = f"{not_after:%Y-%m-%d %H:%M:%S} UTC" if not_after else "-"
    return f"names: {', '.join(sorted(set(domains)))}\nserver: {server}\nnot_after: {until}\n"


def failure_reason(stderr: str) -> str:
    """certbot's own explanation of a failed issuance, without its log-file boilerplate."""
    keep = [line.strip() for line in stderr.splitlines()
            if line.strip() and not line.startswith(("Saving debug log", "Ask for help", "See the logfile",
                                                     "Some challenges have failed", "Hint:"))]
    return " ".join(keep[-8:])

"""Security probes: systemd-analyze security, check --deploy, openssl s_client, headers."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Exposure:
    unit: str
    score: float
    level: str  # OK, MEDIUM, EXPOSED, UNSAFE
    unmet: list[str]  # settings marked ✗


def exposure(output: str) -> Exposure:
    """`systemd-analyze security UNIT` -> its overall score and the unmet settings."""
    match = re.search(r"Overall exposure level for (\S+): ([\d.]+) (\w+)", output)
    if match is None:
        raise ValueError(f"no overall exposure level in:\n{output}")
    # The setting is the first word (a long one leaves a single space before the description).
    unmet = [name.removesuffix("=") for name in re.findall(r"^✗ (\S+)", output, re.M)]
    return Exposure(match.group(1), float(match.group(2)), match.group(3), unmet)


def check_deploy(output: str) -> tuple[int, list[str]]:
    """`manage.py check --deploy` -> (issue count, check ids such as security.W004)."""
    if re.search(r"System check identified no issues", output):
        return 0, []
    match = re.search(r"System check identified (\d+) issues?", output)
    if match is None:
        raise ValueError(f"not a check --deploy report:\n{output}")
    return int(match.group(1)), re.findall(r"\(([a-z_]+\.[A-Z]\d+)\)", output)


@dataclass(frozen=True)
class Handshake:
    protocol: str  # as probed: "TLSv1", "TLSv1.1", ...
    accepted: bool
    cipher: str  # negotiated cipher, "" when refused
    reason: str  # the alert or error when refused


def handshake(protocol: str, returncode: int, output: str) -> Handshake:
    """One `openssl s_client -tls1_x` probe: accepted when a cipher was negotiated."""
    new = re.search(r"^New, (\S+), Cipher is (\S+)", output, re.M)
    cipher = new.group(2) if new else "(NONE)"
    accepted = returncode == 0 and cipher != "(NONE)"
    reason = ""
    if not accepted:
        error = re.search(r"SSL routines:[^:]*:([^:\n]+)", output)
        reason = error.group(1).strip() if error else f"exit {returncode}"
    return Handshake(protocol, accepted, cipher if accepted else "", reason)


def response_headers(output: str) -> tuple[str, list[tuple[str, str]]]:
    """`curl -D -` output -> (status line, [(name, value)]) of the last response."""
    blocks = [b for b in re.split(r"\r?\n\r?\n", output.strip()) if b.startswith("HTTP/")]
    if not blocks:
        raise ValueError(f"no HTTP response head in:\n{output}")
    lines = blocks[-1].splitlines()
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return lines[0].strip(), headers

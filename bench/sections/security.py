"""5. Security: systemd sandbox exposure, check --deploy, TLS protocols, response headers."""

from __future__ import annotations

from dataclasses import asdict

from bench import security as parse
from bench import side
from bench.context import SITE, Context
from bench.sections.base import Data, Goal, Section, table
from tools.sandbox import EXPOSURE_LIMITS

# Unit -> (what it runs, the exposure its role's README documents, the limit, where).
# The limit is the one the roles' Molecule tests enforce (tools/sandbox.py).
UNITS = {
    "demo.service": ("gunicorn", 1.2, EXPOSURE_LIMITS["gunicorn"], "roles/gunicorn/README.md (measured 1.2 OK)"),
    "memcached.service": ("memcached", 1.1, EXPOSURE_LIMITS["memcached"], "roles/memcached/README.md"),
    "nginx.service": ("nginx", 2.5, EXPOSURE_LIMITS["nginx"], "roles/nginx/README.md"),
}
# openssl s_client flag -> protocol name; the old ones with SECLEVEL=0 so that OpenSSL 3
# on the client does not refuse them itself.
PROTOCOLS = {"tls1": "TLSv1", "tls1_1": "TLSv1.1", "tls1_2": "TLSv1.2", "tls1_3": "TLSv1.3"}
OLD = ("tls1", "tls1_1")
SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy",
                    "Referrer-Policy", "Permissions-Policy", "Strict-Transport-Security")


def _probe(ctx: Context, flag: str, port: int) -> Data:
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", f"-{flag}"]
    if flag in OLD:
        cmd += ["-cipher", "DEFAULT@SECLEVEL=0"]
    proc = ctx.host.netns(cmd, timeout=30)
    ctx.keep(f"s_client-{port}-{flag}", proc.stdout + proc.stderr)
    return asdict(parse.handshake(PROTOCOLS[flag], proc.returncode, proc.stdout + proc.stderr))


def run(ctx: Context) -> Data:
    exposures = {}
    for unit in UNITS:
        out = ctx.host.sh(f"systemd-analyze security --no-pager {unit}", check=False)
        ctx.keep(f"systemd-analyze-{unit}", out)
        exposures[unit] = asdict(parse.exposure(out))
    check_out = ctx.host.sh("/srv/demo/bin/manage check --deploy 2>&1", check=False)
    ctx.keep("check-deploy", check_out)
    issues, ids = parse.check_deploy(check_out)
    ctx.log("TLS probes (the stack, then a control server accepting every protocol)")
    tls = {flag: _probe(ctx, flag, 443) for flag in PROTOCOLS}
    with side.ceiling_nginx(ctx.host):
        control = {flag: _probe(ctx, flag, side.TLS_CONTROL_PORT) for flag in PROTOCOLS}
    heads = {}
    for name, path in (("page", "/products/"), ("static file", "/static/" + ctx.facts["static"]["css"])):
        status, headers = parse.response_headers(ctx.fetch(f"security-{name}", SITE + path))
        heads[name] = {"path": path, "status": status, "headers": headers}
    return {"exposure": exposures, "check_deploy": {"issues": issues, "ids": ids, "output": check_out.strip()},
            "tls": tls, "tls_control": control, "headers": heads}


def goals(data: Data) -> list[Goal]:
    found = []
    for unit, (_, documented, target, source) in UNITS.items():
        score = data["exposure"].get(unit, {}).get("score")
        found.append(Goal(f"`systemd-analyze security {unit}` at most {target}", source,
                          score is not None and score <= target, f"{score}"))
    issues = data["check_deploy"]["issues"]
    found.append(Goal("`check --deploy` reports no issues", "app/README.md", issues == 0,
                      f"{issues} issue(s) {', '.join(data['check_deploy']['ids'])}".strip()))
    for flag, probe in data["tls"].items():
        want = flag not in OLD
        found.append(Goal(f"{probe['protocol']} {'accepted' if want else 'refused by the server'}",
                          "roles/nginx/README.md (TLS 1.2 and 1.3 only)",
                          probe["accepted"] == want and (want or data["tls_control"][flag]["accepted"]),
                          probe["cipher"] or probe["reason"]))
    for name, head in data["headers"].items():
        names = [n.lower() for n, _ in head["headers"]]
        missing = [h for h in SECURITY_HEADERS if h.lower() not in names]
        twice = sorted({n for n in names if names.count(n) > 1})
        found.append(Goal(f"security headers on a {name}, each once", "roles/nginx/README.md",
                          not missing and not twice,
                          "; ".join(filter(None, [f"missing {', '.join(missing)}" if missing else "",
                                                  f"twice {', '.join(twice)}" if twice else ""])) or "all six"))
    static = dict((n.lower(), v) for n, v in data["headers"]["static file"]["headers"])
    found.append(Goal("hashed static file cached as immutable", "roles/nginx/README.md",
                      "immutable" in static.get("cache-control", ""), static.get("cache-control", "none")))
    return found


def render(data: Data) -> list[str]:
    rows = []
    for unit, (runs, documented, target, _) in UNITS.items():
        exp = data["exposure"][unit]
        rows.append([f"`{unit}` ({runs})", f"{exp['score']} {exp['level']}", str(documented), str(target),
                     ", ".join(f"`{name}`" for name in exp["unmet"]) or "none"])
    lines = ["`systemd-analyze security` on the bench host:", ""]
    lines += table(["unit", "exposure", "README", "target", "settings marked ✗"], rows)
    check = data["check_deploy"]
    ids = f" ({', '.join(check['ids'])})" if check["ids"] else ""
    lines += ["", f"`/srv/demo/bin/manage check --deploy`: **{check['issues']} issue(s)**{ids} — "
              f"`{check['output'].splitlines()[-1]}`",
              "", "TLS protocols (`openssl s_client -tls1…-tls1_3` to 127.0.0.1:443, SNI localhost; TLS 1.0/1.1 "
              "with `-cipher DEFAULT@SECLEVEL=0`). The control column is the same client against a "
              "bench-only server that allows every protocol, so a refusal in the site column is the server's:", ""]
    tls_rows = []
    for flag, probe in data["tls"].items():
        ctl = data["tls_control"][flag]
        tls_rows.append([probe["protocol"], "accepted" if probe["accepted"] else "**refused**",
                         probe["cipher"] or probe["reason"],
                         "accepted" if ctl["accepted"] else f"refused ({ctl['reason']})"])
    lines += table(["protocol", "the site", "cipher or alert", "control"], tls_rows)
    for name, head in data["headers"].items():
        lines += ["", f"Response headers of a {name} (`GET {head['path']}`, HTTP/1.1): `{head['status']}`", "", "```"]
        lines += [f"{n}: {v}" for n, v in head["headers"] if n.lower() not in ("date", "last-modified", "etag")]
        lines += ["```"]
    return lines


SECTION = Section("security", 5, "Security", run, render, goals)

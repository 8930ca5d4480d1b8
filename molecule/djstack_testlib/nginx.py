"""HTTP(S) requests and TLS probes run inside the test host, against its own nginx.

Requests go to 127.0.0.1 with an explicit Host header and TLS server name (SNI), so a
test chooses which virtual server it talks to without any name resolution.
"""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass, field

from testinfra.host import Host

# Runs inside the container with the image's python3, so it needs only the stdlib.
_CLIENT = r"""
import base64, http.client, json, socket, ssl, sys

spec = json.loads(sys.argv[1])


def connect():
    raw = socket.create_connection(("127.0.0.1", spec["port"]), timeout=10,
                                   source_address=(spec["source"], 0))
    if not spec["tls"]:
        return raw
    if spec["cafile"]:
        ctx = ssl.create_default_context(cafile=spec["cafile"])
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(spec["alpn"])
    return ctx.wrap_socket(raw, server_hostname=spec["sni"])


def exchange(conn):
    conn.putrequest(spec["method"], spec["path"], skip_host=True, skip_accept_encoding=True)
    if spec["host_header"] is not None:
        conn.putheader("Host", spec["host_header"])
    body = spec["body"].encode() if spec["body"] is not None else b"x" * spec["body_size"]
    for name, value in spec["headers"]:
        conn.putheader(name, value)
    if body:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body or None)
    resp = conn.getresponse()
    data = resp.read()
    return {"status": resp.status, "headers": resp.getheaders(), "body": base64.b64encode(data).decode()}


results = []
try:
    sock = connect()
    tls = {"alpn": sock.selected_alpn_protocol(), "version": sock.version()} if spec["tls"] else {}
    if spec["handshake_only"]:
        results.append(tls)
    else:
        # One keep-alive connection for all the requests.
        conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=10)
        conn.sock = sock
        for _ in range(spec["count"]):
            results.append(dict(tls, **exchange(conn)))
    sock.close()
except Exception as exc:
    results.append({"error": type(exc).__name__, "detail": str(exc)})
print(json.dumps(results))
"""


@dataclass
class Response:
    """One exchange: either a status, headers and body, or the error that came instead."""

    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    error: str | None = None
    detail: str = ""
    alpn: str | None = None
    tls_version: str | None = None

    def header(self, name: str) -> str | None:
        values = self.all(name)
        return values[0] if values else None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> dict:
        return json.loads(self.body)


def _parse(raw: dict) -> Response:
    if "error" in raw:
        return Response(error=raw["error"], detail=raw["detail"])
    return Response(
        status=raw.get("status"),
        headers=[tuple(pair) for pair in raw.get("headers", [])],
        body=base64.b64decode(raw.get("body", "")),
        alpn=raw.get("alpn"),
        tls_version=raw.get("version"),
    )


def requests(
    host: Host,
    path: str = "/",
    *,
    host_header: str | None = "demo.test",
    sni: str | None = "",
    tls: bool = True,
    port: int | None = None,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body_size: int = 0,
    body: str | None = None,
    source: str = "127.0.0.1",
    cafile: str | None = None,
    alpn: tuple[str, ...] = ("http/1.1",),
    handshake_only: bool = False,
    count: int = 1,
) -> list[Response]:
    """Send `count` identical requests on one connection; an error ends the list early.

    sni "" (the default) means the same name as host_header; None sends no server name.
    body: the request's body as text (else body_size bytes of "x").
    """
    spec = {
        "path": path,
        "host_header": host_header,
        "sni": host_header if sni == "" else sni,
        "tls": tls,
        "port": port or (443 if tls else 80),
        "method": method,
        "headers": list((headers or {}).items()),
        "body_size": body_size,
        "body": body,
        "source": source,
        "cafile": cafile,
        "alpn": list(alpn),
        "handshake_only": handshake_only,
        "count": count,
    }
    out = host.check_output(f"python3 -c {shlex.quote(_CLIENT)} {shlex.quote(json.dumps(spec))}")
    return [_parse(raw) for raw in json.loads(out)]


def request(host: Host, path: str = "/", **kwargs) -> Response:
    return requests(host, path, **kwargs)[0]


def s_client(host: Host, protocol: str, server_name: str = "demo.test"):
    """An `openssl s_client` handshake forcing one protocol version (e.g. "tls1_1").

    Old versions are offered with every cipher at security level 0, so a refusal can only
    come from the server, not from the client's own OpenSSL policy.
    """
    cipher = "" if protocol in ("tls1_2", "tls1_3") else "-cipher 'DEFAULT:@SECLEVEL=0'"
    return host.run(
        f"openssl s_client -connect 127.0.0.1:443 -servername {shlex.quote(server_name)} "
        f"-{protocol} {cipher} </dev/null"
    )

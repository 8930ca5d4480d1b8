#!/usr/bin/python3
"""GET one path from the site through this host's nginx, as a browser would: HTTPS
to 127.0.0.1 with the site's name in SNI and Host (nginx refuses nameless TLS).
Prints {"status", "headers"} as JSON; the certificate is not verified (it may be
self-signed, and the point is what nginx and the app answer).

Only the standard library: it runs with Debian's python3 on the target.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import ssl
import sys


def probe(name: str, path: str, port: int, timeout: float) -> dict[str, object]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    # SNI comes from the connection's host; connect by address, present the name.
    connection.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout), server_hostname=name)
    connection.request("GET", path, headers={"Host": name, "User-Agent": "djstack-deploy-check"})
    response = connection.getresponse()
    response.read()
    return {"status": response.status, "headers": {k.lower(): v for k, v in response.getheaders()}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--timeout", type=float, default=10)
    args = parser.parse_args()
    try:
        result = probe(args.name, args.path, args.port, args.timeout)
    except (OSError, http.client.HTTPException) as exc:
        result = {"status": 0, "headers": {}, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())

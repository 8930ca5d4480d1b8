"""A stand-in for gunicorn: answers on systemd's unix socket (fd 3) and shows what it got.

Every request is appended to a log ("METHOD PATH"), so tests can prove that a request
never reached the app. The answer is JSON: the method, path, request headers and body
length, with the header `X-Upstream: echo` so tests know the answer came from here.
"""

from __future__ import annotations

import http.server
import json
import socket
import socketserver

LOG = "/var/log/upstream/requests.log"
# Paths where the app sends security headers of its own (nginx must not duplicate them).
OWN_HEADERS = {"/own-headers/": {"X-Frame-Options": "SAMEORIGIN", "Referrer-Policy": "no-referrer"}}


class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self, with_body: bool) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(length) if length else b""
        with open(LOG, "a", encoding="utf-8") as log:
            log.write(f"{self.command} {self.path}\n")
        status = 404 if self.path.startswith("/missing") else 200
        body = json.dumps({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_length": len(received),
        }).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Upstream", "echo")
        for name, value in OWN_HEADERS.get(self.path, {}).items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(True)

    def do_HEAD(self) -> None:
        self._answer(False)

    def do_POST(self) -> None:
        self._answer(True)

    def log_message(self, format: str, *args: object) -> None:
        # Unix-socket peers have no address, which the default logger indexes.
        pass


class SocketActivatedServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(None, Handler, bind_and_activate=False)
        self.socket.close()
        # systemd passes the listening socket as fd 3 (SD_LISTEN_FDS_START).
        self.socket = socket.socket(fileno=3)

    def get_request(self) -> tuple[socket.socket, tuple[str, int]]:
        conn, _ = self.socket.accept()
        return conn, ("local", 0)


if __name__ == "__main__":
    SocketActivatedServer().serve_forever()

"""Tiny local servers that misbehave the way real ones do: for the gate's failure tests.

All bind 127.0.0.1 on a port the kernel picks, count what they receive, and stop on exit.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (path, parameters) → (status, body) or (status, body, headers); the body is sent as it is.
Answer = Callable[[str, dict[str, str]], tuple[int, bytes] | tuple[int, bytes, dict[str, str]]]


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case


class HttpServer:
    """Answers every request with ``answer(path, params)``; records the requests."""

    def __init__(
        self, answer: Answer, tls: ssl.SSLContext | None = None, drip: float | None = None
    ) -> None:
        self.answer = answer
        self.drip = drip  # seconds between bytes: the whole answer, status line first
        self.received: list[Received] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(url.query))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    params.update(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                server.received.append(
                    # Header names are case-insensitive (urllib sends "X-scope-orgid").
                    Received(
                        self.command,
                        url.path,
                        params,
                        {k.lower(): v for k, v in self.headers.items()},
                    )
                )
                status, body, *more = server.answer(url.path, params)
                if server.drip is not None:
                    self._drip(status, body, server.drip)
                    return
                self.send_response(status)
                for name, value in (more[0] if more else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drip(self, status: int, body: bytes, pause: float) -> None:
                head = f"HTTP/1.1 {status} OK\r\nContent-Length: {len(body)}\r\n\r\n"
                try:
                    for byte in head.encode() + body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if server.stopping.wait(pause):
                            return
                except OSError:
                    return  # the client gave up
                self.close_connection = True

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


class SocketServer:
    """Accepts TCP connections and then either never answers or sends ``reply`` and closes
    (with ``trickle``, its first ``at_once`` bytes at once, then a byte every that many
    seconds)."""

    def __init__(
        self, reply: bytes | None = None, trickle: float | None = None, at_once: int = 0
    ) -> None:
        self.reply = reply
        self.trickle = trickle
        self.at_once = at_once
        self.accepted = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        self._listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            if self.reply is None:
                self._open.append(connection)  # hold it open, say nothing
            elif self.trickle is not None:
                self._open.append(connection)
                threading.Thread(target=self._drip, args=(connection,), daemon=True).start()
            else:
                connection.recv(65536)
                connection.sendall(self.reply)
                connection.close()

    def _drip(self, connection: socket.socket) -> None:
        assert self.reply is not None and self.trickle is not None
        try:
            connection.recv(65536)
            connection.sendall(self.reply[: self.at_once])
            for byte in self.reply[self.at_once :]:
                if self._stop.wait(self.trickle):
                    return
                connection.sendall(bytes([byte]))
        except OSError:
            return  # the client gave up

    def __enter__(self) -> SocketServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for connection in self._open:
            connection.close()
        self._listener.close()


def api(data: dict[str, Any], warnings: list[str] | None = None) -> tuple[int, bytes]:
    """A successful Prometheus API answer."""
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    return 200, json.dumps(body).encode()


def vector(*series: tuple[dict[str, str], str]) -> dict[str, Any]:
    """An instant-vector result at time 1000."""
    return {
        "resultType": "vector",
        "result": [{"metric": labels, "value": [1000, value]} for labels, value in series],
    }

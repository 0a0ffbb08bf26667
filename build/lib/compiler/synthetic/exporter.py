"""A live exporter of synthetic series, so that a backfilled server keeps receiving data.

Backfilled history ends when the server starts. Without new samples the 5m rates vanish a
few minutes later and every rule that reads them stops recording, which no real server
does. This exporter serves each series' value at the moment of the scrape, continuing
its shape, so the server's own rule evaluation carries on where the history stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from compiler.synthetic.series import SyntheticSeries, exposition


class SyntheticExporter:
    """Serves ``/metrics`` on 127.0.0.1 (a free port) while running."""

    def __init__(self, series: Sequence[SyntheticSeries], start: int) -> None:
        self.series = tuple(series)
        self.start_time = start
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def target(self) -> str:
        """``host:port`` to scrape."""
        assert self._server is not None, "the exporter is not running"
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def body(self, at: float | None = None) -> str:
        """What a scrape at Unix time ``at`` (default now) returns."""
        return exposition(self.series, self.start_time, time.time() if at is None else at)

    def start(self) -> None:
        """Listen and serve in a background thread."""
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                payload = exporter.body().encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Scrapes are not worth a log line."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> SyntheticExporter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

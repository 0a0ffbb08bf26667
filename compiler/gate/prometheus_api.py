"""The Prometheus HTTP API as the release gate needs it: every doubt is an error.

Works with Prometheus, Thanos Query and Mimir (their Prometheus-compatible API under the
given base URL). A gate that reads a failed answer as "no alerts" opens when it should
not, so anything but a complete, successful, warning-free JSON answer raises
:class:`ApiError` with a reason a person can act on. Requests are retried a bounded
number of times; once the server has failed for good, later requests fail at once, so a
hanging server costs a few timeouts, not one per query.

Two deadlines bound the time a server can hold the gate: one per request (connection,
status line, headers and body together, however slowly they arrive) and one for the run.
A watchdog shuts the request's socket down when the nearer one passes.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import math
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

USER_AGENT = "slo-compiler-gate/1"
MAX_BODY = 64 * 1024 * 1024  # a larger answer is not one the gate asked for
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK = 64 * 1024


class ApiError(Exception):
    """The server could not give the gate a usable answer.

    ``kind`` is one of ``unreachable``, ``timeout``, ``http-error``, ``bad-response``,
    ``warnings``, ``query-error``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Auth:
    """How to authenticate: at most one of bearer token and basic auth, plus headers."""

    bearer_token: str | None = None
    basic_user: str | None = None
    basic_password: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # e.g. (("X-Scope-OrgID", "tenant-1"),)
    ca_file: Path | None = None

    def request_headers(self) -> dict[str, str]:
        """The headers every request carries."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.bearer_token}"
        elif self.basic_user is not None:
            pair = f"{self.basic_user}:{self.basic_password or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        headers.update(dict(self.headers))
        return headers

    def secrets(self) -> tuple[str, ...]:
        """Every credential a request carries, as it could come back in an answer: the
        token, the password, the encoded basic pair and the extra headers' values."""
        found = [self.bearer_token, self.basic_password, *(value for _, value in self.headers)]
        authorization = self.request_headers().get("Authorization", "")
        if authorization.startswith("Basic "):
            found.append(authorization.removeprefix("Basic "))
        # Longest first, so that a secret containing another is replaced whole.
        return tuple(sorted({f for f in found if f}, key=len, reverse=True))


@dataclass(frozen=True)
class Series:
    """One series of a query result: its labels and its (time, value) samples."""

    labels: dict[str, str]
    samples: tuple[tuple[float, float], ...]

    @property
    def value(self) -> float:
        """The value of an instant-vector element (its only sample)."""
        return self.samples[-1][1]


class PrometheusClient:
    """A Prometheus-compatible query API at ``base_url`` (``https://mimir/prometheus``)."""

    def __init__(
        self,
        base_url: str,
        auth: Auth | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: Sequence[float] = (0.5, 1.0),
        run_timeout: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # What reports and messages show: never credentials in the URL or its query.
        self.shown_url = redacted(self.base_url)
        self.auth = auth or Auth()
        self.timeout = timeout
        # The whole run's deadline (monotonic clock), counted from the client's creation.
        self.run_timeout = run_timeout
        self._run_deadline = None if run_timeout is None else time.monotonic() + run_timeout
        self.attempts = attempts
        self.backoff = tuple(backoff)
        self.requests = 0  # sent, retries included (reports and tests read it)
        self._failed: ApiError | None = None
        self._context = (
            ssl.create_default_context(cafile=str(self.auth.ca_file))
            if self.auth.ca_file
            else ssl.create_default_context()
        )
        self._opener = urllib.request.build_opener(
            _WatchedHTTPHandler(), _WatchedHTTPSHandler(context=self._context), _NoRedirects()
        )

    # -- the endpoints ---------------------------------------------------------------

    def server_time(self) -> float:
        """The server's clock (``time()``): every query of a run is evaluated at it."""
        data = self._call("/api/v1/query", {"query": "time()"})
        if data.get("resultType") != "scalar":
            raise ApiError("bad-response", f"time() returned {data.get('resultType')!r}")
        return _number(data["result"][1], "time()")

    def instant(self, expr: str, at: float) -> list[Series]:
        """An instant query evaluated at ``at``: the elements of the result vector."""
        data = self._call("/api/v1/query", {"query": expr, "time": _stamp(at)})
        if data.get("resultType") != "vector":
            raise ApiError("bad-response", f"{expr}: a {data.get('resultType')!r}, not a vector")
        return [_series(item, expr, [item.get("value")]) for item in _result(data, expr)]

    def samples(self, selector: str, at: float) -> list[Series]:
        """The raw samples of a range selector (``ALERTS[7d]``) evaluated at ``at``."""
        data = self._call("/api/v1/query", {"query": selector, "time": _stamp(at)})
        if data.get("resultType") != "matrix":
            message = f"{selector}: a {data.get('resultType')!r}, not the matrix of raw samples"
            raise ApiError("bad-response", message)
        return [
            _series(item, selector, item.get("values") or []) for item in _result(data, selector)
        ]

    def range(self, expr: str, start: float, end: float, step: float) -> list[Series]:
        """A range query; each series has a sample at every step where it had a value."""
        params = {"query": expr, "start": _stamp(start), "end": _stamp(end), "step": f"{step:g}"}
        data = self._call("/api/v1/query_range", params)
        if data.get("resultType") != "matrix":
            raise ApiError("bad-response", f"{expr}: a {data.get('resultType')!r}, not a matrix")
        return [_series(item, expr, item.get("values") or []) for item in _result(data, expr)]

    def rule_groups(self) -> list[dict[str, Any]]:
        """Every rule group the server evaluates (``/api/v1/rules``)."""
        data = self._call("/api/v1/rules", {}, method="GET")
        groups = data.get("groups")
        if not isinstance(groups, list):
            raise ApiError("bad-response", "/api/v1/rules: no list of groups in the answer")
        return groups

    # -- transport -------------------------------------------------------------------

    def _call(self, path: str, params: dict[str, str], method: str = "POST") -> dict[str, Any]:
        try:
            return self._attempts(path, params, method)
        except ApiError as error:
            # A server may echo credentials (in a header it redirects with, an error text):
            # no message leaves the client with one.
            raise ApiError(error.kind, self._scrubbed(error.message)) from None

    def _scrubbed(self, text: str) -> str:
        for secret in self.auth.secrets():
            text = text.replace(secret, "REDACTED")
        return text

    def _attempts(self, path: str, params: dict[str, str], method: str) -> dict[str, Any]:
        if self._failed is not None:
            raise ApiError(self._failed.kind, self._failed.message)
        # Thanos answers with whatever stores responded unless told not to.
        params = {**params, "partial_response": "false"}
        last: ApiError | None = None
        for attempt in range(self.attempts):
            if attempt:
                pause = self.backoff[min(attempt - 1, len(self.backoff) - 1)]
                time.sleep(min(pause, max(0.0, self._run_left())))
            if self._run_left() <= 0:
                assert self.run_timeout is not None
                self._failed = ApiError(
                    "timeout",
                    f"{self.shown_url}{path}: the run's deadline ({self.run_timeout:g}s) "
                    "passed before the gate had its answers",
                )
                raise self._failed
            try:
                return _payload(path, self._send(path, params, method))
            except _Retry as retry:
                last = retry.error
            except ApiError as error:
                if error.kind not in ("query-error", "warnings"):
                    self._failed = error
                raise
        assert last is not None
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        self._failed = ApiError(last.kind, last.message + tries)
        raise self._failed

    def _scrubbed_body(self, content: bytes) -> bytes:
        """The body without any credential in it, before anything quotes a part of it."""
        for secret in self.auth.secrets():
            content = content.replace(secret.encode("latin-1"), b"REDACTED")
        return content

    def _run_left(self) -> float:
        """Seconds until the run's deadline (infinite without one)."""
        if self._run_deadline is None:
            return math.inf
        return self._run_deadline - time.monotonic()

    def _send(self, path: str, params: dict[str, str], method: str) -> tuple[int, bytes]:
        target = f"{self.base_url}{path}"
        url = f"{self.shown_url}{path}"  # in messages
        body = None
        encoded = urllib.parse.urlencode(params)
        if method == "GET":
            target = f"{target}?{encoded}"
        else:
            body = encoded.encode("ascii")
        # The nearer of the request's and the run's deadlines; the watchdog enforces it.
        allowed = min(self.timeout, self._run_left())
        if allowed < self.timeout:
            assert self.run_timeout is not None
            late = silent = (
                f"{url}: the run's deadline ({self.run_timeout:g}s) passed during the request"
            )
        else:
            late = f"{url}: answer not complete within {self.timeout:g}s"
            silent = f"{url}: no answer within {self.timeout:g}s"
        watchdog = _Watchdog(time.monotonic() + allowed)
        request = _WatchedRequest(target, watchdog, data=body, method=method)
        for name, value in self.auth.request_headers().items():
            request.add_header(name, value)
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        self.requests += 1
        with watchdog:
            try:
                with self._opener.open(request, timeout=allowed) as response:
                    return response.status, self._scrubbed_body(
                        _read(response, watchdog, url, late)
                    )
            except _RedirectRefused as error:
                raise ApiError("bad-response", f"{url}: {error}") from error
            except urllib.error.HTTPError as error:  # an error status: its body says why
                try:
                    content = _read(error, watchdog, url, late) if error.fp else b""
                except (OSError, http.client.HTTPException) as reading:
                    if watchdog.fired:
                        raise _Retry(ApiError("timeout", late)) from reading
                    message = f"{url}: HTTP {error.code}, and its body failed: {reading}"
                    raise _Retry(ApiError("timeout", message)) from reading
                content = self._scrubbed_body(content)
                if error.code in _RETRY_STATUS:
                    raise _Retry(_http_error(url, error.code, content)) from error
                return error.code, content
            except (OSError, http.client.HTTPException) as error:
                if watchdog.fired:  # what the shut-down socket raised: the deadline passed
                    nothing = isinstance(
                        _reason(error), TimeoutError | http.client.RemoteDisconnected
                    )
                    raise _Retry(ApiError("timeout", silent if nothing else late)) from error
                raise _failure(url, error, silent) from error


class _Watchdog:
    """Shuts a request's socket down at its deadline: a server that sends its status line,
    headers or body a byte at a time (each read within the socket timeout) still ends
    there. The socket's descriptor is duplicated so that shutting down is safe while
    another thread reads from it, TLS or not."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.fired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            for duplicate in self._sockets:
                duplicate.close()
            self._sockets.clear()

    def watch(self, connected: socket.socket) -> None:
        """Watch a newly connected socket (shut down at once if the deadline has passed)."""
        duplicate = connected.dup()
        with self._lock:
            self._sockets.append(duplicate)
            if not self.fired:
                return
        _shut(duplicate)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for duplicate in self._sockets:
                _shut(duplicate)


def _shut(duplicate: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        duplicate.shutdown(socket.SHUT_RDWR)


class _WatchedRequest(urllib.request.Request):
    """A request that carries the watchdog of its deadline to the connection."""

    def __init__(self, url: str, watchdog: _Watchdog, **kwargs: Any) -> None:
        super().__init__(url, **kwargs)
        self.watchdog = watchdog


class _Connecting(Protocol):
    def __call__(self, *args: Any, **kwargs: Any) -> socket.socket: ...


def _watched(base: type[http.client.HTTPConnection], request: urllib.request.Request) -> Any:
    """``base`` whose TCP socket, once connected, is watched by the request's watchdog."""
    watchdog = request.watchdog if isinstance(request, _WatchedRequest) else None

    class Connection(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # http.client's hook for opening the socket (typeshed does not declare it).
            connect: _Connecting = getattr(self, "_create_connection")  # noqa: B009

            def connected(*args: Any, **kwargs: Any) -> socket.socket:
                sock = connect(*args, **kwargs)
                if watchdog is not None:
                    watchdog.watch(sock)
                return sock

            self._create_connection = connected

    return Connection


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, req), req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._watched_context = context

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = _watched(http.client.HTTPSConnection, req)
        return self.do_open(connection, req, context=self._watched_context)


def _failure(url: str, error: OSError | http.client.HTTPException, silent: str) -> Exception:
    """What a transport failure before the deadline means: mostly worth another attempt."""
    reason = _reason(error)
    if isinstance(reason, TimeoutError):
        return _Retry(ApiError("timeout", silent))
    if isinstance(reason, ssl.SSLError):
        return ApiError("unreachable", f"{url}: TLS failed: {reason}")
    if isinstance(error, urllib.error.URLError):
        return _Retry(ApiError("unreachable", f"{url}: {error.reason}"))
    if isinstance(error, ConnectionError):
        return _Retry(ApiError("unreachable", f"{url}: the connection failed: {error}"))
    if isinstance(error, http.client.HTTPException):
        return _Retry(ApiError("bad-response", f"{url}: not an HTTP answer: {error!r}"))
    return _Retry(ApiError("unreachable", f"{url}: {error}"))


def _reason(error: BaseException) -> object:
    """What failed: urllib wraps the socket's error in a URLError."""
    return error.reason if isinstance(error, urllib.error.URLError) else error


class _RedirectRefused(Exception):
    """A redirect the gate does not follow."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: elsewhere the request's credentials would go to another
    server, or in clear text; and queries are POSTs, which a redirect turns into a GET
    without the query."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        raise _RedirectRefused(
            f"HTTP {code} redirects to {redacted(newurl)}; the gate follows no redirect "
            "(credentials are not sent elsewhere): give --prometheus the final URL"
        )


def redacted(url: str) -> str:
    """``url`` without user and password, and with every query value replaced: what may be
    printed of a URL that may carry secrets."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:  # not a URL (a port that is not a number): show nothing of it
        return "(an invalid URL)"
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host + (f":{port}" if port is not None else "")
    query = urllib.parse.urlencode(
        [(key, "REDACTED") for key, _ in urllib.parse.parse_qsl(parts.query, True)]
    )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class _Retry(Exception):
    """A failure worth another attempt."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _read(response: Any, watchdog: _Watchdog, url: str, late: str) -> bytes:
    """The body, within the deadline (a server that trickles bytes is a hanging server)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > watchdog.deadline:
            raise _Retry(ApiError("timeout", late))
        # read1: what one receive brings, so that a server sending a byte at a time meets
        # the deadline (read() would wait for a whole chunk).
        chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
        if not chunk:
            if watchdog.fired:  # the watchdog's shutdown reads as the end of the body
                raise _Retry(ApiError("timeout", late))
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError("bad-response", f"{url}: answer larger than {MAX_BODY} bytes")
        chunks.append(chunk)


def _http_error(url: str, status: int, content: bytes) -> ApiError:
    detail = _error_detail(content)
    return ApiError("http-error", f"{url}: HTTP {status}{': ' + detail if detail else ''}")


def _error_detail(content: bytes) -> str:
    try:
        body = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", "replace").strip()
        return text[:200]
    if isinstance(body, dict) and "error" in body:
        return f"{body.get('errorType', 'error')}: {body['error']}"
    return ""


def _payload(path: str, answer: tuple[int, bytes]) -> dict[str, Any]:
    """The ``data`` of a successful, complete answer; an ApiError for anything else."""
    status, content = answer
    try:
        body = json.loads(content)
    except ValueError as error:
        excerpt = content[:80].decode("utf-8", "replace")
        raise ApiError(
            "bad-response", f"{path}: HTTP {status}, not JSON ({error}): {excerpt!r}"
        ) from error
    if not isinstance(body, dict):
        raise ApiError("bad-response", f"{path}: HTTP {status}, JSON but not an API answer")
    if status == 422 or (status == 400 and body.get("errorType") == "execution"):
        raise ApiError("query-error", f"{path}: {body.get('errorType')}: {body.get('error')}")
    if status != 200 or body.get("status") != "success":
        detail = body.get("error") or body.get("status")
        raise ApiError("http-error", f"{path}: HTTP {status}: {body.get('errorType')}: {detail}")
    warnings = body.get("warnings")
    if warnings:
        # Thanos reports stores that did not answer (a partial response) as warnings.
        raise ApiError("warnings", f"{path}: the server warned: {'; '.join(map(str, warnings))}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise ApiError("bad-response", f"{path}: no data in the answer")
    return data


def _result(data: dict[str, Any], expr: str) -> list[Any]:
    result = data.get("result")
    if not isinstance(result, list):
        raise ApiError("bad-response", f"{expr}: no list of results in the answer")
    return result


def _series(item: Any, expr: str, points: list[Any]) -> Series:
    if not isinstance(item, dict) or not isinstance(item.get("metric"), dict):
        raise ApiError("bad-response", f"{expr}: malformed result element")
    samples = []
    for point in points:
        if not isinstance(point, list) or len(point) != 2:
            raise ApiError("bad-response", f"{expr}: malformed sample {point!r}")
        samples.append((_number(point[0], expr), _number(point[1], expr, allow_nan=True)))
    return Series({str(k): str(v) for k, v in item["metric"].items()}, tuple(samples))


def _number(value: Any, expr: str, allow_nan: bool = False) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ApiError("bad-response", f"{expr}: {value!r} is not a number") from error
    if math.isnan(number) and not allow_nan:
        raise ApiError("bad-response", f"{expr}: NaN where a time is required")
    return number


def _stamp(seconds: float) -> str:
    return f"{seconds:.3f}"

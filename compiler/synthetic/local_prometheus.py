"""A real Prometheus on 127.0.0.1 with synthetic history: for previews, dashboards and gates.

Prometheus evaluates rules only at "now", so history is built with promtool's backfill:
raw series become TSDB blocks (``create-blocks-from openmetrics``), then recording rules are
evaluated over that history by the server's own engine (range queries, as ``promtool tsdb
create-blocks-from rules`` makes them) one dependency level at a time and backfilled the same
way, restarting the server on the new blocks in between, because a level can only be
computed once the series it reads are queryable.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml

from compiler import promql
from compiler.durations import Duration
from compiler.synthetic import promtool
from compiler.synthetic.series import SyntheticSeries, openmetrics

PROMETHEUS_HINT = "install Debian's 'prometheus' package (make tools does it)"


class PrometheusError(RuntimeError):
    """The local server could not be started or answered with an error."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalPrometheus:
    """A Prometheus server bound to 127.0.0.1 with its own data directory and rule files."""

    def __init__(
        self,
        data_dir: Path,
        rule_files: Sequence[Path] = (),
        evaluation_interval: str = "1m",
        scrape_targets: Sequence[str] = (),
        series_keep_job: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.rule_files = [Path(f).resolve() for f in rule_files]
        self.evaluation_interval = evaluation_interval
        # host:port of exporters (e.g. a SyntheticExporter) whose series continue the history.
        self.scrape_targets = list(scrape_targets)
        # Scraped series that carry their own `job` label keep it (honor_labels), as series
        # an application exports through an agent do; otherwise job and instance are dropped.
        self.series_keep_job = series_keep_job
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = data_dir.parent / f"prometheus-{self.port}.log"

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it answers ready."""
        binary = shutil.which("prometheus")
        if binary is None:
            raise PrometheusError(f"prometheus not found: {PROMETHEUS_HINT}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        config = self.data_dir.parent / f"prometheus-{self.port}.yml"
        settings: dict[str, Any] = {
            "global": {"evaluation_interval": self.evaluation_interval},
            "rule_files": [str(f) for f in self.rule_files],
        }
        if self.scrape_targets:
            settings["scrape_configs"] = [
                _synthetic_scrape(self.scrape_targets, self.series_keep_job)
            ]
        config.write_text(yaml.safe_dump(settings))
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.data_dir}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=400d",
                    "--web.enable-lifecycle",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready(timeout)
        except BaseException:  # not ready, or interrupted while waiting: never left running
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PrometheusError(f"prometheus exited: {self._log.read_text()[-2000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.2)
        raise PrometheusError(
            f"prometheus not ready after {timeout}s: {self._log.read_text()[-2000:]}"
        )

    def stop(self) -> None:
        """Stop the server (and wait for it)."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        """Restart on the same port and data, picking up blocks added to the data directory."""
        self.stop()
        self.start()

    def get(self, path: str, **params: str) -> Any:
        """GET an API path; returns the decoded ``data`` field, raises on an error status."""
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=60) as response:
            body = json.loads(response.read())
        if body.get("status") != "success":
            raise PrometheusError(f"{path}: {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; returns the result vector."""
        params = {"query": expr}
        if at is not None:
            params["time"] = str(at)
        result: list[dict[str, Any]] = self.get("/api/v1/query", **params)["result"]
        return result

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _synthetic_scrape(targets: Sequence[str], keep_job: bool = False) -> dict[str, Any]:
    config: dict[str, Any] = {
        "job_name": "synthetic",
        "scrape_interval": "15s",
        "static_configs": [{"targets": list(targets)}],
        # The scraped series must be the backfilled ones, not new series with job/instance.
        "metric_relabel_configs": [{"action": "labeldrop", "regex": "job|instance"}],
    }
    if keep_job:
        config["honor_labels"] = True
        config["metric_relabel_configs"] = [{"action": "labeldrop", "regex": "instance"}]
    return config


def backfill_series(
    series: Iterable[SyntheticSeries],
    start: int,
    minutes: float,
    data_dir: Path,
    step: int = 60,
) -> None:
    """Write synthetic raw series from ``start`` (Unix seconds), a sample every ``step``
    seconds, as TSDB blocks."""
    backfill_openmetrics(openmetrics(series, start, minutes, step), data_dir, "series")


def backfill_openmetrics(text: str, data_dir: Path, what: str = "samples") -> None:
    """Write OpenMetrics text (with timestamps, ending in ``# EOF``) as TSDB blocks."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "series.om"
        source.write_text(text)
        result = promtool.run(
            ["tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(data_dir)]
        )
    if not result.ok:
        raise PrometheusError(f"backfilling {what} failed: {result.output}")


def recording_levels(rule_files: Sequence[Path]) -> list[dict[str, Any]]:
    """The recording rules split into dependency levels, each a rule-file document.

    Level 1 reads only raw series; level n reads records of lower levels. A selector
    depends on a rule when it names the rule's record and its equality matchers agree with
    the labels the rule sets (so ``window="1h"`` depends on the 1h rule, not on all windows).
    Alerting rules are left out: backfill cannot create them.
    """
    groups = [
        group
        for path in rule_files
        for group in (yaml.safe_load(Path(path).read_text()) or {}).get("groups", [])
    ]
    rules = [
        (index, rule)
        for index, group in enumerate(groups)
        for rule in group["rules"]
        if "record" in rule
    ]
    reads = [promql.selectors_in(promql.parse(rule["expr"])) for _, rule in rules]
    depth = [1] * len(rules)
    for _ in range(len(rules)):  # longest dependency chain is at most the number of rules
        changed = False
        for i, selectors in enumerate(reads):
            needed = 1 + max(
                (
                    depth[j]
                    for selector in selectors
                    for j, (_, producer) in enumerate(rules)
                    if _produces(producer, selector)
                ),
                default=0,
            )
            if needed != depth[i]:
                depth[i], changed = needed, True
        if not changed:
            break
    documents = []
    for level in sorted(set(depth)):
        level_groups = []
        for index, group in enumerate(groups):
            selected = [
                rule for (g, rule), d in zip(rules, depth, strict=True) if g == index and d == level
            ]
            if selected:
                level_groups.append({"name": f"{group['name']}:level{level}", "rules": selected})
        documents.append({"groups": level_groups})
    return documents


def _produces(rule: dict[str, Any], selector: promql.Selector) -> bool:
    if rule["record"] != selector.metric:
        return False
    labels = rule.get("labels") or {}
    return all(
        labels[m.label] == m.value for m in selector.matchers if m.op == "=" and m.label in labels
    )


def _add_blocks(server: LocalPrometheus, lines: list[str]) -> None:
    """OpenMetrics ``lines`` (each series' samples together, in time order) as blocks."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "blocks"
        backfill_openmetrics("\n".join(lines) + "\n# EOF\n", output)
        for block in sorted(output.iterdir()):
            shutil.move(str(block), server.data_dir / block.name)


def backfill_rules(
    server: LocalPrometheus,
    rule_files: Sequence[Path],
    start: int,
    end: int,
    interval: int = 60,
) -> int:
    """Backfill every recording rule's history into the server's data, level by level
    (:func:`rule_history`); the server is restarted after each level so the next one reads
    it. Returns the number of levels."""
    levels = recording_levels(rule_files)
    for document in levels:
        lines = rule_history(server, document, start, end, interval).splitlines()[:-1]
        if lines:
            _add_blocks(server, lines)
        server.restart()
    return len(levels)


def _range_query(
    server: LocalPrometheus, expr: str, start: int, end: int, step: int
) -> Iterator[dict[str, Any]]:
    """Every series of a range query, in chunks (a query returns at most 11,000 points)."""
    for chunk in range(start, end + 1, step * 10_000):
        chunk_end = min(end, chunk + step * 9_999)
        yield from server.get(
            "/api/v1/query_range",
            query=expr,
            start=str(chunk),
            end=str(chunk_end),
            step=str(step),
        )["result"]


def _rule_labels(
    series: dict[str, Any], rule: dict[str, Any], **extra: str
) -> tuple[tuple[str, str], ...]:
    """The labels a rule gives a result series: the rule's own win, empty ones are dropped."""
    labels = {k: v for k, v in series["metric"].items() if k != "__name__"}
    labels.update(rule.get("labels") or {})
    labels.update(extra)
    return tuple(sorted((k, v) for k, v in labels.items() if v != ""))


def rule_history(
    server: LocalPrometheus, document: dict[str, Any], start: int, end: int, interval: int = 60
) -> str:
    """What one level of recording rules (see :func:`recording_levels`) records over
    ``[start, end]``, as OpenMetrics text.

    The server's engine evaluates each rule at every evaluation time with a range query,
    the same query ``promtool tsdb create-blocks-from rules`` makes; but the result becomes
    one set of blocks instead of one block per rule and two hours, which for hundreds of
    rules is many times faster and leaves the server far fewer blocks to search.
    """
    samples: dict[tuple[tuple[str, str], ...], list[tuple[float, str]]] = {}
    for group in document["groups"]:
        for rule in group["rules"]:
            for series in _range_query(server, rule["expr"], start, end, interval):
                key = _rule_labels(series, rule, __name__=rule["record"])
                samples.setdefault(key, []).extend((float(t), v) for t, v in series["values"])
    lines: list[str] = []
    for key, points in sorted(samples.items()):
        labels = dict(key)
        name = labels.pop("__name__")
        text = ",".join(f"{k}={promql.quote(v)}" for k, v in sorted(labels.items()))
        lines.extend(f"{name}{{{text}}} {value} {stamp:.3f}" for stamp, value in sorted(points))
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _alerting_rules(rule_files: Sequence[Path]) -> list[dict[str, Any]]:
    return [
        rule
        for path in rule_files
        for group in (yaml.safe_load(Path(path).read_text()) or {}).get("groups", [])
        for rule in group["rules"]
        if "alert" in rule
    ]


_LABEL_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def _expand_labels(text: str, labels: dict[str, str]) -> str:
    return _LABEL_TEMPLATE.sub(lambda m: labels.get(m.group(1), ""), text)


def alert_samples(
    rule: dict[str, Any], result: Sequence[dict[str, Any]], interval: int
) -> Iterator[tuple[dict[str, str], int]]:
    """(labels, timestamp) of every ALERTS sample Prometheus writes for ``rule``, given the
    range-query ``result`` of its expression at every evaluation.

    An alert is pending from the first evaluation its expression returns a series, firing
    once it has been for ``for``, and inactive (no sample) after an evaluation without it.
    Label templates may use ``{{ $labels.x }}``, nothing else (values change every sample).
    """
    hold = Duration.parse(rule["for"]).seconds if rule.get("for") else 0
    for series in result:
        found = {k: v for k, v in series["metric"].items() if k != "__name__"}
        labels = dict(found)
        for name, value in (rule.get("labels") or {}).items():
            text = _expand_labels(str(value), found)
            if "{{" in text:
                raise PrometheusError(f"alert {rule['alert']}: label {name} cannot be replayed")
            labels[name] = text
        labels = {k: v for k, v in labels.items() if v != ""}
        labels["alertname"] = rule["alert"]
        active_since: int | None = None
        previous: int | None = None
        for stamp, _ in series["values"]:
            now = int(float(stamp))
            if previous is None or now - previous > interval:
                active_since = now
            assert active_since is not None
            state = "firing" if now - active_since >= hold else "pending"
            yield {**labels, "alertstate": state}, now
            previous = now


def backfill_alerts(
    server: LocalPrometheus, rule_files: Sequence[Path], start: int, end: int, interval: int = 60
) -> int:
    """Write the ``ALERTS`` history the alerting rules would have produced; returns samples.

    promtool backfills recording rules only, so the alert expressions are evaluated over
    the (already backfilled) history with range queries and their results replayed with
    Prometheus's pending/firing rules, then written as blocks; the server is restarted.
    """
    lines = alert_lines(server, rule_files, start, end, interval)
    if not lines:
        return 0
    _add_blocks(server, lines)
    server.restart()
    return len(lines)


def alert_lines(
    server: LocalPrometheus, rule_files: Sequence[Path], start: int, end: int, interval: int = 60
) -> list[str]:
    """OpenMetrics lines of the ``ALERTS`` the alerting rules would have written over
    ``[start, end]``, evaluated by the server (see :func:`backfill_alerts`)."""
    lines: list[str] = []
    for rule in _alerting_rules(rule_files):
        result = server.get(
            "/api/v1/query_range",
            query=rule["expr"],
            start=str(start),
            end=str(end),
            step=str(interval),
        )["result"]
        for labels, stamp in alert_samples(rule, result, interval):
            inner = ",".join(f"{k}={promql.quote(v)}" for k, v in sorted(labels.items()))
            lines.append(f"ALERTS{{{inner}}} 1 {stamp}")
    # OpenMetrics wants each series' samples together and in time order.
    return sorted(lines, key=_series_then_time)


def _series_then_time(line: str) -> tuple[str, int]:
    series, _, stamp = line.rsplit(" ", 2)
    return series, int(stamp)


@contextlib.contextmanager
def server_with_history(
    work_dir: Path,
    rule_files: Sequence[Path],
    series: Sequence[SyntheticSeries],
    minutes: float,
    end: int | None = None,
    alert_history: bool = False,
) -> Iterator[LocalPrometheus]:
    """A running server whose raw series and recorded rules cover ``minutes`` until ``end``.

    ``end`` defaults to now (rounded down to the minute), so the server's own rule
    evaluation carries on where the history stops. With ``alert_history`` the ``ALERTS``
    series the alerting rules would have written are backfilled too. The server is
    stopped on exit.
    """
    end = end if end is not None else int(time.time()) // 60 * 60
    start = end - int(minutes * 60)
    data_dir = work_dir / "data"
    backfill_series(series, start, minutes, data_dir)
    server = LocalPrometheus(data_dir, rule_files)
    server.start()
    try:
        backfill_rules(server, rule_files, start, end)
        if alert_history:
            backfill_alerts(server, rule_files, start, end)
        yield server
    finally:
        server.stop()

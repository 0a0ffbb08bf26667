"""A real Prometheus on 127.0.0.1 with synthetic history: for previews, dashboards and gates.

Prometheus evaluates rules only at "now", so history is built with promtool's backfill:
raw series become TSDB blocks (``create-blocks-from openmetrics``), then recording rules are
backfilled (``create-blocks-from rules``) one dependency level at a time, restarting the
server on the new blocks in between, because a level can only be computed once the series
it reads are queryable.
"""

from __future__ import annotations

import contextlib
import json
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

from compiler import promql, promtool
from compiler.durations import Duration
from compiler.synthetic import SyntheticSeries, openmetrics
from compiler.synthetic_exporter import SyntheticExporter

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
    ) -> None:
        self.data_dir = data_dir
        self.rule_files = [Path(f).resolve() for f in rule_files]
        self.evaluation_interval = evaluation_interval
        # host:port of exporters (e.g. a SyntheticExporter) whose series continue the history.
        self.scrape_targets = list(scrape_targets)
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
            settings["scrape_configs"] = [_synthetic_scrape(self.scrape_targets)]
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
        self.stop()
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

    def wait_for_rule_evaluation(self, timeout: float = 120) -> None:
        """Wait until every rule group has been evaluated since the server (re)started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            groups = self.get("/api/v1/rules")["groups"]
            # A group not yet evaluated by this process reports the zero time.
            if all(not g["lastEvaluation"].startswith("0001-") for g in groups):
                return
            time.sleep(0.5)
        raise PrometheusError(f"rule groups not evaluated within {timeout}s")

    def wait_for_samples(self, probes: Sequence[str], timeout: float = 150) -> None:
        """Wait until every probe (``selector@unix_time``) returns a sample: blocks moved
        into the data directory are loaded within about a minute."""
        deadline = time.monotonic() + timeout
        waiting = list(probes)
        while waiting and time.monotonic() < deadline:
            selector, _, at = waiting[0].rpartition("@")
            if self.query(selector, at=float(at)):
                waiting.pop(0)
            else:
                time.sleep(1)
        if waiting:
            raise PrometheusError(f"history not loaded within {timeout}s: {waiting[0]}")

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _synthetic_scrape(targets: Sequence[str]) -> dict[str, Any]:
    return {
        "job_name": "synthetic",
        "scrape_interval": "15s",
        "static_configs": [{"targets": list(targets)}],
        # The scraped series must be the backfilled ones, not new series with job/instance.
        "metric_relabel_configs": [{"action": "labeldrop", "regex": "job|instance"}],
    }


def backfill_series(
    series: Iterable[SyntheticSeries], start: int, minutes: float, data_dir: Path
) -> None:
    """Write synthetic raw series from ``start`` (Unix seconds) as TSDB blocks."""
    backfill_openmetrics(openmetrics(series, start, minutes), data_dir, "series")


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


def backfill_rules(
    server: LocalPrometheus,
    rule_files: Sequence[Path],
    start: int,
    end: int,
    interval: str = "60s",
) -> int:
    """Backfill every recording rule's history into the server's data, level by level.

    Returns the number of levels. The server is restarted after each level.
    """
    levels = recording_levels(rule_files)
    for depth, document in enumerate(levels, start=1):
        with tempfile.TemporaryDirectory() as scratch:
            rules = Path(scratch) / f"level{depth}.rules.yml"
            rules.write_text(yaml.safe_dump(document, sort_keys=False))
            output = Path(scratch) / "blocks"
            result = promtool.run(
                [
                    "tsdb",
                    "create-blocks-from",
                    "rules",
                    "--quiet",
                    f"--url={server.url}",
                    f"--start={start}",
                    f"--end={end}",
                    f"--eval-interval={interval}",
                    f"--output-dir={output}",
                    str(rules),
                ]
            )
            if not result.ok:
                raise PrometheusError(f"backfilling rules (level {depth}) failed: {result.output}")
            for block in sorted(output.iterdir()):
                shutil.move(str(block), server.data_dir / block.name)
        server.restart()
    return len(levels)


def alert_history(
    server: LocalPrometheus,
    rule_files: Sequence[Path],
    start: int,
    end: int,
    interval: int = 60,
) -> str:
    """``ALERTS`` samples that the alerting rules would have written over ``[start, end]``,
    as OpenMetrics text.

    Rule evaluation cannot be backfilled, so the server's engine evaluates each alert
    expression over the history (a range query) and the pending/firing states follow
    Prometheus's own rules: active from the first evaluation the expression returns a
    series, firing once it has been active for the rule's ``for``. Rule labels are taken
    literally (no templates); an empty value removes a label, as in Prometheus.
    """
    lines: list[str] = []
    for path in rule_files:
        for group in (yaml.safe_load(Path(path).read_text()) or {}).get("groups", []):
            for rule in group["rules"]:
                if "alert" in rule:
                    lines.extend(_alert_samples(server, rule, start, end, interval))
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _alert_samples(
    server: LocalPrometheus, rule: dict[str, Any], start: int, end: int, interval: int
) -> list[str]:
    hold = Duration.parse(rule["for"]).seconds if rule.get("for") else 0
    runs: dict[tuple[tuple[str, str], ...], list[int]] = {}
    for series in _range_query(server, rule["expr"], start, end, interval):
        key = _rule_labels(series, rule, alertname=rule["alert"])
        runs.setdefault(key, []).extend(int(float(t)) for t, _ in series["values"])
    lines = []
    for key, stamps in sorted(runs.items()):
        active_at = None
        previous = None
        for stamp in sorted(stamps):
            if previous is None or stamp - previous > interval:
                active_at = stamp
            previous = stamp
            assert active_at is not None
            state = "firing" if stamp - active_at >= hold else "pending"
            text = ",".join(f"{k}={promql.quote(v)}" for k, v in (*key, ("alertstate", state)))
            lines.append(f"ALERTS{{{text}}} 1 {stamp}")
    return lines


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


def _backfill_into(text: str, data_dirs: Sequence[Path], what: str) -> str | None:
    """Backfill OpenMetrics text into every data directory (a running server loads new
    blocks within a minute). Returns a probe for its last sample, ``selector@time``."""
    last = text.rstrip("\n").splitlines()[-2:-1]  # the line before "# EOF", if any
    if not last:
        return None
    with tempfile.TemporaryDirectory() as scratch:
        blocks = Path(scratch) / "blocks"
        backfill_openmetrics(text, blocks, what)
        for block in sorted(blocks.iterdir()):
            for data_dir in data_dirs:
                # Copy, then rename: a server must never see a half-written block.
                partial = data_dir / f".{block.name}.partial"
                shutil.copytree(block, partial)
                partial.rename(data_dir / block.name)
    selector, _, stamp = last[0].rsplit(" ", 2)
    return f"{selector}@{stamp}"


@contextlib.contextmanager
def server_with_history(
    work_dir: Path,
    rule_files: Sequence[Path],
    series: Sequence[SyntheticSeries],
    minutes: float,
    end: int | None = None,
) -> Iterator[LocalPrometheus]:
    """A running server whose raw series and recorded rules cover ``minutes`` until ``end``.

    ``end`` defaults to now (rounded down to the minute), so the server's own rule
    evaluation carries on where the history stops. The server is stopped on exit.
    """
    end = end if end is not None else int(time.time()) // 60 * 60
    start = end - int(minutes * 60)
    data_dir = work_dir / "data"
    backfill_series(series, start, minutes, data_dir)
    server = LocalPrometheus(data_dir, rule_files)
    server.start()
    try:
        backfill_rules(server, rule_files, start, end)
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def live_server_with_history(
    work_dir: Path,
    rule_files: Sequence[Path],
    series: Sequence[SyntheticSeries],
    minutes: float,
    live_rule_files: Sequence[Path] | None = None,
    end: int | None = None,
) -> Iterator[LocalPrometheus]:
    """A server that looks as if it had run ``live_rule_files`` (default ``rule_files``)
    for ``minutes`` until now, and keeps running them.

    The history holds the raw series, what ``rule_files`` record, and the ``ALERTS`` that
    the live alerting rules would have written. After that, a :class:`SyntheticExporter`
    continues the series and the server evaluates its rules itself, without a break: the
    rule history is computed on a second server (restarted once per dependency level) and
    its blocks are handed over to the live server, which loads them without a restart. The
    server yielded has loaded the history and evaluated every rule group at least once.
    ``end`` (Unix seconds) defaults to now, not rounded: the sooner the history ends before
    the live evaluation begins, the shorter the hole between them (it must stay within a
    few evaluation intervals, or a release gate rightly sees a gap).
    """
    end = end if end is not None else int(time.time())
    start = end - int(minutes * 60)
    live_dir, builder_dir = work_dir / "data", work_dir / "builder" / "data"
    backfill_series(series, start, minutes, live_dir)
    shutil.copytree(live_dir, builder_dir)
    probes: list[str | None] = []
    with SyntheticExporter(series, start) as exporter:
        live = LocalPrometheus(
            live_dir, live_rule_files or rule_files, scrape_targets=[exporter.target]
        )
        live.start()
        try:
            with LocalPrometheus(builder_dir) as builder:
                for depth, document in enumerate(recording_levels(rule_files), start=1):
                    text = rule_history(builder, document, start, end)
                    probes.append(_backfill_into(text, [builder_dir, live_dir], f"level {depth}"))
                    builder.restart()
                text = alert_history(builder, live.rule_files, start, end)
                probes.append(_backfill_into(text, [live_dir], "ALERTS"))
            live.wait_for_samples([p for p in probes if p])
            live.wait_for_rule_evaluation()
            yield live
        finally:
            live.stop()

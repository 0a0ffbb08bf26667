"""A live Prometheus with a history: for tests and previews that need "now" to be real.

:func:`compiler.synthetic.local_prometheus.server_with_history` backfills a history and then
restarts the server per level of rules; its own evaluation stops and starts, and the
alerts' history is missing. Here the history (raw series, every level of recorded
series, and the ``ALERTS`` the alerting rules would have written) is computed on a
builder server and handed to a live server that never restarts: it keeps scraping the
synthetic series (:class:`compiler.synthetic.exporter.SyntheticExporter`) and evaluating
its rules, like a server that has been running all along.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from compiler.synthetic.exporter import SyntheticExporter
from compiler.synthetic.local_prometheus import (
    LocalPrometheus,
    PrometheusError,
    alert_lines,
    backfill_openmetrics,
    backfill_series,
    recording_levels,
    rule_history,
)
from compiler.synthetic.series import SyntheticSeries


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


def wait_for_rule_evaluation(server: LocalPrometheus, timeout: float = 120) -> None:
    """Wait until every rule group has been evaluated since the server (re)started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        groups = server.get("/api/v1/rules")["groups"]
        # A group not yet evaluated by this process reports the zero time.
        if all(not g["lastEvaluation"].startswith("0001-") for g in groups):
            return
        time.sleep(0.5)
    raise PrometheusError(f"rule groups not evaluated within {timeout}s")


def wait_for_samples(server: LocalPrometheus, probes: Sequence[str], timeout: float = 150) -> None:
    """Wait until every probe (``selector@unix_time``) returns a sample: blocks moved
    into the data directory are loaded within about a minute."""
    deadline = time.monotonic() + timeout
    waiting = list(probes)
    while waiting and time.monotonic() < deadline:
        selector, _, at = waiting[0].rpartition("@")
        if server.query(selector, at=float(at)):
            waiting.pop(0)
        else:
            time.sleep(1)
    if waiting:
        raise PrometheusError(f"history not loaded within {timeout}s: {waiting[0]}")


@contextlib.contextmanager
def live_server_with_history(
    work_dir: Path,
    rule_files: Sequence[Path],
    series: Sequence[SyntheticSeries],
    minutes: float,
    live_rule_files: Sequence[Path] | None = None,
    end: int | None = None,
    unrecorded: Callable[[str], bool] | None = None,
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
    few evaluation intervals, or a release gate rightly sees a gap). ``unrecorded``: which
    lines of the recorded history (OpenMetrics) to leave out, as a server that was down then
    would have (a restart's hole in the records).
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
                    if unrecorded is not None:
                        lines = text.splitlines(keepends=True)
                        text = "".join(line for line in lines if not unrecorded(line))
                    probes.append(_backfill_into(text, [builder_dir, live_dir], f"level {depth}"))
                    builder.restart()
                alerts = alert_lines(builder, live.rule_files, start, end)
                if unrecorded is not None:
                    alerts = [line for line in alerts if not unrecorded(line)]
                probes.append(
                    _backfill_into("\n".join([*alerts, "# EOF"]) + "\n", [live_dir], "ALERTS")
                )
            wait_for_samples(live, [p for p in probes if p])
            wait_for_rule_evaluation(live)
            yield live
        finally:
            live.stop()

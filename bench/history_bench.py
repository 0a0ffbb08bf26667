"""What a Prometheus with synthetic incident history costs to build, stage by stage.

The dashboard tests, `slo preview` and the release gate's tests start a real Prometheus and
backfill its history with promtool: raw series, then the recording rules one dependency
level at a time (evaluated by the server with range queries, written as blocks, the server
restarted on them), then the ALERTS the alerting rules would have written. This prints how
long each stage takes, wall clock and CPU of the child processes (promtool, prometheus), for
the specs given (default slos/).

    .venv/bin/python bench/history_bench.py [SPEC_PATH ...] [--hours 8]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from compiler import pipeline, writer
from compiler.outputs import Root
from compiler.preview.incident import Timeline, incident_series
from compiler.synthetic import local_prometheus, promtool


@contextmanager
def timed(label: str, totals: dict[str, list[float]]) -> Iterator[None]:
    """Add wall-clock and children's CPU seconds of the block to ``totals[label]``."""
    wall, cpu = time.monotonic(), _children_cpu()
    yield
    spent = totals.setdefault(label, [0.0, 0.0, 0.0])
    spent[0] += time.monotonic() - wall
    spent[1] += _children_cpu() - cpu
    spent[2] += 1


def _children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def _wrap(owner: Any, name: str, label: Callable[..., str], totals: dict[str, list[float]]) -> None:
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with timed(label(*args, **kwargs), totals):
            return original(*args, **kwargs)

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path, default=[Path("slos")])
    parser.add_argument("--hours", type=int, default=8)
    args = parser.parse_args()
    minutes = args.hours * 60
    timeline = Timeline(
        burn_start=minutes * 5 // 8, burn_end=minutes * 5 // 8 + 90, minutes=minutes
    )
    result = pipeline.compile_specs(args.specs)
    assert result.ok, result.diagnostics
    totals: dict[str, list[float]] = {}
    _wrap(promtool, "run", lambda argv, **_: f"promtool {' '.join(argv[:3])}", totals)
    _wrap(local_prometheus.LocalPrometheus, "restart", lambda *_: "server restarts", totals)
    _wrap(local_prometheus, "rule_history", lambda *_, **__: "rule levels evaluated", totals)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        roots = {Root.GENERATED: work / "generated", Root.DASHBOARDS: work / "dashboards"}
        writer.write(writer.plan(pipeline.outputs(result.specs), roots))
        rules = sorted((work / "generated" / "prometheus").glob("*.rules.yml"))
        recorded = sum(
            len(group["rules"])
            for level in local_prometheus.recording_levels(rules)
            for group in level["groups"]
        )
        series = incident_series(result.specs, timeline)
        started, cpu = time.monotonic(), _children_cpu()
        with local_prometheus.server_with_history(
            work / "server", rules, series, minutes, alert_history=True
        ):
            wall, spent = time.monotonic() - started, _children_cpu() - cpu
    print(
        f"{len(result.specs.slos)} SLOs, {recorded} recording rules, {len(series)} raw series, "
        f"{args.hours} h of history at one sample a minute"
    )
    for label, (seconds, cpu_seconds, count) in sorted(totals.items()):
        print(f"  {label:<45} x{int(count):<3} {seconds:6.1f} s wall {cpu_seconds:6.1f} s CPU")
    print(f"  {'total (server ready)':<50} {wall:6.1f} s wall {spent:6.1f} s CPU")


if __name__ == "__main__":
    main()

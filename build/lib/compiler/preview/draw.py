"""``slo preview``: every dashboard drawn from a real Prometheus over a synthetic incident.

The specs are compiled into a scratch directory, a local Prometheus gets the incident's
history (raw series, recorded rules, and the ALERTS the alerting rules would have
written), and every panel's real queries are run and drawn (compiler.preview.render), one
PNG per dashboard: what the dashboard shows, for a reviewer without a Grafana.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler import pipeline, writer
from compiler.model.service import SpecSet
from compiler.outputs import Root
from compiler.preview import live
from compiler.preview.incident import INCIDENT, Timeline, incident_series
from compiler.preview.render import PanelResult, render, series_from
from compiler.synthetic.local_prometheus import LocalPrometheus, server_with_history
from compiler.targets.grafana.variables import TimeRange


@dataclass(frozen=True)
class Preview:
    """One drawn dashboard."""

    uid: str
    title: str
    path: Path
    panels: int


def layout(
    board: dict[str, Any], repeats: dict[str, list[str]]
) -> list[tuple[dict[str, Any], int, str | None]]:
    """(panel, top grid row, repeat value) for every panel once rows are repeated."""
    placed: list[tuple[dict[str, Any], int, str | None]] = []
    offset = 0
    sections = list(live.sections(board))
    for row, held in sections:
        members = [row, *held] if row is not None else held
        start = min(p["gridPos"]["y"] for p in members)
        height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in members) - start
        values: list[str | None] = (
            list(repeats.get(row.get("repeat", ""), [])) if row and row.get("repeat") else [None]
        )
        for index, value in enumerate(values):
            for panel in members:
                placed.append((panel, panel["gridPos"]["y"] + offset + index * height, value))
        offset += (len(values) - 1) * height
    return placed


def firing_spans(
    server: LocalPrometheus, board: dict[str, Any], time_range: TimeRange
) -> list[tuple[float, float]]:
    """Time spans during which any annotation query (firing alerts) returned a series."""
    stamps: set[float] = set()
    for expr in live.annotation_queries(board, server, time_range):
        result = server.get(
            "/api/v1/query_range",
            query=expr,
            start=str(time_range.start),
            end=str(time_range.end),
            step=str(time_range.step),
        )["result"]
        stamps.update(float(t) for series in result for t, _ in series["values"])
    spans: list[tuple[float, float]] = []
    for stamp in sorted(stamps):
        if spans and stamp - spans[-1][1] <= time_range.step:
            spans[-1] = (spans[-1][0], stamp + time_range.step)
        else:
            spans.append((stamp, stamp + time_range.step))
    return spans


def draw_dashboard(
    server: LocalPrometheus, board: dict[str, Any], time_range: TimeRange, path: Path, note: str
) -> Preview:
    """Run every query of ``board`` and draw it to ``path``."""
    options, _ = live.resolve_variables(board, server, time_range)
    results: dict[tuple[int, str | None], PanelResult] = {}
    for panel, top, value in layout(board, options):
        results[(id(panel), value)] = PanelResult(panel, top, repeat=value)
    for query in live.panel_queries(board, server, time_range):
        found = series_from(live.run(server, query, time_range), query.legend)
        results[(id(query.panel), query.repeat)].series[query.ref] = found
    drawn = list(results.values())
    render(board["title"], drawn, firing_spans(server, board, time_range), path, note)
    data_panels = sum(1 for r in drawn if r.panel["type"] != "row")
    return Preview(board["uid"], board["title"], path, data_panels)


def preview(
    specs: SpecSet,
    out: Path,
    services: Iterable[str] = (),
    timeline: Timeline = INCIDENT,
) -> list[Preview]:
    """Draw the dashboards of ``specs`` (those of ``services`` only, if given) into ``out``."""
    chosen = set(services)
    if chosen:
        specs = SpecSet(tuple(s for s in specs.services if s.service.name in chosen))
    with tempfile.TemporaryDirectory(prefix="slo-preview-") as scratch:
        work = Path(scratch)
        roots = {Root.GENERATED: work / "generated", Root.DASHBOARDS: work / "dashboards"}
        planned = writer.plan(pipeline.outputs(specs), roots)
        writer.write(planned)
        rules = sorted((work / "generated" / "prometheus").glob("*.rules.yml"))
        boards = [_load(p) for p in sorted((work / "dashboards").glob("*.json"))]
        series = incident_series(specs, timeline)
        end = int(time.time()) // 60 * 60
        with server_with_history(
            work / "server", rules, series, timeline.minutes, end=end, alert_history=True
        ) as server:
            time_range = TimeRange(end - timeline.minutes * 60, end, 60)
            note = (
                f"synthetic incident: burn from minute {timeline.burn_start} to "
                f"{timeline.burn_end} of {timeline.minutes}; long windows average the "
                f"{timeline.minutes // 60} h of history"
            )
            return [
                draw_dashboard(server, board, time_range, out / f"{board['uid']}.png", note)
                for board in boards
            ]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data

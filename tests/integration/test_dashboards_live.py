"""Every dashboard query on a real Prometheus over the synthetic incident: each returns
data, and the panels show the incident (the burning tenant, the fast tier firing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.preview import live
from tests.support.dashboard_files import LIVE, label, load
from tests.support.paths import ROOT
from tests.support.prometheus_history import History

GATE = ROOT / "dashboards" / "slo-enforcement-gate.json"


def _queries(history: History, path: Path) -> list[live.PanelQuery]:
    return live.panel_queries(load(path), history.server, history.time_range)


def _series(history: History, query: live.PanelQuery) -> list[dict[str, Any]]:
    return live.run(history.server, query, history.time_range)


@pytest.mark.parametrize("path", LIVE, ids=[label(p) for p in LIVE])
def test_every_query_returns_data(prometheus_history: History, path: Path) -> None:
    board = load(path)
    options, _ = live.resolve_variables(
        board, prometheus_history.server, prometheus_history.time_range
    )
    assert all(options.values()), f"variables without values: {options}"
    queries = _queries(prometheus_history, path)
    assert queries
    empty = [
        f"{q.panel['title']} {q.ref} ({q.repeat}): {q.expr}"
        for q in queries
        if not _series(prometheus_history, q)
    ]
    assert empty == []
    for expr in live.annotation_queries(
        board, prometheus_history.server, prometheus_history.time_range
    ):
        window = prometheus_history.time_range
        found = prometheus_history.server.get(
            "/api/v1/query_range",
            query=expr,
            start=str(window.start),
            end=str(window.end),
            step="60",
        )["result"]
        assert found, f"annotation query returned nothing: {expr}"


def _one(history: History, path: Path, title: str, ref: str, repeat: str | None) -> live.PanelQuery:
    return next(
        q
        for q in _queries(history, path)
        if q.panel["title"] == title and q.ref == ref and q.repeat == repeat
    )


def _values(series: dict[str, Any]) -> dict[int, float]:
    return {int(float(t)): float(v) for t, v in series["values"]}


def test_fast_tier_fires_during_the_burn_and_only_then(prometheus_history: History) -> None:
    history = prometheus_history
    query = _one(history, GATE, "Alert state per tier", "A", "gate-reliability")
    lanes = {s["metric"]["alert"]: _values(s) for s in _series(history, query)}
    fast = lanes["ValdricsEnforcementErrorBudgetBurnFast"]
    slow = lanes["ValdricsEnforcementErrorBudgetBurnSlow"]
    burn_start, burn_end = (
        history.at_minute(history.timeline.burn_start),
        history.at_minute(history.timeline.burn_end),
    )
    firing = [t for t, v in fast.items() if v == 2]
    assert firing, "the fast tier never fired"
    assert burn_start < min(firing) < burn_end  # fires within the burn, not before
    assert max(firing) < burn_end + 10 * 60  # clears within the short window after recovery
    assert set(slow.values()) == {0}  # 1.5x the fast threshold for 90 minutes: not 6x over 6h


def test_budget_panels_tell_the_burning_tenant_apart(prometheus_history: History) -> None:
    history = prometheus_history
    consumed = _one(
        history, GATE, "Error budget consumed since the start of the range", "A", "gate-reliability"
    )
    by_tenant = {s["metric"]["tenant"]: _values(s) for s in _series(history, consumed)}
    burning, healthy = (by_tenant[t][max(by_tenant[t])] for t in ("tenant-a", "tenant-b"))
    # 90 minutes at 21.6x of a 30-day budget is 4.5% of it, plus 0.2x for the rest of the
    # 8 hours; the hourly tiles and the sampling of the range blur that by a few tenths.
    assert 0.04 < burning < 0.06, burning
    assert healthy < 0.005, healthy
    constant = _one(
        history, GATE, "Error budget consumed since the start of the range", "B", "gate-reliability"
    )
    (line,) = _series(history, constant)
    points = _values(line)
    assert points[max(points)] == pytest.approx(8 / (30 * 24), rel=0.01)  # 8 h of 30 days


def test_guard_and_thresholds_come_from_the_recorded_tiers(prometheus_history: History) -> None:
    history = prometheus_history
    guard = _one(
        history,
        GATE,
        "Events per tier window against the low-traffic guard",
        "B",
        "gate-reliability",
    )
    levels = {
        s["metric"]["long_window"]: float(s["values"][-1][1]) for s in _series(history, guard)
    }
    assert levels == {"1h": 1000.0, "6h": 1000.0}
    thresholds = _one(history, GATE, "Burn rate per tier window", "B", "gate-reliability")
    factors = {
        s["metric"]["severity"]: float(s["values"][-1][1]) for s in _series(history, thresholds)
    }
    assert factors == {"critical": 14.4, "warning": 6.0}
    burns = _one(history, GATE, "Burn rate per tier window", "A", "gate-reliability")
    windows = {s["metric"]["window"] for s in _series(history, burns)}
    assert windows == {"5m", "1h", "30m", "6h"}


def test_overview_rows_join_into_one_per_slo_and_tenant(prometheus_history: History) -> None:
    history = prometheus_history
    path = ROOT / "dashboards" / "slos-overview.json"
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for query in _queries(history, path):
        if query.panel["type"] != "table":
            continue
        for series in _series(history, query):
            labels = series["metric"]
            key = (labels["service"], labels["slo"], labels.get("tenant", ""), labels["dashboard"])
            rows.setdefault(key, {})[query.ref] = labels.get("alerts", float(series["value"][1]))
    assert rows and all(set(columns) == {"A", "B", "C", "D", "E"} for columns in rows.values())
    assert all(key[3] == "slo-enforcement-gate" for key in rows if key[0] == "enforcement-gate")
    assert (
        rows[("enforcement-gate", "gate-reliability", "tenant-b", "slo-enforcement-gate")]["E"]
        == "none"
    )


def test_declared_dashboards_follow_the_spike(prometheus_history: History) -> None:
    history = prometheus_history
    path = ROOT / "tests" / "golden" / "dashboards" / "ops-console_traffic.json"
    query = _one(history, path, "Requests per tenant", "A", None)
    rates = {s["metric"]["tenant"]: _values(s) for s in _series(history, query)}
    during = history.at_minute((history.timeline.burn_start + history.timeline.burn_end) / 2)
    before = history.at_minute(history.timeline.burn_start - 30)
    assert rates["tenant-a"][during] > 3 * rates["tenant-a"][before]
    assert rates["tenant-b"][during] == pytest.approx(rates["tenant-b"][before])

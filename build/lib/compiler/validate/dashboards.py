"""Checks on a spec's ``dashboards:`` that a schema cannot make, and building their model.

Each panel reads declared series only, of a type its kind can show (rates of counters,
values of gauges, quantiles of histograms), filtered and split by labels those series
carry; every problem is reported with its file, line and field.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from compiler import conventions
from compiler.diagnostics import Diagnostic
from compiler.load.loader import PathKey
from compiler.model.dashboard import (
    BARGAUGE,
    GRAFANA_UNITS,
    INCREASE,
    QUANTILE,
    RATE,
    RATIO,
    TIMESERIES,
    VALUE,
    DeclaredDashboard,
    DeclaredPanel,
    LabelVariable,
    ThresholdStep,
)
from compiler.model.service import ServiceSpec
from compiler.model.slo import Metric
from compiler.promql import PromQLError, Selector, parse_selector

if TYPE_CHECKING:
    from compiler.validate.context import Catalog, Checker

# The fields each kind reads its series from.
_SIDES = {
    RATE: ("series",),
    INCREASE: ("series",),
    VALUE: ("series",),
    QUANTILE: ("series",),
    RATIO: ("numerator", "denominator"),
}
_DEFAULT_UNITS = {RATE: "cps", INCREASE: "short", RATIO: "percentunit", VALUE: "short"}


def build_dashboards(
    check: Checker, catalog: Catalog, service: str, raw: list[dict[str, Any]]
) -> tuple[DeclaredDashboard, ...]:
    """The dashboards of one service, checked against its metric catalog."""
    dashboards = []
    seen: dict[str, int] = {}
    for index, raw_dashboard in enumerate(raw):
        path: PathKey = ("dashboards", index)
        name = raw_dashboard["name"]
        if name in seen:
            check.error(
                (*path, "name"),
                f"duplicate dashboard name '{name}' (also dashboards[{seen[name]}])",
            )
            continue
        seen[name] = index
        if not catalog.enabled:
            check.error(path, "a dashboard reads declared series: declare them under metrics")
            continue
        panels = [
            _panel(check, catalog, raw_panel, (*path, "panels", i))
            for i, raw_panel in enumerate(raw_dashboard["panels"])
        ]
        built = [p for p in panels if p is not None]
        variables = _variables(check, catalog, raw_dashboard.get("variables", []), built, path)
        if len(built) != len(panels) or variables is None:
            continue
        labels = [v.label for v in variables]
        dashboards.append(
            DeclaredDashboard(
                service=service,
                name=name,
                title=raw_dashboard["title"],
                description=raw_dashboard.get("description", ""),
                variables=variables,
                panels=tuple(_filtered(panel, catalog, labels) for panel in built),
                location=check.document.locate(path),
            )
        )
    return tuple(dashboards)


def _panel(
    check: Checker, catalog: Catalog, raw: dict[str, Any], path: PathKey
) -> DeclaredPanel | None:
    kind = raw["kind"]
    ok = True
    for side in ("series", "numerator", "denominator"):
        if side in raw and side not in _SIDES[kind]:
            check.error((*path, side), f"a {kind} panel reads {_words(_SIDES[kind])}, not {side}")
            ok = False
    for side in _SIDES[kind]:
        if side not in raw:
            check.error(path, f"a {kind} panel needs '{side}'")
            ok = False
    if (kind == QUANTILE) != ("quantile" in raw):
        message = (
            "a quantile panel needs 'quantile'"
            if kind == QUANTILE
            else (f"'quantile' is for quantile panels, not {kind}")
        )
        check.error((*path, "quantile") if "quantile" in raw else path, message)
        ok = False
    if "aggregate" in raw and kind != VALUE:
        check.error((*path, "aggregate"), f"'aggregate' is for value panels, not {kind}")
        ok = False
    by = tuple(raw.get("by", []))
    selectors: dict[str, Selector] = {}
    metrics: list[Metric] = []
    for side in _SIDES[kind]:
        if side not in raw:
            continue
        selector, metric = _series(check, catalog, kind, raw[side], by, (*path, side))
        if selector is None or metric is None:
            ok = False
            continue
        selectors[side] = selector
        metrics.append(metric)
    unit = raw.get("unit") or _default_unit(kind, metrics)
    if unit not in GRAFANA_UNITS:
        close = difflib.get_close_matches(unit, sorted(GRAFANA_UNITS), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        check.error((*path, "unit"), f"'{unit}' is not a Grafana unit id{hint}")
        ok = False
    thresholds = _thresholds(check, raw.get("thresholds", []), (*path, "thresholds"))
    if not ok or thresholds is None:
        return None
    return DeclaredPanel(
        title=raw["title"],
        description=raw["description"],
        kind=kind,
        unit=unit,
        display=raw.get("display", BARGAUGE if kind == INCREASE else TIMESERIES),
        series=selectors.get("series"),
        numerator=selectors.get("numerator"),
        denominator=selectors.get("denominator"),
        by=by,
        aggregate=raw.get("aggregate", "max"),
        quantile=raw.get("quantile"),
        thresholds=thresholds,
        width=raw.get("width", 12),
    )


def _series(
    check: Checker,
    catalog: Catalog,
    kind: str,
    text: str,
    by: tuple[str, ...],
    path: PathKey,
) -> tuple[Selector | None, Metric | None]:
    try:
        selector = parse_selector(text)
    except PromQLError as exc:
        check.error(path, str(exc))
        return None, None
    metric, suffix = catalog.resolve(selector.metric)
    if metric is None:
        close = difflib.get_close_matches(selector.metric, list(catalog.metrics), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        check.error(path, f"series '{selector.metric}' is not declared under metrics{hint}")
        return None, None
    problem = _type_problem(kind, metric, suffix)
    if problem:
        check.error(path, problem)
        return None, None
    known = set(metric.labels)
    for label in sorted(selector.label_names | set(by)):
        if label not in known:
            close = difflib.get_close_matches(label, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            declared = ", ".join(metric.labels) or "none"
            where = path if label in selector.label_names else (*path[:-1], "by")
            check.error(
                where, f"'{metric.name}' has no label '{label}'{hint}; declared labels: {declared}"
            )
            return None, None
    return selector, metric


def _type_problem(kind: str, metric: Metric, suffix: str) -> str | None:
    """Why a panel of ``kind`` cannot show this series, if it cannot."""
    name = metric.name + suffix
    if kind == QUANTILE:
        if metric.type != "histogram" or suffix:
            return f"a quantile panel reads a histogram by its base name; '{name}' is not one"
        return None
    counts = metric.type == "counter" or suffix in ("_count", "_sum")
    if kind == VALUE:
        if counts or suffix == "_bucket":
            return f"'{name}' counts events: show it with kind rate or increase, not value"
        if metric.type == "histogram":
            return f"'{name}' is a histogram: show it with kind quantile"
        return None
    if not counts:
        return f"'{name}' is a {metric.type}: a {kind} panel needs a counter"
    return None


def _default_unit(kind: str, metrics: list[Metric]) -> str:
    if kind == QUANTILE:
        seconds = any(m.name.endswith("_seconds") for m in metrics)
        return "s" if seconds else "short"
    return _DEFAULT_UNITS[kind]


def _thresholds(
    check: Checker, raw: list[dict[str, Any]], path: PathKey
) -> tuple[ThresholdStep, ...] | None:
    steps = []
    previous: float | None = None
    for index, step in enumerate(raw):
        start = step.get("from")
        if index == 0 and start is not None:
            check.error(
                (*path, index, "from"), "the first step is the base colour: leave out 'from'"
            )
            return None
        if index > 0 and start is None:
            check.error((*path, index), "every step after the first needs 'from'")
            return None
        if start is not None and previous is not None and start <= previous:
            check.error(
                (*path, index, "from"), f"{start:g} is not above the previous step's {previous:g}"
            )
            return None
        previous = start if start is not None else previous
        steps.append(ThresholdStep(step["color"], None if start is None else float(start)))
    return tuple(steps)


def _variables(
    check: Checker,
    catalog: Catalog,
    labels: list[str],
    panels: list[DeclaredPanel],
    path: PathKey,
) -> tuple[LabelVariable, ...] | None:
    """Each variable reads its values from the first panel series that carries its label."""
    variables = []
    ok = True
    read = [catalog.resolve(s.metric)[0] for p in panels for s in p.selectors]
    metrics = [m for m in read if m is not None]
    for index, label in enumerate(labels):
        source = next((m for m in metrics if label in m.labels), None)
        if source is None:
            known = sorted({name for m in metrics for name in m.labels})
            close = difflib.get_close_matches(label, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            check.error(
                (*path, "variables", index),
                f"no series of this dashboard's panels has the label '{label}'{hint}",
            )
            ok = False
            continue
        metric = source.name + ("_count" if source.type == "histogram" else "")
        variables.append(LabelVariable(label, metric))
    return tuple(variables) if ok else None


def _filtered(panel: DeclaredPanel, catalog: Catalog, labels: list[str]) -> DeclaredPanel:
    """The panel, knowing which variables filter it (those all its series carry)."""
    carried = [set(m.labels) for s in panel.selectors if (m := catalog.resolve(s.metric)[0])]
    applies = tuple(label for label in labels if all(label in c for c in carried))
    return DeclaredPanel(**{**panel.__dict__, "filtered_by": applies})


def _words(sides: Iterable[str]) -> str:
    return " and ".join(f"'{s}'" for s in sides)


def uid_clashes(services: Iterable[ServiceSpec]) -> list[Diagnostic]:
    """Dashboards whose uids coincide (uids are cut to Grafana's 40 characters)."""
    first: dict[str, str] = {}
    problems = []
    for spec in services:
        owned = []
        if spec.slos:
            owned.append((conventions.slo_dashboard_uid(spec.service.name), spec.location, "SLO"))
        owned.extend(
            (conventions.declared_dashboard_uid(d.service, d.name), d.location, f"'{d.name}'")
            for d in spec.dashboards
        )
        for uid, location, what in owned:
            label = f"the {what} dashboard of {spec.service.name}"
            if uid in first:
                problems.append(
                    Diagnostic(
                        location,
                        f"{label} would have the Grafana uid '{uid}' of {first[uid]}: "
                        "rename the service or dashboard (uids keep 40 characters)",
                    )
                )
            else:
                first[uid] = label
    return problems

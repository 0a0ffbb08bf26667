"""From a service document's ``signals:`` to :class:`~compiler.model.signal.Signal` values.

The schema has checked shapes and types; here go the checks a schema cannot make, each
reported with file, line and field: exactly one condition and one measure, options that
belong to another measure, thresholds that could never fire (a ratio above 1, a quantile
above the largest bucket, a rolling baseline that catches up with any change), PromQL that
does not parse, series and labels the metric catalog does not know, ``$labels`` references
to labels the alert will not carry, and a pipeline-down alert that depends on its own pipeline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from compiler import burn_rate, conventions
from compiler.diagnostics import Diagnostic, Severity
from compiler.durations import Duration
from compiler.load.loader import PathKey
from compiler.model.service import Service, ServiceSpec
from compiler.model.signal import (
    CONDITION_KINDS,
    Baseline,
    Condition,
    GaugeMeasure,
    Measure,
    NewEvents,
    NoData,
    QuantileMeasure,
    RateMeasure,
    RatioMeasure,
    RawPromQL,
    Signal,
    Threshold,
    Trend,
    up_selector,
)
from compiler.model.slo import SLO, Events, Metric, labels_of
from compiler.promql import PromQLError, Selector, parse, parse_selector, selectors_in
from compiler.validate.context import (
    Catalog,
    Checker,
    parse_duration,
    parse_events,
    parse_histogram,
    parse_window,
    pipeline_name,
    runbook_url,
    to_decimal,
)

DEFAULT_WINDOW = Duration.parse("5m")
DEFAULT_NEW_SERIES_LOOKBACK = Duration.parse("1d")
DEFAULT_SILENT_GROUP_LOOKBACK = Duration.parse("1h")
MEASURES = ("rate", "ratio", "gauge", "histogram")
# Options that belong to one measure only.
_MEASURE_OPTIONS = {"per": ("rate",), "aggregate": ("gauge",), "quantile": ("histogram",)}
_LABEL_REFERENCE = re.compile(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)")
_NOT_INSTANT = ("MatrixSelector", "SubqueryExpr", "StringLiteral", "NumberLiteral")


def build_signals(
    check: Checker,
    catalog: Catalog,
    service: Service,
    raws: Sequence[dict[str, Any]],
    slos: Iterable[SLO],
) -> tuple[Signal, ...]:
    """Every signal of one service; problems go to ``check``."""
    burn_rate_alerts = {tier.alert: slo.name for slo in slos for tier in slo.tiers}
    signals: list[Signal] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raws):
        path: PathKey = ("signals", index)
        name = raw["name"]
        if name in seen:
            check.error((*path, "name"), f"duplicate signal '{name}' (also signals[{seen[name]}])")
            continue
        if name in burn_rate_alerts:
            check.error(
                (*path, "name"),
                f"'{name}' is already a burn-rate alert of SLO '{burn_rate_alerts[name]}'",
            )
            continue
        seen[name] = index
        signal = _signal(check, catalog, service, raw, path)
        if signal is not None:
            signals.append(signal)
    return tuple(signals)


def _check_tenant_kept(
    check: Checker, read: Sequence[Metric], group_by: Sequence[str], path: PathKey
) -> None:
    """A signal on series labelled by tenant that aggregates the tenant away adds tenants'
    numbers up and cannot say which tenant to act on (two tenants' agents of one name)."""
    tenant = conventions.TENANT_LABEL
    labelled = sorted({m.name for m in read if tenant in m.labels})
    if labelled and tenant not in group_by:
        check.warn(
            (*path, "group_by"),
            f"{', '.join(labelled)} {'is' if len(labelled) == 1 else 'are'} labelled by "
            f"{tenant}, but the alert is not split by it: tenants' numbers add up and it cannot "
            f"say which tenant to act on; add {tenant} to group_by, or set across_tenants: "
            "true if the signal is about all tenants together",
        )


@dataclass(frozen=True)
class _Context:
    """What every condition and measure reads besides its own fields."""

    check: Checker
    catalog: Catalog
    group_by: tuple[str, ...]
    for_: Duration | None


def _signal(
    check: Checker, catalog: Catalog, service: Service, raw: dict[str, Any], path: PathKey
) -> Signal | None:
    group_by = tuple(raw.get("group_by", []))
    check.group_by((*path, "group_by"), group_by)
    check.labels((*path, "labels"), raw.get("labels"))
    for_ = parse_duration(check, (*path, "for"), raw.get("for"))
    clear_after = parse_duration(check, (*path, "clear_after"), raw.get("clear_after"))
    read_before = len(catalog.read)
    condition = _condition(_Context(check, catalog, group_by, for_), raw, path)
    # Absence adds nothing up: a service's data missing as a whole is a fine no_data signal.
    if not isinstance(condition, RawPromQL | NoData) and not raw.get("across_tenants"):
        _check_tenant_kept(check, catalog.read[read_before:], group_by, path)
    telemetry = pipeline_name(raw["telemetry"]) if "telemetry" in raw else service.telemetry
    pipeline_down = raw.get("pipeline_down")
    if pipeline_down is not None and telemetry == pipeline_down:
        check.error(
            (*path, "pipeline_down"),
            f"this alert reports '{pipeline_down}' down, so its own data cannot arrive "
            f"through '{pipeline_down}': set telemetry: {conventions.DIRECT_TELEMETRY}",
        )
    name = raw["name"]
    runbook = runbook_url(check, service, raw.get("runbook"), name, (*path, "runbook"))
    if runbook is None and "runbook" not in raw:
        check.warn(path, "the alert will carry no runbook_url: set service.runbook_base_url")
    labels = {**dict(service.labels), **raw.get("labels", {})}
    if condition is None:
        return None
    if not isinstance(condition, RawPromQL):
        carried = {conventions.SERVICE_LABEL, conventions.SEVERITY_LABEL, *group_by, *labels}
        if telemetry:
            carried.add(conventions.TELEMETRY_LABEL)
        _check_label_references(check, raw, path, carried)
    return Signal(
        service=service.name,
        name=name,
        severity=raw["severity"],
        condition=condition,
        group_by=group_by,
        for_=for_,
        clear_after=clear_after,
        description=raw.get("description", ""),
        summary=raw.get("summary"),
        labels=labels_of(labels),
        annotations=labels_of(raw.get("annotations")),
        runbook_url=runbook,
        telemetry=telemetry,
        pipeline_down=pipeline_down,
        location=check.document.locate(path),
    )


def _check_label_references(
    check: Checker, raw: dict[str, Any], path: PathKey, carried: set[str]
) -> None:
    texts: list[tuple[PathKey, str]] = [
        ((*path, key), raw[key]) for key in ("summary", "description") if key in raw
    ]
    texts += [((*path, "annotations", k), v) for k, v in raw.get("annotations", {}).items()]
    for field_path, text in texts:
        for label in sorted(set(_LABEL_REFERENCE.findall(text)) - carried):
            check.error(
                field_path,
                f"refers to $labels.{label}, which this alert does not carry "
                f"(it carries {', '.join(sorted(carried))})",
            )


def _one_of(
    ctx: _Context, raw: dict[str, Any], path: PathKey, names: Sequence[str], what: str
) -> str | None:
    """The one key of ``names`` that ``raw`` holds, or None (reported) for none or several."""
    given = [name for name in names if name in raw]
    if len(given) == 1:
        return given[0]
    found = f" (found {', '.join(given)})" if given else ""
    ctx.check.error(path, f"give exactly one {what}: {', '.join(names)}{found}")
    return None


def _condition(ctx: _Context, raw: dict[str, Any], path: PathKey) -> Condition | None:
    kind = _one_of(ctx, raw, path, CONDITION_KINDS, "condition")
    return None if kind is None else BUILDERS[kind](ctx, raw[kind], (*path, kind))


def _threshold(ctx: _Context, raw: dict[str, Any], path: PathKey) -> Threshold | None:
    if ("above" in raw) == ("below" in raw):
        ctx.check.error(path, "give either above or below")
        return None
    key = "above" if "above" in raw else "below"
    op = ">" if key == "above" else "<"
    value = to_decimal(raw[key])
    measure = _measure(ctx, raw, path, "max" if op == ">" else "min")
    window = _window(ctx.check, raw, path, measure)
    if measure is None:
        return None
    never = _never_fires(measure, op, value)
    if never:
        ctx.check.error((*path, key), never)
        return None
    share = value if op == ">" else 1 - value
    return Threshold(measure, op, value, window, _min_events(raw, measure, share))


def _never_fires(measure: Measure, op: str, value: Decimal) -> str | None:
    """Why a threshold can never (or always) fire, if it is so by construction."""
    if isinstance(measure, GaugeMeasure):
        return None
    shown = burn_rate.format_number(value)
    if op == "<" and value <= 0:
        return f"can never fire: the value is never below {shown}"
    if op == ">" and value < 0:
        return f"fires whenever there is data: the value is never below 0, let alone {shown}"
    if isinstance(measure, RatioMeasure):
        if op == ">" and value >= 1:
            return f"can never fire: a ratio is at most 1, never above {shown}"
        if op == "<" and value > 1:
            return f"fires whenever there is data: a ratio is at most 1, always below {shown}"
    if isinstance(measure, QuantileMeasure) and measure.buckets and op == ">":
        largest = max(measure.buckets)
        if value >= largest:
            return (
                f"can never fire: histogram_quantile reports at most the largest bucket bound "
                f"{largest:g}, never above {shown}"
            )
    return None


def _min_events(raw: dict[str, Any], measure: Measure, share: Decimal | None) -> int:
    """The low-traffic guard: enough events in the window that the value takes ten of them.

    ``share`` is the part of a ratio's events that crossing its threshold takes (the
    threshold itself for ``above``); quantiles take ``1 - quantile`` of the observations.
    """
    if "min_events" in raw:
        return int(raw["min_events"])
    least = burn_rate.DEFAULT_MIN_BAD_EVENTS_AT_THRESHOLD
    if isinstance(measure, QuantileMeasure):
        return math.ceil(least / (1 - measure.quantile))
    if isinstance(measure, RatioMeasure) and share:
        return math.ceil(least / share)
    return 0


def _measure(
    ctx: _Context, raw: dict[str, Any], path: PathKey, default_aggregate: str
) -> Measure | None:
    kind = _one_of(ctx, raw, path, MEASURES, "measure")
    if kind is None:
        return None
    problems = False
    for option, owners in _MEASURE_OPTIONS.items():
        if option in raw and kind not in owners:
            ctx.check.error((*path, option), f"'{option}' goes with {' or '.join(owners)} only")
            problems = True
    if "min_events" in raw and kind not in ("ratio", "histogram"):
        ctx.check.error((*path, "min_events"), "'min_events' goes with ratio or histogram only")
        problems = True
    if kind == "gauge" and "window" in raw:
        ctx.check.error(
            (*path, "window"),
            "a gauge is read as it is now, not over a window; use 'for' to require a value "
            "for a while",
        )
        problems = True
    measure = _MEASURE_BUILDERS[kind](ctx, raw, path, default_aggregate)
    return None if problems else measure


def _rate(
    ctx: _Context, raw: dict[str, Any], path: PathKey, default_aggregate: str
) -> RateMeasure | None:
    events = parse_events(ctx.check, ctx.catalog, raw["rate"], (*path, "rate"), ctx.group_by)
    per = parse_duration(ctx.check, (*path, "per"), raw.get("per"))
    return None if events is None else RateMeasure(events, per)


def _ratio(
    ctx: _Context, raw: dict[str, Any], path: PathKey, default_aggregate: str
) -> RatioMeasure | None:
    sides = {
        side: parse_events(
            ctx.check, ctx.catalog, raw["ratio"][side], (*path, "ratio", side), ctx.group_by
        )
        for side in ("numerator", "denominator")
    }
    numerator, denominator = sides["numerator"], sides["denominator"]
    if numerator is None or denominator is None:
        return None
    return RatioMeasure(numerator, denominator)


def _gauge(
    ctx: _Context, raw: dict[str, Any], path: PathKey, default_aggregate: str
) -> GaugeMeasure | None:
    selector = _gauge_selector(ctx, raw["gauge"], (*path, "gauge"))
    if selector is None:
        return None
    return GaugeMeasure(selector, raw.get("aggregate", default_aggregate))


def _quantile(
    ctx: _Context, raw: dict[str, Any], path: PathKey, default_aggregate: str
) -> QuantileMeasure | None:
    if "quantile" not in raw:
        ctx.check.error(path, "give the quantile to read from the histogram, e.g. quantile: 0.99")
        return None
    found = parse_histogram(
        ctx.check, ctx.catalog, raw["histogram"], (*path, "histogram"), ctx.group_by
    )
    if found is None:
        return None
    histogram, metric = found
    return QuantileMeasure(histogram, to_decimal(raw["quantile"]), metric.buckets)


_MEASURE_BUILDERS: dict[str, Callable[[_Context, dict[str, Any], PathKey, str], Measure | None]] = {
    "rate": _rate,
    "ratio": _ratio,
    "gauge": _gauge,
    "histogram": _quantile,
}


def _window(
    check: Checker, raw: dict[str, Any], path: PathKey, measure: Measure | None
) -> Duration | None:
    if isinstance(measure, GaugeMeasure):
        return None
    return parse_window(check, (*path, "window"), raw.get("window")) or DEFAULT_WINDOW


def _gauge_selector(ctx: _Context, text: str, path: PathKey) -> Selector | None:
    selector = _selector(ctx.check, text, path)
    if selector is None:
        return None
    metric = ctx.catalog.series(path, selector, ctx.group_by, counter=False)
    if metric is not None and metric.type != "gauge":
        ctx.check.error(path, f"'{selector.metric}' is a {metric.type}; {_gauge_hint(metric)}")
    return selector


def _gauge_hint(metric: Metric) -> str:
    if metric.type == "counter":
        return "a counter only grows: watch its rate instead"
    if metric.type == "histogram":
        return "read a quantile with histogram: and quantile:"
    return "this needs a gauge"


def _selector(check: Checker, text: str, path: PathKey) -> Selector | None:
    try:
        return parse_selector(text)
    except PromQLError as exc:
        check.error(path, str(exc))
        return None


def _baseline(ctx: _Context, raw: dict[str, Any], path: PathKey) -> Baseline | None:
    measure = _measure(ctx, raw, path, "max")
    window = _window(ctx.check, raw, path, measure)
    baseline_window = parse_window(
        ctx.check, (*path, "baseline_window"), raw.get("baseline_window")
    )
    offset = parse_duration(ctx.check, (*path, "baseline_offset"), raw.get("baseline_offset"))
    if measure is None:
        return None
    factor, floor = to_decimal(raw["factor"]), to_decimal(raw["floor"])
    if baseline_window is None:
        if window is None:
            ctx.check.error(path, "give baseline_window: a gauge's baseline is its average over it")
            return None
        baseline_window = window
    if offset is not None and _reads_query(measure):
        ctx.check.error(
            (*path, "baseline_offset"),
            "a query cannot be shifted back in time: give counter selectors to compare "
            "against an earlier window",
        )
        return None
    if offset is None:
        # A rolling baseline contains the current value: a lasting step of any size raises
        # it, and the alert can fire only if the window it must hold for is a small part.
        hold = (window.seconds if window else 0) + (ctx.for_.seconds if ctx.for_ else 0)
        if baseline_window.seconds <= factor * hold:
            least = Duration(math.ceil(factor * hold))
            ctx.check.error(
                (*path, "baseline_window"),
                f"can never fire: a rolling baseline over {baseline_window} catches up with any "
                f"lasting change before it has held for {Duration(max(hold, 1))}; make it "
                f"longer than {least}, or set baseline_offset (e.g. 1w)",
            )
            return None
    min_events = _min_events(raw, measure, None)
    return Baseline(measure, factor, floor, baseline_window, window, offset, min_events)


def _reads_query(measure: Measure) -> bool:
    sides: tuple[Events, ...] = ()
    if isinstance(measure, RateMeasure):
        sides = (measure.events,)
    elif isinstance(measure, RatioMeasure):
        sides = (measure.numerator, measure.denominator)
    return any(side.query is not None for side in sides)


def _trend(ctx: _Context, raw: dict[str, Any], path: PathKey) -> Trend | None:
    gauge = _gauge_selector(ctx, raw["gauge"], (*path, "gauge"))
    window = parse_window(ctx.check, (*path, "window"), raw["window"])
    per = parse_duration(ctx.check, (*path, "per"), raw.get("per"))
    if gauge is None or window is None:
        return None
    above = to_decimal(raw["above"]) if "above" in raw else None
    return Trend(
        gauge=gauge,
        window=window,
        aggregate=raw.get("aggregate", "max"),
        rising_faster_than=to_decimal(raw.get("rising_faster_than", 0)),
        per=per,
        above=above,
    )


def _new_events(ctx: _Context, raw: dict[str, Any], path: PathKey) -> NewEvents | None:
    counter = _selector(ctx.check, raw["counter"], (*path, "counter"))
    if counter is not None:
        ctx.catalog.series((*path, "counter"), counter, ctx.group_by, counter=True)
    window = parse_duration(ctx.check, (*path, "window"), raw.get("window")) or DEFAULT_WINDOW
    lookback = (
        parse_duration(ctx.check, (*path, "lookback"), raw.get("lookback"))
        or DEFAULT_NEW_SERIES_LOOKBACK
    )
    if lookback <= window:
        ctx.check.error(
            (*path, "lookback"), f"lookback {lookback} must be longer than window {window}"
        )
        return None
    if ctx.for_ is not None and ctx.for_ >= window:
        ctx.check.error(
            (*path[:-1], "for"),
            f"for {ctx.for_} is not shorter than the window {window}: a single new event would "
            "never fire",
        )
        return None
    return None if counter is None else NewEvents(counter, window, lookback)


def _no_data(ctx: _Context, raw: dict[str, Any], path: PathKey) -> NoData | None:
    window = parse_duration(ctx.check, (*path, "window"), raw["window"])
    lookback = (
        parse_duration(ctx.check, (*path, "lookback"), raw.get("lookback"))
        or DEFAULT_SILENT_GROUP_LOOKBACK
    )
    job = raw.get("job")
    if job is None and not raw.get("series") and not raw.get("counters"):
        ctx.check.error(path, "give what to watch: job, series or counters")
        return None
    if job is not None:
        ctx.catalog.series((*path, "job"), up_selector(job), ctx.group_by, counter=False)
    watched: dict[str, list[Selector]] = {"series": [], "counters": []}
    for key, selectors in watched.items():
        for index, text in enumerate(raw.get(key, [])):
            selector = _selector(ctx.check, text, (*path, key, index))
            if selector is not None:
                ctx.catalog.series(
                    (*path, key, index), selector, ctx.group_by, counter=key == "counters"
                )
                selectors.append(selector)
    if window is None:
        return None
    if ctx.group_by and lookback <= window:
        ctx.check.error(
            (*path, "lookback"), f"lookback {lookback} must be longer than window {window}"
        )
        return None
    return NoData(window, lookback, job, tuple(watched["series"]), tuple(watched["counters"]))


def _promql(ctx: _Context, raw: str, path: PathKey) -> RawPromQL | None:
    try:
        expr = parse(raw)
    except PromQLError as exc:
        ctx.check.error(path, f"PromQL does not parse: {exc}")
        return None
    node = expr
    while type(node).__name__ == "ParenExpr":
        node = node.expr
    if type(node).__name__ in _NOT_INSTANT:
        ctx.check.error(path, "an alert expression must return an instant vector (a set of series)")
        return None
    metrics = [ctx.catalog.series(path, s, (), counter=False) for s in selectors_in(expr)]
    if ctx.catalog.enabled and all(m is not None for m in metrics):
        labels = {label for metric in metrics if metric for label in metric.labels}
        for index, label in enumerate(ctx.group_by):
            if label not in labels:
                ctx.check.error(
                    (*path[:-1], "group_by", index),
                    f"no series the expression reads has the label '{label}'",
                )
    return RawPromQL(raw.strip())


# One builder per condition kind (tests/unit/test_architecture.py checks that none is missing).
BUILDERS: dict[str, Callable[[_Context, Any, PathKey], Condition | None]] = {
    "threshold": _threshold,
    "baseline": _baseline,
    "trend": _trend,
    "new_events": _new_events,
    "no_data": _no_data,
    "promql": _promql,
}


def pipeline_checks(services: Iterable[ServiceSpec]) -> list[Diagnostic]:
    """Across all services: every pipeline alerts depend on has an alert reporting it down,
    and every pipeline-down alert has alerts to hold back."""
    down: dict[str, list[Signal]] = {}
    used: dict[str, ServiceSpec] = {}
    for spec in services:
        for signal in spec.signals:
            if signal.pipeline_down:
                down.setdefault(signal.pipeline_down, []).append(signal)
            if signal.telemetry:
                used.setdefault(signal.telemetry, spec)
        if spec.service.telemetry and spec.slos:
            used.setdefault(spec.service.telemetry, spec)
    problems = []
    for pipeline, spec in sorted(used.items()):
        if pipeline not in down:
            problems.append(
                Diagnostic(
                    spec.location,
                    f"alerts depend on telemetry pipeline '{pipeline}' but no signal reports "
                    f"it down (pipeline_down: {pipeline}), so they are never held back while "
                    "it is",
                    Severity.WARNING,
                )
            )
    for pipeline, signals in sorted(down.items()):
        if pipeline not in used:
            problems.append(
                Diagnostic(
                    signals[0].location,
                    f"no alert's data arrives through '{pipeline}' (telemetry: {pipeline}); "
                    "nothing is held back while it is down",
                    Severity.WARNING,
                )
            )
    return problems

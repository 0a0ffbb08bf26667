"""Alerting rules for signals: one rule group per service, in the service's rule file.

Each signal becomes one alerting rule whose expression reads the raw series directly (no
recording rules: a signal reads its measure once per evaluation). Design points, each for a
failure a naive rule has:

- ratios divide by the denominator only where it is above 0 (no NaN or +Inf), and ratios and
  quantiles carry a low-traffic guard (events in the window);
- a new event counts even when it is the first sample of a never-seen series, which
  ``increase()`` cannot see; a series is new only when it had no sample for ``lookback``
  before the window, so data returning after a gap of telemetry is not new;
- a rate below a threshold also needs its series present now: a rate over a window whose
  data stopped falls towards 0 as samples age out, which is not the rate falling;
- a baseline that is missing (no history, or telemetry was down back then) means no alert,
  never "the baseline is 0", and the current value must also exceed an absolute floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, assert_never

from compiler import burn_rate, conventions
from compiler.durations import Duration
from compiler.model.service import Service, ServiceSpec
from compiler.model.signal import (
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
)
from compiler.model.slo import Events
from compiler.promql import Selector, by_clause, substitute_window
from compiler.targets.prometheus import templating

Rule = dict[str, Any]


def rule_groups(spec: ServiceSpec) -> list[dict[str, Any]]:
    """The service's signal rule group (none without signals)."""
    if not spec.signals:
        return []
    return [
        {
            "name": conventions.signal_rule_group_name(spec.service.name),
            "rules": [alert_rule(spec.service, signal) for signal in spec.signals],
        }
    ]


def alert_rule(service: Service, signal: Signal) -> Rule:
    """The alerting rule of one signal."""
    rule: Rule = {"alert": signal.name, "expr": condition_expr(signal.condition, signal.group_by)}
    if signal.for_ is not None:
        rule["for"] = str(signal.for_)
    if signal.clear_after is not None:
        rule["keep_firing_for"] = str(signal.clear_after)
    rule["labels"] = alert_labels(signal)
    rule["annotations"] = alert_annotations(service, signal)
    return rule


def alert_labels(signal: Signal) -> dict[str, str]:
    """Labels the rule adds: service, severity, telemetry pipeline, and the spec's labels."""
    labels = {conventions.SERVICE_LABEL: signal.service, **dict(signal.labels)}
    labels[conventions.SEVERITY_LABEL] = signal.severity
    if signal.telemetry:
        labels[conventions.TELEMETRY_LABEL] = signal.telemetry
    return labels


def alert_annotations(service: Service, signal: Signal) -> dict[str, str]:
    """summary, description and runbook_url, plus the spec's own annotations."""
    context = {"service": service, "signal": signal, "text": describe(signal)}
    annotations = {
        "summary": signal.summary or templating.render("signal_alert_summary.j2", **context),
        "description": templating.render("signal_alert_description.j2", **context),
    }
    if signal.runbook_url:
        annotations["runbook_url"] = signal.runbook_url
    annotations.update(dict(signal.annotations))
    return annotations


# --- expressions ---------------------------------------------------------------------------


def condition_expr(condition: Condition, group_by: Sequence[str]) -> str:
    """The alert expression of a condition, per label set of ``group_by``."""
    match condition:
        case Threshold():
            return _threshold(condition, group_by)
        case Baseline():
            return _baseline(condition, group_by)
        case Trend():
            return _trend(condition, group_by)
        case NewEvents():
            return _new_events(condition, group_by)
        case NoData():
            return _no_data(condition, group_by)
        case RawPromQL():
            return condition.expr
        case _:
            assert_never(condition)


def measure_expr(
    measure: Measure,
    window: Duration | None,
    group_by: Sequence[str],
    offset: Duration | None = None,
    *,
    missing_numerator_is_zero: bool = False,
) -> str:
    """The measure's value per label set, over ``window`` ending ``offset`` ago."""
    shift = f" offset {offset}" if offset else ""
    if isinstance(measure, GaugeMeasure):
        series = (
            f"avg_over_time({measure.selector}[{window}]{shift})"
            if window
            else (f"{measure.selector}{shift}")
        )
        return _aggregate(measure.aggregate, group_by, series)
    assert window is not None  # every other measure is read over a window
    match measure:
        case RateMeasure():
            rate = _rate(measure.events, window, group_by, shift)
            return f"{rate} * {measure.scale}" if measure.scale != 1 else rate
        case RatioMeasure():
            numerator = _rate(measure.numerator, window, group_by, shift)
            denominator = _rate(measure.denominator, window, group_by, shift)
            if missing_numerator_is_zero:  # no success series at all is a ratio of 0, not none
                numerator = f"({numerator}\nor {_on(group_by)}\n0 * {denominator})"
            return f"{numerator}\n/ ({denominator} > 0)"
        case QuantileMeasure():
            labels = by_clause([*group_by, "le"])
            buckets = f"sum {labels} (rate({measure.bucket}[{window}]{shift}))"
            quantile = burn_rate.format_number(measure.quantile)
            return f"histogram_quantile({quantile}, {buckets})"
        case _:
            assert_never(measure)


def events_expr(measure: Measure, window: Duration, group_by: Sequence[str]) -> str | None:
    """Events in the window that a ratio or quantile is computed from (for the guard)."""
    if isinstance(measure, RatioMeasure):
        return f"{_rate(measure.denominator, window, group_by, '')} * {window.seconds}"
    if isinstance(measure, QuantileMeasure):
        return (
            f"{_aggregate('sum', group_by, f'rate({measure.count}[{window}])')} * {window.seconds}"
        )
    return None


def _threshold(condition: Threshold, group_by: Sequence[str]) -> str:
    measure, window = condition.measure, condition.window
    value = measure_expr(measure, window, group_by, missing_numerator_is_zero=condition.op == "<")
    parts = [f"{value}\n{condition.op} {burn_rate.format_number(condition.value)}"]
    if condition.min_events and window is not None:
        parts.append(f"{events_expr(measure, window, group_by)} >= {condition.min_events}")
    if condition.op == "<" and isinstance(measure, RateMeasure) and measure.events.selector:
        # Present now: after the data stops, the rate decays as samples leave the window.
        parts.append(_aggregate("group", group_by, str(measure.events.selector)))
    return _all_of(parts, group_by)


def _baseline(condition: Baseline, group_by: Sequence[str]) -> str:
    measure = condition.measure
    current = measure_expr(measure, condition.window, group_by)
    earlier = measure_expr(measure, condition.baseline_window, group_by, condition.baseline_offset)
    factor = burn_rate.format_number(condition.factor)
    floor = burn_rate.format_number(condition.floor)
    # (a > k * b) keeps a's value where it holds; "> floor" then filters that value again.
    parts = [f"(\n  {_indent(current)}\n  > {factor} * {_indent(earlier)}\n)\n> {floor}"]
    if condition.min_events and condition.window is not None:
        events = events_expr(measure, condition.window, group_by)
        parts.append(f"{events} >= {condition.min_events}")
    return _all_of(parts, group_by)


def _trend(condition: Trend, group_by: Sequence[str]) -> str:
    slope = _aggregate(
        condition.aggregate, group_by, f"deriv({condition.gauge}[{condition.window}])"
    )
    if condition.scale != 1:
        slope = f"{slope} * {condition.scale}"
    now = _aggregate(condition.aggregate, group_by, str(condition.gauge))
    # The current value must exist as well: a slope over a window whose data stopped would
    # otherwise outlive the data by the whole window.
    if condition.above is not None:
        now = f"{now} > {burn_rate.format_number(condition.above)}"
    rising = burn_rate.format_number(condition.rising_faster_than)
    return _all_of([f"{slope} > {rising}", now], group_by)


def _new_events(condition: NewEvents, group_by: Sequence[str]) -> str:
    counter, window = condition.counter, condition.window
    grown = _aggregate("sum", group_by, f"increase({counter}[{window}])")
    # increase() needs two samples of a series, so a series whose first sample is the first
    # event is invisible to it: count such series (no sample during the lookback before the
    # window) by their value.
    before = f"[{condition.lookback}] offset {window}"
    unseen = f"{counter} unless present_over_time({counter}{before})"
    new = _aggregate("sum", group_by, unseen)
    # A series whose value now differs from its last one before the window changed where
    # increase() cannot see it when the window holds only later samples: it grew across a
    # gap, or its process restarted (the counter reset) and counted events since.
    changed = _aggregate("sum", group_by, f"{counter} != last_over_time({counter}{before})")
    return f"{grown} > 0\nor\n{new} > 0\nor\n{changed} > 0"


def _no_data(condition: NoData, group_by: Sequence[str]) -> str:
    window, lookback = condition.window, condition.lookback
    branches: list[str] = []

    def gone(selector: Selector) -> None:
        branches.append(f"absent_over_time({selector}[{window}])")
        if group_by:  # a label set seen during the lookback with nothing in the window
            seen = _aggregate("group", group_by, f"present_over_time({selector}[{lookback}])")
            recent = _aggregate("group", group_by, f"present_over_time({selector}[{window}])")
            branches.append(f"{seen}\nunless\n{recent}")

    if condition.up is not None:
        up = condition.up
        gone(up)
        branches.append(f"{_aggregate('max', group_by, f'max_over_time({up}[{window}])')} == 0")
    for selector in condition.series:
        gone(selector)
    for counter in condition.counters:
        branches.append(f"absent_over_time({counter}[{window}])")
        seen = _aggregate("group", group_by, f"present_over_time({counter}[{lookback}])")
        grown = _aggregate("sum", group_by, f"increase({counter}[{window}])")
        branches.append(f"{seen}\nunless {_on(group_by)}\n{grown} > 0")
    body = "\n  or\n  ".join(f"(\n    {_indent(b, 4)}\n  )" for b in branches)
    return _aggregate("group", group_by, f"\n  {body}\n")


# --- PromQL text helpers -------------------------------------------------------------------


def _rate(events: Events, window: Duration, group_by: Sequence[str], shift: str) -> str:
    if events.selector is not None:
        return _aggregate("sum", group_by, f"rate({events.selector}[{window}]{shift})")
    assert events.query is not None
    query = substitute_window(events.query, str(window))
    return _aggregate("sum", group_by, f"\n  {_indent(query)}\n")


def _aggregate(operator: str, group_by: Sequence[str], inner: str) -> str:
    """``max by (a, b) (inner)``, or ``max(inner)`` without labels."""
    if group_by:
        return f"{operator} {by_clause(group_by)} ({inner})"
    return f"{operator}({inner})"


def _on(group_by: Sequence[str]) -> str:
    return f"on ({', '.join(group_by)})"


def _all_of(parts: Sequence[str], group_by: Sequence[str]) -> str:
    return f"\nand {_on(group_by)}\n".join(parts)


def _indent(text: str, spaces: int = 2) -> str:
    return text.replace("\n", "\n" + " " * spaces)


# --- words for annotations ------------------------------------------------------------------


@dataclass(frozen=True)
class Words:
    """Plain-language pieces of a signal's alert texts (templates/signal_alert_*.j2)."""

    headline: str  # a few words for the summary
    condition: str  # the condition in full, for the description
    guard: str = ""  # the low-traffic guard, if any


def describe(signal: Signal) -> Words:
    """The words for a signal's summary and description."""
    condition = signal.condition
    match condition:
        case Threshold():
            return _describe_threshold(condition)
        case Baseline():
            return _describe_baseline(condition)
        case Trend():
            return _describe_trend(condition)
        case NewEvents():
            return Words(
                headline=f"new {condition.counter.metric}",
                condition=(
                    f"New events of {condition.counter} in the last {condition.window} "
                    f"(a series unseen in the {condition.lookback} before counts from its "
                    "first sample, one back after a gap or a restart from its change)"
                ),
            )
        case NoData():
            return _describe_no_data(condition)
        case RawPromQL():
            one_line = " ".join(condition.expr.split())
            return Words(signal.name, f"This holds: {one_line}")
        case _:
            assert_never(condition)


def _measure_words(measure: Measure, window: Duration | None) -> tuple[str, str]:
    """(short name, full description) of a measure."""
    over = f" over {window}" if window else ""
    match measure:
        case RateMeasure():
            what = str(measure.events.selector or "the query")
            name = measure.events.selector.metric if measure.events.selector else "rate"
            return f"{name} rate", f"rate of {what}{over}"
        case RatioMeasure():
            numerator = str(measure.numerator.selector or "the numerator query")
            denominator = str(measure.denominator.selector or "the denominator query")
            name = measure.numerator.selector.metric if measure.numerator.selector else "ratio"
            return f"{name} ratio", f"ratio of {numerator} to {denominator}{over}"
        case GaugeMeasure():
            words = _AGGREGATE_WORDS[measure.aggregate]
            return measure.selector.metric, f"{words} {measure.selector}"
        case QuantileMeasure():
            percentile = burn_rate.format_number(measure.quantile * 100)
            name = f"p{percentile} {measure.histogram.metric}"
            return name, f"{percentile}th percentile of {measure.histogram}{over}"
        case _:
            assert_never(measure)


_AGGREGATE_WORDS = {"max": "highest", "min": "lowest", "sum": "total", "avg": "average"}


def _value_words(measure: Measure, value: Decimal) -> str:
    if isinstance(measure, RatioMeasure):
        return f"{burn_rate.format_number(value * 100)}%"
    if isinstance(measure, RateMeasure):
        unit = f"per {measure.per}" if measure.per else "per second"
        return f"{burn_rate.format_number(value)} {unit}"
    return burn_rate.format_number(value)


def _guard_words(min_events: int, window: Duration | None) -> str:
    if not min_events or window is None:
        return ""
    return f"Low-traffic guard: only with at least {min_events} events in {window}."


def _describe_threshold(condition: Threshold) -> Words:
    name, full = _measure_words(condition.measure, condition.window)
    direction = "above" if condition.op == ">" else "below"
    value = _value_words(condition.measure, condition.value)
    return Words(
        headline=f"{name} {direction} {value}",
        condition=f"The {full} is {direction} {value}",
        guard=_guard_words(condition.min_events, condition.window),
    )


def _describe_baseline(condition: Baseline) -> Words:
    name, full = _measure_words(condition.measure, condition.window)
    factor = burn_rate.format_number(condition.factor)
    if condition.baseline_offset:
        earlier = f"its value over {condition.baseline_window}, {condition.baseline_offset} earlier"
    else:
        earlier = f"its average over the last {condition.baseline_window}"
    floor = _value_words(condition.measure, condition.floor)
    return Words(
        headline=f"{name} above {factor}x its baseline",
        condition=f"The {full} is above {factor} times {earlier}, and above {floor}",
        guard=_guard_words(condition.min_events, condition.window),
    )


def _describe_trend(condition: Trend) -> Words:
    words = (
        f"The {_AGGREGATE_WORDS[condition.aggregate]} {condition.gauge} has been rising over "
        f"{condition.window}"
    )
    if condition.rising_faster_than:
        unit = f"per {condition.per}" if condition.per else "per second"
        words += f" faster than {burn_rate.format_number(condition.rising_faster_than)} {unit}"
    if condition.above is not None:
        words += f" and is above {burn_rate.format_number(condition.above)}"
    return Words(f"{condition.gauge.metric} rising", words)


def _describe_no_data(condition: NoData) -> Words:
    sources = []
    if condition.job is not None:
        sources.append(f"scrape target job={condition.job} (up is 0 or missing)")
    sources += [f"series {s}" for s in condition.series]
    sources += [f"counter {c} (missing or not growing)" for c in condition.counters]
    return Words(
        headline=f"no data for {condition.window}",
        condition=f"Nothing arrived for {condition.window} from: {'; '.join(sources)}",
    )

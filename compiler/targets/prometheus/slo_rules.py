"""SLO rule groups: recording rules, meta series and burn-rate alerts, one group per SLO.

Raw series are read once per SLO and evaluation, over the base window (5m, or the shortest
window a tier uses if shorter). Every longer window is the average of that recorded rate
over the window, and the period is summed from hourly tiles of the 1h record, so a 3d or
30d window never touches raw data. Bad and total events are recorded separately and divided
last, which makes every ratio traffic-weighted (total bad events over total events).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib.resources.abc import Traversable
from typing import Any, assert_never

from compiler import burn_rate, conventions
from compiler.durations import Duration
from compiler.model.service import Service
from compiler.model.slo import SLO, Events, LatencySLI, RatioSLI, Tier
from compiler.promql import Matcher, Selector, by_clause, quote, substitute_window
from compiler.targets.prometheus import templating

Rule = dict[str, Any]


def windows(slo: SLO) -> tuple[Duration, Duration, tuple[Duration, ...]]:
    """The SLO's base window, the period tile, and every window it records (ascending)."""
    tier_windows = {w for tier in slo.tiers for w in (tier.long_window, tier.short_window)}
    base = min([*tier_windows, conventions.MAX_BASE_WINDOW])
    recorded = sorted({base, conventions.PERIOD_TILE, *tier_windows})
    return base, conventions.PERIOD_TILE, tuple(recorded)


class SloSeries:
    """Selectors for one SLO's recorded series."""

    def __init__(self, slo: SLO) -> None:
        self.slo = slo
        self.matchers = f"{conventions.SERVICE_LABEL}={quote(slo.service)}, " + (
            f"{conventions.SLO_LABEL}={quote(slo.name)}"
        )

    def __call__(self, metric: str, window: Duration | None = None) -> str:
        """``metric{service="s", slo="x", window="1h"}``."""
        if window is None:
            return f"{metric}{{{self.matchers}}}"
        return f"{metric}{{{self.matchers}, {conventions.WINDOW_LABEL}={quote(str(window))}}}"

    def labels(
        self, window: Duration | None = None, extra: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Labels a rule of this SLO sets."""
        labels = {conventions.SERVICE_LABEL: self.slo.service, conventions.SLO_LABEL: self.slo.name}
        if window is not None:
            labels[conventions.WINDOW_LABEL] = str(window)
        labels.update(extra or {})
        return labels


def slo_rule_group(service: Service, slo: SLO) -> dict[str, Any]:
    """All rules of one SLO, in evaluation order (each reads only rules above it)."""
    series = SloSeries(slo)
    base, tile, recorded = windows(slo)
    total, bad = event_rates(slo, base, series)
    rules: list[Rule] = [
        _record(conventions.EVENTS_TOTAL, total, series.labels(base)),
        _record(conventions.EVENTS_BAD, bad, series.labels(base)),
    ]
    for window in recorded:
        if window != base:
            for metric in (conventions.EVENTS_TOTAL, conventions.EVENTS_BAD):
                expr = f"avg_over_time({series(metric, base)}[{window}])"
                rules.append(_record(metric, expr, series.labels(window)))
    for metric in (conventions.EVENTS_TOTAL, conventions.EVENTS_BAD):
        expr = f"avg_over_time({series(metric, tile)}[{slo.period}:{tile}])"
        rules.append(_record(metric, expr, series.labels(slo.period)))
    # One rule each for every window at once: bad and total match one to one on their
    # labels, window included. No traffic is no error: 0, never NaN.
    total, bad = series(conventions.EVENTS_TOTAL), series(conventions.EVENTS_BAD)
    ratio = f"{bad}\n/ ({total} > 0)\nor 0 * {total}"
    rules.append(_record(conventions.ERROR_RATIO, ratio, series.labels()))
    budget = burn_rate.format_number(slo.error_budget)
    burn = f"{series(conventions.ERROR_RATIO)} / {budget}"
    rules.append(_record(conventions.BURN_RATE, burn, series.labels()))
    rules.append(
        _record(
            conventions.BUDGET_REMAINING,
            f"1 - {series(conventions.BURN_RATE, slo.period)}",
            series.labels(slo.period),
        )
    )
    rules.append(
        _record(
            conventions.BUDGET_CONSUMPTION,
            budget_consumption_expr(slo, series, tile),
            series.labels(tile),
        )
    )
    rules.extend(_meta_rules(service, slo, series))
    # Window lengths as one constant table (one series per window), not one rule each.
    lengths = "\nor ".join(
        f'label_replace(vector({w.seconds}), "{conventions.WINDOW_LABEL}", "{w}", "", "")'
        for w in (*recorded, slo.period)
    )
    rules.append(_record(conventions.WINDOW_SECONDS, lengths, series.labels()))
    for tier in slo.tiers:
        rules.extend(_tier_meta_rules(tier, series))
    rules.extend(alert_rules(service, slo))
    return {"name": conventions.rule_group_name(slo.service, slo.name), "rules": rules}


def alert_rules(service: Service, slo: SLO) -> tuple[Rule, ...]:
    """The alerting rule of each of ``slo``'s tiers, in tier order (shared: read only)."""
    return _alert_rules(service, slo, templating.template_dirs())


# Built once for the rules and read again by the rule tests that expect their alerts: a
# service's rules are built just before its tests, so a few services' SLOs suffice. Keyed
# by the template directories the texts come from too, as templating's environments are.
@lru_cache(maxsize=64)
def _alert_rules(
    service: Service, slo: SLO, directories: tuple[Traversable, ...]
) -> tuple[Rule, ...]:
    series = SloSeries(slo)
    return tuple(alert_rule(service, slo, tier, series) for tier in slo.tiers)


def budget_consumption_expr(slo: SLO, series: SloSeries, tile: Duration) -> str:
    """Share of the period's error budget that the tile's bad events consume per second.

    The budget in events is ``budget * events over the period``, so the shares of the
    tiles that make up the period add up to ``1 - budget remaining``.
    """
    bad = series(conventions.EVENTS_BAD, tile)
    total = series(conventions.EVENTS_TOTAL, slo.period)
    budget_seconds = burn_rate.format_number(slo.error_budget * slo.period.seconds)
    # group_left keeps the left side's window label (one-to-one matching would drop it).
    ignoring = f"ignoring ({conventions.WINDOW_LABEL}) group_left ()"
    return f"{bad}\n/ {ignoring} ({total} > 0)\n/ {budget_seconds}\nor 0 * {bad}"


def event_rates(slo: SLO, window: Duration, series: SloSeries) -> tuple[str, str]:
    """(all, bad) events per second over ``window`` from the raw series, per group; bad is 0
    (not absent) for a group with traffic. The one place the rules tell SLI kinds apart."""
    sli, group_by = slo.sli, slo.group_by
    match sli:
        case RatioSLI():
            total = _events_rate(sli.total, window, group_by)
            bad = _events_rate(sli.bad, window, group_by) if sli.bad is not None else None
            good = _events_rate(sli.good, window, group_by) if bad is None and sli.good else None
        case LatencySLI():
            total = _sum_rate(sli.total, window, group_by)
            fast = sli.histogram.renamed(sli.good_metric, le_matcher(sli.threshold))
            bad, good = None, _sum_rate(fast, window, group_by)
        case _:
            assert_never(sli)
    recorded_total = series(conventions.EVENTS_TOTAL, window)
    on = f"on ({', '.join(group_by)})"
    if bad is not None:
        # A failure counter that was never incremented is often not exported at all.
        return total, f"{bad}\nor {on}\n0 * {recorded_total}"
    assert good is not None
    # Good events are counted apart from total ones, so a scrape can see slightly more
    # good than total: clamp at 0. Without any good series, every event was bad.
    return total, f"clamp_min({recorded_total} - {on}\n{good}, 0)\nor {on}\n{recorded_total}"


def le_matcher(threshold: float) -> Matcher:
    """Matcher for the bucket of ``threshold``; integral bounds also as ``1.0``.

    Prometheus 3 stores ``le`` normalized to float text (``1.0``) while Prometheus 2 keeps
    what the exporter wrote (often ``1``), so whole-number bounds match both spellings.
    """
    text = format(threshold, "g") if threshold < 1e16 else repr(threshold)
    if float(text).is_integer() and "e" not in text:
        return Matcher("le", "=~", f"{text}|{text}\\.0")
    return Matcher("le", "=", text)


def _events_rate(events: Events, window: Duration, group_by: Iterable[str]) -> str:
    if events.selector is not None:
        return _sum_rate(events.selector, window, group_by)
    assert events.query is not None
    query = substitute_window(events.query, str(window))
    return f"{_sum(group_by)}(\n  {_indent(query)}\n)"


def _sum_rate(selector: Selector, window: Duration, group_by: Iterable[str]) -> str:
    return f"{_sum(group_by)}(rate({selector}[{window}]))"


def _sum(group_by: Iterable[str]) -> str:
    """``sum by (tenant) `` or ``sum``, ready to be followed by ``(``."""
    group = list(group_by)
    return f"sum {by_clause(group)} " if group else "sum"


def _indent(text: str) -> str:
    return "\n  ".join(line.rstrip() for line in text.strip().splitlines())


def _meta_rules(service: Service, slo: SLO, series: SloSeries) -> list[Rule]:
    info_labels = {
        **dict(slo.labels),
        "objective": burn_rate.format_number(slo.objective),
        "period": str(slo.period),
        "owner": service.owner,
        "group_by": ",".join(slo.group_by),
        "sli": slo.sli.kind,
    }
    return [
        _record(
            conventions.OBJECTIVE,
            f"vector({burn_rate.format_number(slo.objective_ratio)})",
            series.labels(),
        ),
        _record(
            conventions.ERROR_BUDGET,
            f"vector({burn_rate.format_number(slo.error_budget)})",
            series.labels(),
        ),
        _record(conventions.PERIOD, f"vector({slo.period.seconds})", series.labels()),
        _record(conventions.INFO, "vector(1)", series.labels(extra=info_labels)),
    ]


def _tier_labels(tier: Tier) -> dict[str, str]:
    return {
        conventions.SEVERITY_LABEL: tier.severity,
        conventions.LONG_WINDOW_LABEL: str(tier.long_window),
        conventions.SHORT_WINDOW_LABEL: str(tier.short_window),
    }


def _tier_meta_rules(tier: Tier, series: SloSeries) -> list[Rule]:
    labels = series.labels(extra={conventions.ALERT_LABEL: tier.alert, **_tier_labels(tier)})
    return [
        _record(
            conventions.TIER_BURN_FACTOR,
            f"vector({burn_rate.format_number(tier.burn_factor)})",
            labels,
        ),
        _record(conventions.TIER_MIN_EVENTS, f"vector({tier.min_events})", labels),
    ]


def alert_expr(tier: Tier, series: SloSeries) -> str:
    """Both windows above the tier's burn factor, and enough traffic in the long window."""
    factor = burn_rate.format_number(tier.burn_factor)
    parts = [
        f"{series(conventions.BURN_RATE, tier.long_window)} > {factor}",
        f"{series(conventions.BURN_RATE, tier.short_window)} > {factor}",
    ]
    seconds = tier.long_window.seconds
    total = series(conventions.EVENTS_TOTAL, tier.long_window)
    bad = series(conventions.EVENTS_BAD, tier.long_window)
    guard = []
    if tier.min_events:
        guard.append(f"{total} * {seconds} >= {tier.min_events}")
    if tier.min_bad_events:
        guard.append(f"{bad} * {seconds} >= {tier.min_bad_events}")
    if guard and tier.outage_floor:
        # The guard holds back noise, not an outage: enough failed events page at any volume.
        # Failures must still arrive at a rate that fills the long window with the floor
        # again (its short window's rate), so that a young server's long window, averaged
        # over a short history and so extrapolated, does not turn a few failures into many.
        both = "\n  and\n  ".join(guard)
        short_bad = series(conventions.EVENTS_BAD, tier.short_window)
        floor = (
            f"{bad} * {seconds} >= {tier.outage_floor}\n"
            f"  and ignoring ({conventions.WINDOW_LABEL})\n"
            f"  {short_bad} * {seconds} >= {tier.outage_floor}"
        )
        guard = [f"(\n  {both}\n  or\n  {floor}\n)"]
    return f"\nand ignoring ({conventions.WINDOW_LABEL})\n".join([*parts, *guard])


def alert_rule(service: Service, slo: SLO, tier: Tier, series: SloSeries) -> Rule:
    """The alerting rule of one tier."""
    rule: Rule = {"alert": tier.alert, "expr": alert_expr(tier, series)}
    if tier.for_ is not None:
        rule["for"] = str(tier.for_)
    rule["labels"] = {
        **dict(slo.labels),
        **dict(tier.labels),
        **_tier_labels(tier),
        # The expression's window label is the long window's; long_window says it better.
        conventions.WINDOW_LABEL: "",
    }
    if service.telemetry:  # held back by Alertmanager while the pipeline is reported down
        rule["labels"][conventions.TELEMETRY_LABEL] = service.telemetry
    rule["annotations"] = alert_annotations(service, slo, tier)
    return rule


def alert_annotations(service: Service, slo: SLO, tier: Tier) -> dict[str, str]:
    """summary, description and runbook_url of one tier, plus the spec's own annotations."""
    directories = templating.template_dirs()
    numbers = {
        "factor": burn_rate.format_number(tier.burn_factor),
        "threshold_percent": burn_rate.format_percent(slo.threshold(tier)),
        "budget_percent": burn_rate.format_percent(slo.error_budget),
        "objective_percent": f"{burn_rate.format_number(slo.objective)}%",
        "exhaustion_seconds": burn_rate.exhaustion_time(slo.period, tier.burn_factor),
        "share_percent": burn_rate.format_number(
            burn_rate.share_from_factor(tier.burn_factor, slo.period, tier.long_window)
        )
        + "%",
    }
    context = {"service": service, "slo": slo, "tier": tier, "numbers": numbers}
    annotations = {
        "summary": templating.render_from(directories, "slo_alert_summary.j2", **context),
        "description": templating.render_from(directories, "slo_alert_description.j2", **context),
    }
    if tier.runbook_url:
        annotations["runbook_url"] = tier.runbook_url
    annotations.update(dict(slo.alert_annotations))
    annotations.update(dict(tier.annotations))
    return annotations


def _record(name: str, expr: str, labels: dict[str, str]) -> Rule:
    return {"record": name, "expr": expr, "labels": labels}

"""From a schema-valid service document to the model, checking what a schema cannot.

Windows against periods, thresholds that could never fire, PromQL that does not parse,
series and labels the spec's own metric catalog does not know, duplicate names: each is
reported with its file, line and field, and all of them are collected before giving up.
The service's signals, drills, dashboards and gate policy are built by their own modules.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from compiler import burn_rate, conventions
from compiler.diagnostics import Diagnostic, errors
from compiler.durations import Duration
from compiler.load.loader import Document, PathKey
from compiler.model import span_metrics
from compiler.model.drill import AlertSource, Drill, signal_alert_sources, slo_alert_sources
from compiler.model.service import Service, ServiceSpec
from compiler.model.slo import SLI, SLO, LatencySLI, Metric, RatioSLI, Tier, labels_of
from compiler.promql import Selector
from compiler.validate.alert_texts import template_problems
from compiler.validate.context import (
    HISTOGRAM_SUFFIXES,
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
from compiler.validate.dashboards import build_dashboards
from compiler.validate.drills import build_drill
from compiler.validate.gate_policy import build_policy
from compiler.validate.log_metrics import log_count
from compiler.validate.signals import build_signals
from compiler.validate.span_slis import selection, span_sli


def build_service(document: Document) -> tuple[ServiceSpec | None, list[Diagnostic]]:
    """Build one service from a schema-valid document, or report why it cannot be built."""
    check = Checker(document)
    data: dict[str, Any] = document.data
    for where, message in template_problems(data):
        check.error(where, message)
    raw_service = data["service"]
    check.labels(("service", "labels"), raw_service.get("labels"))
    service = Service(
        name=raw_service["name"],
        owner=raw_service["owner"],
        description=raw_service.get("description", ""),
        runbook_base_url=raw_service.get("runbook_base_url"),
        labels=labels_of(raw_service.get("labels")),
        telemetry=pipeline_name(raw_service.get("telemetry")),
    )
    metrics = tuple(
        _metric(check, service.name, name, raw)
        for name, raw in sorted(data.get("metrics", {}).items())
    )
    catalog = Catalog(check, metrics)
    slos = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data.get("slos", [])):
        path: PathKey = ("slos", index)
        name = raw["name"]
        if name in seen:
            check.error((*path, "name"), f"duplicate SLO name '{name}' (also slos[{seen[name]}])")
            continue
        seen[name] = index
        slo = _slo(check, catalog, service, raw, path)
        if slo is not None:
            slos.append(slo)
    dashboards = build_dashboards(check, catalog, service.name, data.get("dashboards", []))
    signals = build_signals(check, catalog, service, data.get("signals", []), slos)
    sources = [*slo_alert_sources(slos), *signal_alert_sources(signals)]
    drills = _drills(check, catalog, data.get("scenarios", []), sources)
    gate = build_policy(check, data.get("gate"), slos)
    if errors(check.diagnostics):
        return None, check.diagnostics
    spec = ServiceSpec(
        service,
        document.file,
        metrics,
        tuple(slos),
        document.locate(("service", "name")),
        drills=drills,
        dashboards=dashboards,
        signals=signals,
        gate=gate,
    )
    return spec, check.diagnostics


def _drills(
    check: Checker, catalog: Catalog, raw_drills: list[Any], sources: list[AlertSource]
) -> tuple[Drill, ...]:
    """The service's tabletop drills (``scenarios:``), checked against its alerts."""
    drills = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_drills):
        path: PathKey = ("scenarios", index)
        if raw["name"] in seen:
            check.error(
                (*path, "name"),
                f"duplicate drill '{raw['name']}' (also scenarios[{seen[raw['name']]}])",
            )
            continue
        seen[raw["name"]] = index
        drill = build_drill(
            raw,
            sources,
            partial(_report_at, check, path),
            partial(_check_drill_series, catalog, path),
            check.document.locate(path),
        )
        if drill is not None:
            drills.append(drill)
    return tuple(drills)


def _report_at(check: Checker, base: PathKey, where: PathKey, message: str) -> None:
    check.error((*base, *where), message)


def _check_drill_series(
    catalog: Catalog, base: PathKey, where: PathKey, selector: Selector, counter: bool
) -> None:
    catalog.series((*base, *where), selector, (), counter)


def _metric(check: Checker, service: str, name: str, raw: dict[str, Any]) -> Metric:
    path: PathKey = ("metrics", name)
    if raw["type"] == "histogram" and name.endswith(HISTOGRAM_SUFFIXES):
        check.error(
            path, f"declare the histogram by its base name, without '{name.rsplit('_', 1)[1]}'"
        )
    if raw.get("buckets") and raw["type"] != "histogram":
        check.error((*path, "buckets"), "only a histogram has buckets")
    return Metric(
        name=name,
        type=raw["type"],
        help=raw.get("help", ""),
        labels=tuple(raw.get("labels", [])),
        buckets=tuple(sorted(float(b) for b in raw.get("buckets", []))),
        from_logs=log_count(check, service, name, raw),
    )


def _slo(
    check: Checker, catalog: Catalog, service: Service, raw: dict[str, Any], path: PathKey
) -> SLO | None:
    objective = to_decimal(raw["objective"])
    if objective < 1:
        # OpenSLO and slo-generator write 0.999; here that would be a 0.999 % objective,
        # which never alerts in practice.
        shown = burn_rate.format_number(objective)
        check.error(
            (*path, "objective"),
            f"{shown} is {shown} %; write {burn_rate.format_number(objective * 100)} "
            "(objectives are percentages)",
        )
        return None
    period = parse_duration(check, (*path, "period"), raw.get("period")) or burn_rate.DEFAULT_PERIOD
    if period < conventions.PERIOD_TILE:
        check.error((*path, "period"), f"a period must be at least {conventions.PERIOD_TILE}")
    group_by = tuple(raw.get("group_by", []))
    check.group_by((*path, "group_by"), group_by)
    alerting: dict[str, Any] = raw.get("alerting", {})
    check.labels((*path, "labels"), raw.get("labels"))
    check.labels((*path, "alerting", "labels"), alerting.get("labels"))
    spans = selection(check, service.name, raw["sli"], (*path, "sli"), group_by)
    sli = (
        span_sli(spans, span_metrics.DEFAULT_UNIT)
        if spans is not None
        else _sli(check, catalog, raw["sli"], (*path, "sli"), group_by)
    )
    budget = burn_rate.error_budget(objective)
    slo_runbook = raw.get("runbook")
    tiers = _tiers(check, service, raw["name"], alerting, period, budget, slo_runbook, path)
    if any(tier.runbook_url is None for tier in tiers):
        check.warn(
            path,
            "alerts will carry no runbook_url: set service.runbook_base_url or a runbook",
        )
    if sli is None:
        return None
    labels = {**dict(service.labels), **raw.get("labels", {}), **alerting.get("labels", {})}
    return SLO(
        service=service.name,
        name=raw["name"],
        objective=objective,
        sli=sli,
        period=period,
        description=raw.get("description", ""),
        labels=labels_of(labels),
        group_by=group_by,
        tiers=tiers,
        alert_annotations=labels_of(alerting.get("annotations")),
        runbook_url=runbook_url(check, service, slo_runbook, None, (*path, "runbook")),
        location=check.document.locate(path),
        spans=spans,
        expected_rate=_expected_rate(alerting),
    )


def _expected_rate(alerting: dict[str, Any]) -> Decimal | None:
    """``low_traffic.expected_events_per_second``, if the spec declares it."""
    guard = alerting.get("low_traffic")
    if not isinstance(guard, dict) or "expected_events_per_second" not in guard:
        return None
    return to_decimal(guard["expected_events_per_second"])


def _sli(
    check: Checker,
    catalog: Catalog,
    raw: dict[str, Any],
    path: PathKey,
    group_by: tuple[str, ...],
) -> SLI | None:
    if "latency" in raw:
        return _latency(check, catalog, raw["latency"], (*path, "latency"), group_by)
    ratio = raw["ratio"]
    ratio_path = (*path, "ratio")
    if ("bad" in ratio) == ("good" in ratio):
        check.error(ratio_path, "give either 'bad' or 'good' events, together with 'total'")
        return None
    sides = {
        key: parse_events(check, catalog, ratio[key], (*ratio_path, key), group_by)
        for key in ("total", "bad", "good")
        if key in ratio
    }
    if any(side is None for side in sides.values()):
        return None
    total = sides["total"]
    assert total is not None
    return RatioSLI(total=total, bad=sides.get("bad"), good=sides.get("good"))


def _latency(
    check: Checker,
    catalog: Catalog,
    raw: dict[str, Any],
    path: PathKey,
    group_by: tuple[str, ...],
) -> LatencySLI | None:
    found = parse_histogram(check, catalog, raw["histogram"], (*path, "histogram"), group_by)
    if found is None:
        return None
    histogram, metric = found
    threshold = float(raw["threshold"])
    if threshold not in metric.buckets:
        bounds = ", ".join(f"{b:g}" for b in metric.buckets) or "none declared"
        check.error(
            (*path, "threshold"),
            f"{threshold:g} is not a bucket bound of '{metric.name}' (buckets: {bounds})",
        )
        return None
    return LatencySLI(histogram=histogram, threshold=threshold)


def _tiers(
    check: Checker,
    service: Service,
    slo_name: str,
    alerting: dict[str, Any],
    period: Duration,
    budget: Decimal,
    slo_runbook: str | None,
    path: PathKey,
) -> tuple[Tier, ...]:
    if alerting.get("disabled"):
        return ()
    raw_guard = alerting.get("low_traffic", {})
    guard_on = raw_guard is not False
    guard: dict[str, int] = raw_guard if isinstance(raw_guard, dict) else {}
    alerting_path = (*path, "alerting")
    explicit = "tiers" in alerting
    raw_tiers: list[dict[str, Any]] = alerting["tiers"] if explicit else []
    if not explicit:
        name = alerting.get("name") or conventions.default_alert_name(service.name, slo_name)
        raw_tiers = [
            {
                "alert": name,
                "severity": default.severity,
                "long_window": str(default.long_window),
                "short_window": str(default.short_window),
                "budget_share": default.budget_share_percent,
            }
            for default in burn_rate.DEFAULT_TIERS
            # A short period keeps only the default tiers whose windows fit in it.
            if default.long_window < period
        ]
    tiers: list[Tier] = []
    seen: dict[tuple[str, str, int, int], int] = {}
    for index, raw in enumerate(raw_tiers):
        tier_path: PathKey = (*alerting_path, "tiers", index) if explicit else alerting_path
        long_window = parse_window(check, (*tier_path, "long_window"), raw["long_window"])
        short_window = parse_window(check, (*tier_path, "short_window"), raw["short_window"])
        if long_window is None or short_window is None:
            continue
        if short_window >= long_window:
            check.error(
                (*tier_path, "short_window"),
                f"short window {short_window} must be shorter than the long window {long_window}",
            )
            continue
        if long_window >= period:
            check.error(
                (*tier_path, "long_window"),
                f"long window {long_window} does not fit the period {period}",
            )
            continue
        factor = _factor(check, raw, tier_path, period, long_window)
        if factor is None:
            continue
        threshold = burn_rate.threshold_ratio(factor, budget)
        if threshold >= 1 and not explicit:
            check.warn(
                alerting_path,
                f"default tier {long_window}/{short_window} left out: at this objective its "
                f"threshold would be an error ratio of {burn_rate.format_percent(threshold)}",
            )
            continue
        if threshold >= 1:
            check.error(
                tier_path,
                f"can never fire: {burn_rate.format_number(factor)}x the "
                f"{burn_rate.format_percent(budget)} budget is an error ratio of "
                f"{burn_rate.format_percent(threshold)}",
            )
            continue
        if explicit and factor < 1:
            check.warn(
                tier_path,
                f"burn factor {burn_rate.format_number(factor)} is below 1: this tier fires "
                "while the SLO is on track to meet its objective",
            )
        key = (raw["alert"], raw["severity"], long_window.seconds, short_window.seconds)
        if key in seen:
            check.error(tier_path, f"same alert, severity and windows as tier {seen[key]}")
            continue
        seen[key] = index
        check.labels((*tier_path, "labels"), raw.get("labels"))
        default_guard = burn_rate.default_min_events(factor, budget) if guard_on else 0
        min_events = int(raw.get("min_events", guard.get("min_events", default_guard)))
        min_bad_events = int(raw.get("min_bad_events", guard.get("min_bad_events", 0)))
        # The traffic the guard needs: its events, and enough that at the threshold the bad
        # ones reach min_bad_events.
        needed = max(Decimal(min_events), min_bad_events / threshold) / long_window.seconds
        if needed > MAX_GUARD_RATE:
            check.error(
                tier_path,
                f"can never fire: its low-traffic guard ({min_events} events"
                + (f", {min_bad_events} bad" if min_bad_events else "")
                + f" in {long_window}) needs more than {MAX_GUARD_RATE:,} events per second",
            )
            continue
        # The SLO's floor (or the default) serves the paging tiers; a window of days on a
        # server younger than it averages a short history, which a few failures would fill.
        floored = long_window <= burn_rate.MAX_FLOOR_WINDOW
        slo_floor = guard.get("outage_events", burn_rate.DEFAULT_OUTAGE_EVENTS) if floored else 0
        tiers.append(
            Tier(
                alert=raw["alert"],
                severity=raw["severity"],
                long_window=long_window,
                short_window=short_window,
                burn_factor=factor,
                for_=_hold(check, (*tier_path, "for"), raw.get("for"), period),
                min_events=min_events,
                min_bad_events=min_bad_events,
                outage_events=int(raw.get("outage_events", slo_floor)) if guard_on else 0,
                runbook_url=runbook_url(
                    check,
                    service,
                    raw.get("runbook") or slo_runbook,
                    raw["alert"],
                    (*tier_path, "runbook"),
                ),
                labels=labels_of(raw.get("labels")),
                annotations=labels_of(raw.get("annotations")),
            )
        )
    return tuple(tiers)


def _hold(check: Checker, path: PathKey, text: str | None, period: Duration) -> Duration | None:
    """A tier's ``for``: shorter than the SLO's period (a burn held that long has spent the
    budget many times over before it pages)."""
    hold = parse_duration(check, path, text)
    if hold is not None and hold >= period:
        check.error(path, f"for: {hold} is not shorter than the period {period}")
        return None
    return hold


# Burn factors outside this range describe no alert anyone wants (and overflow the exact
# decimal arithmetic of thresholds).
MIN_FACTOR, MAX_FACTOR = Decimal("0.000001"), Decimal(1_000_000)
# A guard that needs more traffic than this in its long window keeps its tier from ever
# firing (and no test could be generated for it).
MAX_GUARD_RATE = 10**9  # events per second


def _factor(
    check: Checker, raw: dict[str, Any], path: PathKey, period: Duration, long_window: Duration
) -> Decimal | None:
    has_factor, has_share = "burn_factor" in raw, "budget_share" in raw
    if has_factor == has_share:
        check.error(path, "give either burn_factor or budget_share")
        return None
    if has_factor:
        factor = to_decimal(raw["burn_factor"])
        if not MIN_FACTOR <= factor <= MAX_FACTOR:
            check.error(
                (*path, "burn_factor"),
                f"{raw['burn_factor']} is not a burn factor between {MIN_FACTOR} and "
                f"{MAX_FACTOR:,}",
            )
            return None
        return burn_rate.exact(factor)
    return burn_rate.factor_from_share(to_decimal(raw["budget_share"]), period, long_window)

"""From a schema-valid service document to the model, checking what a schema cannot.

Windows against periods, thresholds that could never fire, PromQL that does not parse,
series and labels the spec's own metric catalog does not know, duplicate names: each is
reported with its file, line and field, and all of them are collected before giving up.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import urljoin

from compiler import burn_rate, conventions, span_metrics
from compiler.dashboard_semantics import build_dashboards
from compiler.diagnostics import Diagnostic, Severity, errors
from compiler.drills import (
    AlertSource,
    Drill,
    build_drill,
    signal_alert_sources,
    slo_alert_sources,
)
from compiler.durations import Duration
from compiler.gate.policy import build_policy
from compiler.loader import Document, PathKey
from compiler.model import (
    SLI,
    SLO,
    Events,
    LatencySLI,
    Metric,
    RatioSLI,
    Service,
    ServiceSpec,
    Tier,
    labels_of,
)
from compiler.promql import (
    WINDOW_PLACEHOLDER,
    PromQLError,
    Selector,
    parse,
    parse_selector,
    selectors_in,
    substitute_window,
)

HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


class Checker:
    """Collects diagnostics against one document while the model is built."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.diagnostics: list[Diagnostic] = []

    def error(self, path: PathKey, message: str) -> None:
        """Record a problem that stops compilation."""
        self.diagnostics.append(Diagnostic(self.document.locate(path), message))

    def warn(self, path: PathKey, message: str) -> None:
        """Record a problem worth knowing that does not stop compilation."""
        self.diagnostics.append(Diagnostic(self.document.locate(path), message, Severity.WARNING))

    def labels(self, path: PathKey, mapping: Mapping[str, str] | None) -> None:
        """Labels a spec sets must not collide with those the compiler owns."""
        for name in sorted(mapping or {}):
            if name in conventions.RESERVED_LABELS or name.startswith("__"):
                self.error((*path, name), f"label '{name}' is set by the compiler; choose another")


def build_service(document: Document) -> tuple[ServiceSpec | None, list[Diagnostic]]:
    """Build one service from a schema-valid document, or report why it cannot be built."""
    check = Checker(document)
    data: dict[str, Any] = document.data
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
        _metric(check, name, raw) for name, raw in sorted(data.get("metrics", {}).items())
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
    # Signals build on this module's checks (Checker, Catalog), hence the late import.
    from compiler.signal_checks import build_signals

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


def _metric(check: Checker, name: str, raw: dict[str, Any]) -> Metric:
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
    )


class Catalog:
    """The spec's declared series; checks names and labels when the spec declares any."""

    def __init__(self, check: Checker, metrics: tuple[Metric, ...]) -> None:
        self.check = check
        self.metrics = {m.name: m for m in metrics}

    @property
    def enabled(self) -> bool:
        return bool(self.metrics)

    def resolve(self, series: str) -> tuple[Metric | None, str]:
        """The declared metric a series belongs to (``x_bucket`` → histogram ``x``)."""
        if series in self.metrics:
            return self.metrics[series], ""
        for suffix in HISTOGRAM_SUFFIXES:
            base = series.removesuffix(suffix)
            if base != series and base in self.metrics:
                return self.metrics[base], suffix
        return None, ""

    def series(
        self, path: PathKey, selector: Selector, group_by: Iterable[str], counter: bool
    ) -> Metric | None:
        """Check one series a spec reads; return its declaration if there is one."""
        if not self.enabled:
            return None
        metric, suffix = self.resolve(selector.metric)
        if metric is None:
            close = difflib.get_close_matches(selector.metric, list(self.metrics), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.check.error(
                path, f"series '{selector.metric}' is not declared under metrics{hint}"
            )
            return None
        if counter and metric.type not in ("counter",) and suffix not in ("_bucket", "_count"):
            self.check.error(
                path, f"'{selector.metric}' is a {metric.type}; counting events needs a counter"
            )
        known = set(metric.labels) | ({"le"} if suffix == "_bucket" else set())
        for label in sorted(selector.label_names | set(group_by)):
            if label not in known and label != "__name__":
                close = difflib.get_close_matches(label, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                declared = ", ".join(metric.labels) or "none"
                self.check.error(
                    path,
                    f"'{metric.name}' has no label '{label}'{hint}; declared labels: {declared}",
                )
        return metric


def _slo(
    check: Checker, catalog: Catalog, service: Service, raw: dict[str, Any], path: PathKey
) -> SLO | None:
    objective = to_decimal(raw["objective"])
    period = parse_duration(check, (*path, "period"), raw.get("period")) or burn_rate.DEFAULT_PERIOD
    if period < conventions.PERIOD_TILE:
        check.error((*path, "period"), f"a period must be at least {conventions.PERIOD_TILE}")
    group_by = tuple(raw.get("group_by", []))
    for index, label in enumerate(group_by):
        if label in conventions.RESERVED_LABELS:
            check.error(
                (*path, "group_by", index), f"cannot group by '{label}': the compiler sets it"
            )
    alerting: dict[str, Any] = raw.get("alerting", {})
    check.labels((*path, "labels"), raw.get("labels"))
    check.labels((*path, "alerting", "labels"), alerting.get("labels"))
    spans = span_metrics.selection(check, service.name, raw["sli"], (*path, "sli"), group_by)
    sli = (
        spans.sli(span_metrics.DEFAULT_UNIT)
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
    )


def pipeline_name(telemetry: str | None) -> str | None:
    """The telemetry pipeline a ``telemetry:`` field names (None for direct scraping)."""
    return None if telemetry in (None, conventions.DIRECT_TELEMETRY) else telemetry


def parse_duration(check: Checker, path: PathKey, text: str | None) -> Duration | None:
    """A duration field, or None (reporting the problem) if it is not one."""
    if text is None:
        return None
    try:
        return Duration.parse(text)
    except ValueError as exc:
        check.error(path, str(exc))
        return None


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


def parse_events(
    check: Checker, catalog: Catalog, text: str, path: PathKey, group_by: tuple[str, ...]
) -> Events | None:
    """Events given as a counter selector or as a query of rates with ``$window``."""
    if WINDOW_PLACEHOLDER in text:
        try:
            expr = parse(substitute_window(text, "5m"))
        except PromQLError as exc:
            check.error(path, f"PromQL does not parse: {exc}")
            return None
        for selector in selectors_in(expr):
            catalog.series(path, selector, group_by, counter=False)
        return Events(query=text.strip())
    try:
        selector = parse_selector(text)
    except PromQLError as exc:
        check.error(
            path,
            f"{exc}: give a counter selector, or a query of rates with {WINDOW_PLACEHOLDER} "
            "where the range goes",
        )
        return None
    catalog.series(path, selector, group_by, counter=True)
    return Events(selector=selector)


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


def parse_histogram(
    check: Checker, catalog: Catalog, text: str, path: PathKey, group_by: tuple[str, ...]
) -> tuple[Selector, Metric] | None:
    """A histogram named by its base name, declared in the catalog with its buckets."""
    try:
        histogram = parse_selector(text)
    except PromQLError as exc:
        check.error(path, str(exc))
        return None
    if histogram.metric.endswith(HISTOGRAM_SUFFIXES):
        base = histogram.metric.rsplit("_", 1)[0]
        check.error(path, f"name the histogram by its base name '{base}'")
        return None
    if "le" in histogram.label_names:
        check.error(path, "do not match on 'le'; the compiler chooses the buckets")
        return None
    if not catalog.enabled:
        check.error(
            path,
            f"declare '{histogram.metric}' under metrics with its buckets, so that the "
            "threshold can be checked against them",
        )
        return None
    metric = catalog.series(path, histogram, group_by, counter=False)
    if metric is None:
        return None
    if metric.type != "histogram":
        check.error(path, f"'{metric.name}' is a {metric.type}, not a histogram")
        return None
    return histogram, metric


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
        long_window = parse_duration(check, (*tier_path, "long_window"), raw["long_window"])
        short_window = parse_duration(check, (*tier_path, "short_window"), raw["short_window"])
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
        tiers.append(
            Tier(
                alert=raw["alert"],
                severity=raw["severity"],
                long_window=long_window,
                short_window=short_window,
                burn_factor=factor,
                for_=parse_duration(check, (*tier_path, "for"), raw.get("for")),
                min_events=int(raw.get("min_events", guard.get("min_events", default_guard))),
                min_bad_events=int(raw.get("min_bad_events", guard.get("min_bad_events", 0))),
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


def _factor(
    check: Checker, raw: dict[str, Any], path: PathKey, period: Duration, long_window: Duration
) -> Decimal | None:
    has_factor, has_share = "burn_factor" in raw, "budget_share" in raw
    if has_factor == has_share:
        check.error(path, "give either burn_factor or budget_share")
        return None
    if has_factor:
        return burn_rate.exact(to_decimal(raw["burn_factor"]))
    return burn_rate.factor_from_share(to_decimal(raw["budget_share"]), period, long_window)


def runbook_url(
    check: Checker, service: Service, runbook: str | None, alert: str | None, path: PathKey
) -> str | None:
    """The runbook link of an alert: absolute, joined to the base URL, or the base's anchor."""
    base = service.runbook_base_url
    if runbook and runbook.startswith(("http://", "https://")):
        return runbook
    if runbook and not base:
        check.error(
            path, f"runbook '{runbook}' is relative but service.runbook_base_url is not set"
        )
        return None
    if not base:
        return None
    if runbook:
        return urljoin(base, runbook)
    return f"{base}#{conventions.slug(alert)}" if alert else base


def to_decimal(value: Any) -> Decimal:
    """A YAML number as an exact decimal (0.1 stays 0.1)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)

"""From a spec's ``sli.spans`` to a SpanSelection, and from a selection to the ratio or
latency SLI that the rules read over the span metrics connector's series.
"""

from __future__ import annotations

from typing import Any

from compiler.load.loader import PathKey
from compiler.model import span_metrics
from compiler.model.slo import SLI, Events, LatencySLI, RatioSLI
from compiler.model.span_metrics import PER_COLLECTOR_LABELS, SpanSelection
from compiler.promql import Matcher, Selector
from compiler.validate.context import Checker, to_decimal


def selection(
    check: Checker, service: str, sli: dict[str, Any], path: PathKey, group_by: tuple[str, ...]
) -> SpanSelection | None:
    """The spans an SLI (``sli`` at ``path``) counts, if it counts spans."""
    if "spans" not in sli:
        return None
    raw = sli["spans"]
    for index, label in enumerate(group_by):
        if label in PER_COLLECTOR_LABELS:
            check.error(
                (*path[:-1], "group_by", index),
                f"'{label}' differs per collector replica; the rules aggregate it away",
            )
    threshold = None
    if "threshold_seconds" in raw:
        value = raw["threshold_seconds"]
        threshold = to_decimal(value)
        try:
            span_metrics.as_collector_duration(threshold)
        except ValueError as exc:
            check.error((*path, "spans", "threshold_seconds"), str(exc))
    return SpanSelection(
        service=raw.get("service", service),
        kind=raw.get("kind", "SERVER"),
        span_name=raw.get("span_name"),
        route=raw.get("route"),
        threshold_seconds=threshold,
    )


def span_sli(spans: SpanSelection, unit: str) -> SLI:
    """The ratio (errors) or latency SLI over the connector's Prometheus series."""
    matchers = spans.matchers()
    if spans.threshold_seconds is not None:
        histogram = Selector(span_metrics.duration_metric(unit), matchers)
        return LatencySLI(histogram, float(span_metrics.in_unit(spans.threshold_seconds, unit)))
    calls = span_metrics.calls_metric()
    total = Selector(calls, matchers)
    error = Matcher(span_metrics.STATUS_LABEL, "=", span_metrics.ERROR_STATUS)
    bad = Selector(calls, (*matchers, error))
    return RatioSLI(total=Events(selector=total), bad=Events(selector=bad))

"""OpenSLO indicators as native event ratios.

Prometheus ratio metrics become the native ``bad``/``good`` and ``total`` events (a counter
selector as it is, a query with ``{{.window}}`` with the native ``$window``); a raw ratio
metric becomes an error ratio; a threshold metric the share of data points, sampled every
minute, on the wrong side of the objective's value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from compiler import burn_rate
from compiler.formats.foreign import (
    converted_query,
    error_ratio_sli,
    group_by_of,
    has_window,
    result_labels,
)
from compiler.formats.openslo.catalog import Catalog, OpenSLOObject
from compiler.load.loader import Document, PathKey
from compiler.promql import PromQLError, parse, parse_selector, substitute_window

# Threshold SLIs count data points at this resolution.
THRESHOLD_RESOLUTION = "1m"
_BAD_WHEN = {"lte": ">", "lt": ">=", "gte": "<", "gt": "<="}  # op says what is good


@dataclass
class Query:
    """A query as written: its text and where."""

    text: str
    document: Document
    path: PathKey


@dataclass
class Indicator:
    """An SLI: ``ratio`` (good or bad, and total), ``raw`` (a ratio) or ``threshold``."""

    kind: str
    queries: dict[str, Query] = field(default_factory=dict)
    counter: bool = True
    raw_is_success: bool = False


@dataclass
class Objective:
    """One objective of an SLO: its target in percent and, for thresholds, op and value."""

    percent: Decimal
    op: str | None
    value: float | None
    path: PathKey


def v1_indicator(catalog: Catalog, obj: OpenSLOObject) -> Indicator | None:
    """A v1 SLO's indicator: inline, or the SLI its ``indicatorRef`` names."""
    spec = obj.spec
    if ("indicator" in spec) == ("indicatorRef" in spec):
        catalog.found.error(obj.document, obj.at("spec"), "give either indicator or indicatorRef")
        return None
    if "indicator" in spec:
        document, base, sli = (
            obj.document,
            obj.at("spec", "indicator", "spec"),
            spec["indicator"]["spec"],
        )
    else:
        ref = catalog.get("SLI", spec["indicatorRef"], obj.document, obj.at("spec", "indicatorRef"))
        if ref is None:
            return None
        document, base, sli = ref.document, ref.at("spec"), ref.spec
    if ("ratioMetric" in sli) == ("thresholdMetric" in sli):
        catalog.found.error(document, base, "give either ratioMetric or thresholdMetric")
        return None
    if "thresholdMetric" in sli:
        query = _metric_source(
            catalog, document, (*base, "thresholdMetric"), sli["thresholdMetric"]
        )
        return None if query is None else Indicator("threshold", {"threshold": query})
    ratio = sli["ratioMetric"]
    path = (*base, "ratioMetric")
    if "raw" in ratio:
        extra = [key for key in ("good", "bad", "total") if key in ratio]
        if extra or "rawType" not in ratio:
            catalog.found.error(
                document,
                path,
                "a raw ratioMetric takes raw and rawType only"
                if extra
                else "a raw ratioMetric needs rawType (success or failure)",
            )
            return None
        query = _metric_source(catalog, document, (*path, "raw"), ratio["raw"])
        if query is None:
            return None
        return Indicator("raw", {"raw": query}, raw_is_success=ratio["rawType"] == "success")
    if ("good" in ratio) == ("bad" in ratio) or "total" not in ratio:
        catalog.found.error(document, path, "give total, and either good or bad")
        return None
    queries = {}
    for role in ("good", "bad", "total"):
        if role in ratio:
            query = _metric_source(catalog, document, (*path, role), ratio[role])
            if query is None:
                return None
            queries[role] = query
    return Indicator("ratio", queries, counter=ratio.get("counter", True))


def v1alpha_indicator(catalog: Catalog, obj: OpenSLOObject) -> Indicator | None:
    """A v1alpha SLO's indicator: its threshold metric, or its objectives' ratio metrics."""
    spec = obj.spec
    ratios = [
        (index, objective["ratioMetrics"])
        for index, objective in enumerate(spec["objectives"])
        if "ratioMetrics" in objective
    ]
    threshold = spec.get("indicator", {}).get("thresholdMetric")
    if threshold is not None:
        if ratios:
            catalog.found.error(
                obj.document,
                obj.at("spec", "objectives", ratios[0][0], "ratioMetrics"),
                "an SLO with an indicator.thresholdMetric has no ratioMetrics",
            )
            return None
        path = obj.at("spec", "indicator", "thresholdMetric")
        query = _v1alpha_metric(catalog, obj.document, path, threshold)
        return None if query is None else Indicator("threshold", {"threshold": query})
    if len(ratios) != len(spec["objectives"]):
        catalog.found.error(
            obj.document,
            obj.at("spec", "objectives"),
            "each objective needs ratioMetrics (or the SLO an indicator.thresholdMetric)",
        )
        return None
    index, ratio = ratios[0]
    if any(other != ratio for _, other in ratios):
        catalog.found.error(
            obj.document,
            obj.at("spec", "objectives"),
            "objectives with different ratioMetrics: write one SLO per indicator",
        )
        return None
    path = obj.at("spec", "objectives", index, "ratioMetrics")
    queries = {}
    for role in ("good", "total"):
        query = _v1alpha_metric(catalog, obj.document, (*path, role), ratio[role])
        if query is None:
            return None
        queries[role] = query
    counter = ratio.get("counter", ratio.get("incremental", True))
    return Indicator("ratio", queries, counter=counter)


def _metric_source(
    catalog: Catalog, document: Document, path: PathKey, metric: dict[str, Any]
) -> Query | None:
    source = metric["metricSource"]
    kind = source.get("type")
    if kind is None and "metricSourceRef" in source:
        ref = catalog.get(
            "DataSource",
            source["metricSourceRef"],
            document,
            (*path, "metricSource", "metricSourceRef"),
        )
        if ref is None:
            return None
        kind = ref.spec["type"]
    if kind is None:
        catalog.found.error(
            document,
            (*path, "metricSource"),
            "say where the metric comes from: type: Prometheus, or a metricSourceRef to "
            "a DataSource",
        )
        return None
    if kind.lower() != "prometheus":
        catalog.found.error(
            document,
            (*path, "metricSource"),
            f"metric source type '{kind}' is not supported: only Prometheus queries become rules",
        )
        return None
    query_path = (*path, "metricSource", "spec", "query")
    return Query(source["spec"]["query"], document, query_path)


def _v1alpha_metric(
    catalog: Catalog, document: Document, path: PathKey, metric: dict[str, Any]
) -> Query | None:
    if metric["source"].lower() != "prometheus":
        catalog.found.error(
            document,
            (*path, "source"),
            f"source '{metric['source']}' is not supported: only Prometheus queries become rules",
        )
        return None
    if metric.get("queryType", "promql").lower() not in ("promql", "query"):
        catalog.found.error(
            document, (*path, "queryType"), f"queryType '{metric['queryType']}' is not PromQL"
        )
        return None
    return Query(metric["query"], document, (*path, "query"))


def native_sli(
    catalog: Catalog, indicator: Indicator, objective: Objective
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The native ``sli`` of one objective, and the labels its queries keep (group_by)."""
    if indicator.kind == "threshold":
        query = indicator.queries["threshold"]
        return _threshold_sli(catalog, query, objective)
    if indicator.kind == "raw":
        query = indicator.queries["raw"]
        ratio = _instant_or_window(catalog, query)
        if indicator.raw_is_success:
            ratio = f"1 - ({ratio})"
        group_by = group_by_of(catalog.found, [(query.document, query.path, ratio)])
        return error_ratio_sli(ratio), group_by
    events = {
        role: _events(catalog, query, indicator.counter)
        for role, query in indicator.queries.items()
    }
    group_by = group_by_of(
        catalog.found,
        [(q.document, q.path, events[role]) for role, q in indicator.queries.items()],
    )
    return {"ratio": events}, group_by


def sli_origin(indicator: Indicator) -> tuple[Document, PathKey]:
    """Where the indicator's first query was written (for messages about the whole SLI)."""
    query = next(iter(indicator.queries.values()))
    return query.document, query.path


def _events(catalog: Catalog, query: Query, counter: bool) -> str:
    """A query of event rates with ``$window``, or a counter selector as it is."""
    if has_window(query.text):
        return converted_query(catalog.found, query.document, query.path, query.text)
    try:
        parse_selector(query.text)
    except PromQLError:
        catalog.found.error(
            query.document,
            query.path,
            'give a counter selector such as http_requests_total{code=~"5.."}, or a '
            "query of per-second rates with {{.window}} where the range goes",
        )
        return query.text
    if not counter:
        catalog.found.error(
            query.document,
            query.path,
            "counter: false with a plain selector: give a query of per-second rates with "
            "{{.window}} where the range goes",
        )
    return query.text.strip()


def _instant_or_window(catalog: Catalog, query: Query) -> str:
    """A ratio query with ``$window``: as written if it has one, else its mean over the
    window at the threshold resolution."""
    if has_window(query.text):
        return converted_query(catalog.found, query.document, query.path, query.text)
    try:
        parse(query.text)
    except PromQLError as exc:
        catalog.found.error(query.document, query.path, f"PromQL does not parse: {exc}")
    return f"avg_over_time(({query.text.strip()})[$window:{THRESHOLD_RESOLUTION}])"


def _threshold_sli(
    catalog: Catalog, query: Query, objective: Objective
) -> tuple[dict[str, Any], tuple[str, ...]]:
    text = (
        converted_query(catalog.found, query.document, query.path, query.text)
        if has_window(query.text)
        else query.text.strip()
    )
    try:
        parse(substitute_window(text, "5m"))
    except PromQLError as exc:
        catalog.found.error(query.document, query.path, f"PromQL does not parse: {exc}")
    assert objective.op is not None and objective.value is not None
    group_by = result_labels(text) or ()
    by = f" by ({', '.join(group_by)})" if group_by else ""
    value = burn_rate.format_number(objective.value)
    bad_points = (
        f"avg_over_time((({text}) {_BAD_WHEN[objective.op]} bool {value})"
        f"[$window:{THRESHOLD_RESOLUTION}])"
    )
    return {
        "ratio": {
            "bad": f"avg{by} ({bad_points})",
            "total": f"clamp_max(count{by} ({bad_points}), 1)",
        }
    }, group_by

"""OpenSLO v1 and v1alpha objects as native SLOs.

OpenSLO splits an SLO over objects that name each other (an SLO's ``indicatorRef`` names an
SLI, ``alertPolicies`` name AlertPolicies, whose ``conditionRef`` names an AlertCondition,
whose metrics may name a DataSource), and those may sit in different files. A
:class:`Bundle` collects every OpenSLO object of a run first and resolves the names across
it. Each objective of an SLO becomes one native SLO; Prometheus ratio metrics become event
ratios, threshold metrics the share of bad data points, and each AlertPolicy one burn-rate
tier (OpenSLO has no short window: it is 1/12 of the lookback window, the SRE workbook's
ratio). Without alert policies an SLO is recorded without alerts, as Sloth does.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from compiler import burn_rate, conventions
from compiler.diagnostics import Diagnostic
from compiler.durations import Duration
from compiler.formats.draft import Findings, Origin, SloDraft, owner_from_labels
from compiler.formats.foreign import (
    converted_query,
    error_ratio_sli,
    group_by_of,
    has_window,
    is_native_name,
    is_reserved_label,
    label_name,
    label_value,
    native_name,
    plain_number,
    result_labels,
)
from compiler.loader import Document, PathKey
from compiler.promql import PromQLError, parse, parse_selector
from compiler.schema_check import check

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
VERSIONS = (V1, V1ALPHA)
_SCHEMAS = {V1: "openslo-v1.schema.json", V1ALPHA: "openslo-v1alpha.schema.json"}
DEFAULT_PERIOD = "30d"  # as Sloth, when an SLO names no time window
# Threshold SLIs count data points at this resolution.
THRESHOLD_RESOLUTION = "1m"
_SHORT_WINDOW_DIVISOR = 12  # 1h/5m, 6h/30m, 1d/2h, 3d/6h
_BAD_WHEN = {"lte": ">", "lt": ">=", "gte": "<", "gt": "<="}  # op says what is good
_SEVERITIES = {
    "page": "critical",
    "critical": "critical",
    "ticket": "warning",
    "warning": "warning",
    "info": "info",
}
_FIXED_UNITS = "mhdw"  # OpenSLO's M, Q and Y have no fixed length
_V1ALPHA_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}


@dataclass(frozen=True)
class _Object:
    """One OpenSLO object and where it was written (``base``: its path in the document)."""

    version: str
    kind: str
    name: str
    document: Document
    base: PathKey
    data: dict[str, Any]

    def at(self, *path: str | int) -> PathKey:
        """A path inside this object, from the document's root."""
        return (*self.base, *path)

    @property
    def spec(self) -> dict[str, Any]:
        """The object's ``spec``."""
        spec: dict[str, Any] = self.data["spec"]
        return spec

    @property
    def format(self) -> str:
        """How messages and headers name this object's format."""
        return f"OpenSLO {self.version.split('/')[1]}"


@dataclass
class _Query:
    """A query as written: its text and where."""

    text: str
    document: Document
    path: PathKey


@dataclass
class _Indicator:
    """An SLI: ``ratio`` (good or bad, and total), ``raw`` (a ratio) or ``threshold``."""

    kind: str
    queries: dict[str, _Query] = field(default_factory=dict)
    counter: bool = True
    raw_is_success: bool = False


@dataclass
class _Objective:
    percent: Decimal
    op: str | None
    value: float | None
    path: PathKey


class Bundle:
    """The OpenSLO objects of one run, converted together so that references resolve."""

    def __init__(self) -> None:
        self.objects: list[_Object] = []
        self.found = Findings()
        self._index: dict[tuple[str, str], _Object] = {}

    def add(self, document: Document, base: PathKey, data: dict[str, Any]) -> None:
        """Check one object against its version's schema and keep it."""
        version = data["apiVersion"]
        problems = check(document, _SCHEMAS[version], base)
        if problems:
            self.found.extend(problems)
            return
        name = data["metadata"]["name"]
        obj = _Object(version, data["kind"], name, document, base, data)
        first = self._index.get((obj.kind, name))
        if first is not None:
            self.found.error(
                document,
                obj.at("metadata", "name"),
                f"{obj.kind} '{name}' is also defined in "
                f"{first.document.locate(first.at('metadata', 'name')).file}:"
                f"{first.document.line(first.at('metadata', 'name'))}",
            )
            return
        self._index[obj.kind, name] = obj
        self.objects.append(obj)

    def convert(self) -> tuple[list[SloDraft], list[Diagnostic]]:
        """Every objective of every SLO as a draft, or the reasons they cannot be built."""
        drafts: list[SloDraft] = []
        for obj in self.objects:
            if obj.kind == "SLO":
                drafts.extend(self._slo(obj))
        if self.found.failed:
            return [], self.found.diagnostics
        return drafts, self.found.diagnostics

    # -- references -------------------------------------------------------------------

    def _get(self, kind: str, name: str, document: Document, path: PathKey) -> _Object | None:
        obj = self._index.get((kind, name))
        if obj is None:
            names = sorted(n for k, n in self._index if k == kind)
            close = difflib.get_close_matches(name, names, n=1)
            if close:
                hint = f" (did you mean '{close[0]}'?)"
            elif names:
                hint = f"; {kind} objects found: {', '.join(names)}"
            else:
                hint = f"; no {kind} object was found in the files given"
            self.found.error(document, path, f"no {kind} named '{name}'{hint}")
        return obj

    # -- SLO ----------------------------------------------------------------------------

    def _slo(self, obj: _Object) -> list[SloDraft]:
        spec = obj.spec
        service_path = obj.at("spec", "service")
        service = native_name(spec["service"])
        if service != spec["service"] and is_native_name(service):
            self.found.warn(
                obj.document,
                service_path,
                f"service name '{spec['service']}' becomes '{service}' (names files and rule "
                "groups: lower-case letters, digits and dashes)",
            )
        indicator = self._v1_indicator(obj) if obj.version == V1 else self._v1alpha_indicator(obj)
        objectives = self._objectives(obj, indicator)
        period = self._period(obj)
        self._budgeting(obj)
        alerting, alert_origins = self._alerting(obj, indicator)
        labels, label_origins = self._labels(obj)
        service_obj = self._index.get(("Service", spec["service"]))
        owner_labels = obj.data["metadata"].get("labels", {})
        owner = owner_from_labels(owner_labels)
        owner_origin = Origin(obj.document, obj.at("metadata", "labels"))
        if owner is None and service_obj is not None:
            owner = owner_from_labels(service_obj.data["metadata"].get("labels", {}))
            owner_origin = Origin(service_obj.document, service_obj.at("metadata", "labels"))
        if indicator is None or period is None:
            return []
        drafts = []
        for objective in objectives:
            name = obj.name if len(objectives) == 1 else f"{obj.name}-{objective.path[-1]}"
            sli, group_by = self._sli(indicator, objective)
            data: dict[str, Any] = {"name": name}
            if spec.get("description"):
                data["description"] = spec["description"]
            data["objective"] = plain_number(objective.percent)
            data["period"] = period
            if labels:
                data["labels"] = labels
            if group_by:
                data["group_by"] = list(group_by)
            data["sli"] = sli
            data["alerting"] = alerting
            draft = SloDraft(
                service=service,
                service_origin=Origin(obj.document, service_path),
                data=data,
                format=obj.format,
                owner=owner,
                owner_origin=owner_origin if owner else None,
                service_description=(
                    service_obj.spec.get("description", "") if service_obj else ""
                ),
            )
            draft.trace((), obj.document, obj.at("metadata", "name"))
            draft.trace(("description",), obj.document, obj.at("spec", "description"))
            draft.trace(("objective",), obj.document, objective.path)
            draft.trace(("period",), obj.document, obj.at("spec"))
            draft.trace(("sli",), *self._sli_origin(indicator))
            for role, query in indicator.queries.items():
                native_role = {"raw": "bad", "threshold": "bad", "good": "good"}.get(role, role)
                draft.trace(("sli", "ratio", native_role), query.document, query.path)
            draft.origins.update({("labels", *k): v for k, v in label_origins.items()})
            draft.origins.update({("alerting", *k): v for k, v in alert_origins.items()})
            drafts.append(draft)
        return drafts

    @staticmethod
    def _sli_origin(indicator: _Indicator) -> tuple[Document, PathKey]:
        query = next(iter(indicator.queries.values()))
        return query.document, query.path

    def _objectives(self, obj: _Object, indicator: _Indicator | None) -> list[_Objective]:
        result = []
        for index, raw in enumerate(obj.spec["objectives"]):
            path = obj.at("spec", "objectives", index)
            has_target, has_percent = "target" in raw, "targetPercent" in raw
            if has_target == has_percent:
                self.found.error(obj.document, path, "give either target or targetPercent")
                continue
            percent = (
                Decimal(repr(float(raw["target"]))) * 100
                if has_target
                else Decimal(repr(float(raw["targetPercent"])))
            )
            op, value = raw.get("op"), raw.get("value")
            if indicator is not None and indicator.kind == "threshold":
                if op is None or value is None:
                    self.found.error(
                        obj.document,
                        path,
                        "a thresholdMetric objective needs op and value (good when the "
                        "metric is op value, e.g. op: lte, value: 0.25)",
                    )
                    continue
            elif op is not None or value is not None:
                self.found.error(
                    obj.document,
                    path,
                    "op and value apply to thresholdMetric SLIs only; a ratio SLI has none",
                )
                continue
            result.append(_Objective(burn_rate.exact(percent), op, value, path))
        return result

    def _period(self, obj: _Object) -> str | None:
        spec = obj.spec
        if obj.version == V1:
            windows = spec.get("timeWindow")
            if not windows:
                return DEFAULT_PERIOD
            window, path = windows[0], obj.at("spec", "timeWindow", 0)
            text: str = window["duration"]
            if text[-1] not in _FIXED_UNITS:
                self.found.error(
                    obj.document,
                    (*path, "duration"),
                    f"'{text}': months, quarters and years have no fixed length; give the "
                    "period in days or weeks (e.g. 28d, 4w)",
                )
                return None
            period = text
        else:
            windows = spec.get("timeWindows")
            if not windows:
                return DEFAULT_PERIOD
            window, path = windows[0], obj.at("spec", "timeWindows", 0)
            unit = _V1ALPHA_UNITS.get(window["unit"].lower())
            if unit is None:
                self.found.error(
                    obj.document,
                    (*path, "unit"),
                    f"unit '{window['unit']}': months, quarters and years have no fixed "
                    f"length; give the period in {', '.join(u.title() for u in _V1ALPHA_UNITS)}",
                )
                return None
            period = f"{window['count']}{unit}"
        if window.get("isRolling") is False or "calendar" in window:
            self.found.warn(
                obj.document,
                path,
                f"calendar-aligned windows are not supported: the objective is evaluated over "
                f"a rolling {period}",
            )
        return period

    def _budgeting(self, obj: _Object) -> None:
        spec = obj.spec
        method = spec.get("budgetingMethod", "Occurrences")
        slices = any(
            key in objective
            for objective in spec["objectives"]
            for key in ("timeSliceTarget", "timeSliceWindow")
        )
        if method != "Occurrences" or slices:
            self.found.warn(
                obj.document,
                obj.at("spec", "budgetingMethod") if "budgetingMethod" in spec else obj.at("spec"),
                f"budgetingMethod {method}: time slices are not supported; the objective "
                "counts occurrences (good events, or good data points, over all)",
            )

    def _labels(self, obj: _Object) -> tuple[dict[str, str], dict[PathKey, Origin]]:
        labels: dict[str, str] = {}
        origins: dict[PathKey, Origin] = {}
        for key, value in obj.data["metadata"].get("labels", {}).items():
            path = obj.at("metadata", "labels", key)
            name = label_name(key)
            if is_reserved_label(name):
                self.found.warn(
                    obj.document, path, f"label '{key}' is dropped: the compiler sets it itself"
                )
                continue
            if name != key:
                self.found.warn(
                    obj.document, path, f"label '{key}' becomes '{name}' (a Prometheus label name)"
                )
            labels[name] = label_value(value)
            origins[(name,)] = Origin(obj.document, path)
        return labels, origins

    # -- indicators ---------------------------------------------------------------------

    def _v1_indicator(self, obj: _Object) -> _Indicator | None:
        spec = obj.spec
        if ("indicator" in spec) == ("indicatorRef" in spec):
            self.found.error(obj.document, obj.at("spec"), "give either indicator or indicatorRef")
            return None
        if "indicator" in spec:
            document, base, sli = (
                obj.document,
                obj.at("spec", "indicator", "spec"),
                spec["indicator"]["spec"],
            )
        else:
            ref = self._get(
                "SLI", spec["indicatorRef"], obj.document, obj.at("spec", "indicatorRef")
            )
            if ref is None:
                return None
            document, base, sli = ref.document, ref.at("spec"), ref.spec
        if ("ratioMetric" in sli) == ("thresholdMetric" in sli):
            self.found.error(document, base, "give either ratioMetric or thresholdMetric")
            return None
        if "thresholdMetric" in sli:
            query = self._metric_source(
                document, (*base, "thresholdMetric"), sli["thresholdMetric"]
            )
            return None if query is None else _Indicator("threshold", {"threshold": query})
        ratio = sli["ratioMetric"]
        path = (*base, "ratioMetric")
        if "raw" in ratio:
            extra = [key for key in ("good", "bad", "total") if key in ratio]
            if extra or "rawType" not in ratio:
                self.found.error(
                    document,
                    path,
                    "a raw ratioMetric takes raw and rawType only"
                    if extra
                    else "a raw ratioMetric needs rawType (success or failure)",
                )
                return None
            query = self._metric_source(document, (*path, "raw"), ratio["raw"])
            if query is None:
                return None
            return _Indicator("raw", {"raw": query}, raw_is_success=ratio["rawType"] == "success")
        if ("good" in ratio) == ("bad" in ratio) or "total" not in ratio:
            self.found.error(document, path, "give total, and either good or bad")
            return None
        queries = {}
        for role in ("good", "bad", "total"):
            if role in ratio:
                query = self._metric_source(document, (*path, role), ratio[role])
                if query is None:
                    return None
                queries[role] = query
        return _Indicator("ratio", queries, counter=ratio.get("counter", True))

    def _v1alpha_indicator(self, obj: _Object) -> _Indicator | None:
        spec = obj.spec
        ratios = [
            (index, objective["ratioMetrics"])
            for index, objective in enumerate(spec["objectives"])
            if "ratioMetrics" in objective
        ]
        threshold = spec.get("indicator", {}).get("thresholdMetric")
        if threshold is not None:
            if ratios:
                self.found.error(
                    obj.document,
                    obj.at("spec", "objectives", ratios[0][0], "ratioMetrics"),
                    "an SLO with an indicator.thresholdMetric has no ratioMetrics",
                )
                return None
            path = obj.at("spec", "indicator", "thresholdMetric")
            query = self._v1alpha_metric(obj.document, path, threshold)
            return None if query is None else _Indicator("threshold", {"threshold": query})
        if len(ratios) != len(spec["objectives"]):
            self.found.error(
                obj.document,
                obj.at("spec", "objectives"),
                "each objective needs ratioMetrics (or the SLO an indicator.thresholdMetric)",
            )
            return None
        index, ratio = ratios[0]
        if any(other != ratio for _, other in ratios):
            self.found.error(
                obj.document,
                obj.at("spec", "objectives"),
                "objectives with different ratioMetrics: write one SLO per indicator",
            )
            return None
        path = obj.at("spec", "objectives", index, "ratioMetrics")
        queries = {}
        for role in ("good", "total"):
            query = self._v1alpha_metric(obj.document, (*path, role), ratio[role])
            if query is None:
                return None
            queries[role] = query
        counter = ratio.get("counter", ratio.get("incremental", True))
        return _Indicator("ratio", queries, counter=counter)

    def _metric_source(
        self, document: Document, path: PathKey, metric: dict[str, Any]
    ) -> _Query | None:
        source = metric["metricSource"]
        kind = source.get("type")
        if kind is None and "metricSourceRef" in source:
            ref = self._get(
                "DataSource",
                source["metricSourceRef"],
                document,
                (*path, "metricSource", "metricSourceRef"),
            )
            if ref is None:
                return None
            kind = ref.spec["type"]
        if kind is None:
            self.found.error(
                document,
                (*path, "metricSource"),
                "say where the metric comes from: type: Prometheus, or a metricSourceRef to "
                "a DataSource",
            )
            return None
        if kind.lower() != "prometheus":
            self.found.error(
                document,
                (*path, "metricSource"),
                f"metric source type '{kind}' is not supported: only Prometheus queries become "
                "rules",
            )
            return None
        query_path = (*path, "metricSource", "spec", "query")
        return _Query(source["spec"]["query"], document, query_path)

    def _v1alpha_metric(
        self, document: Document, path: PathKey, metric: dict[str, Any]
    ) -> _Query | None:
        if metric["source"].lower() != "prometheus":
            self.found.error(
                document,
                (*path, "source"),
                f"source '{metric['source']}' is not supported: only Prometheus queries become "
                "rules",
            )
            return None
        if metric.get("queryType", "promql").lower() not in ("promql", "query"):
            self.found.error(
                document, (*path, "queryType"), f"queryType '{metric['queryType']}' is not PromQL"
            )
            return None
        return _Query(metric["query"], document, (*path, "query"))

    def _sli(
        self, indicator: _Indicator, objective: _Objective
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        if indicator.kind == "threshold":
            query = indicator.queries["threshold"]
            return self._threshold_sli(query, objective)
        if indicator.kind == "raw":
            query = indicator.queries["raw"]
            ratio = self._instant_or_window(query)
            if indicator.raw_is_success:
                ratio = f"1 - ({ratio})"
            group_by = group_by_of(self.found, [(query.document, query.path, ratio)])
            return error_ratio_sli(ratio), group_by
        events = {
            role: self._events(query, indicator.counter)
            for role, query in indicator.queries.items()
        }
        group_by = group_by_of(
            self.found,
            [(q.document, q.path, events[role]) for role, q in indicator.queries.items()],
        )
        return {"ratio": events}, group_by

    def _events(self, query: _Query, counter: bool) -> str:
        """A query of event rates with ``$window``, or a counter selector as it is."""
        if has_window(query.text):
            return converted_query(self.found, query.document, query.path, query.text)
        try:
            parse_selector(query.text)
        except PromQLError:
            self.found.error(
                query.document,
                query.path,
                'give a counter selector such as http_requests_total{code=~"5.."}, or a '
                "query of per-second rates with {{.window}} where the range goes",
            )
            return query.text
        if not counter:
            self.found.error(
                query.document,
                query.path,
                "counter: false with a plain selector: give a query of per-second rates with "
                "{{.window}} where the range goes",
            )
        return query.text.strip()

    def _instant_or_window(self, query: _Query) -> str:
        """A ratio query with ``$window``: as written if it has one, else its mean over the
        window at the threshold resolution."""
        if has_window(query.text):
            return converted_query(self.found, query.document, query.path, query.text)
        try:
            parse(query.text)
        except PromQLError as exc:
            self.found.error(query.document, query.path, f"PromQL does not parse: {exc}")
        return f"avg_over_time(({query.text.strip()})[$window:{THRESHOLD_RESOLUTION}])"

    def _threshold_sli(
        self, query: _Query, objective: _Objective
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        text = (
            converted_query(self.found, query.document, query.path, query.text)
            if has_window(query.text)
            else query.text.strip()
        )
        try:
            parse(text.replace("$window", "5m"))
        except PromQLError as exc:
            self.found.error(query.document, query.path, f"PromQL does not parse: {exc}")
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

    # -- alerting -------------------------------------------------------------------------

    def _alerting(
        self, obj: _Object, indicator: _Indicator | None
    ) -> tuple[dict[str, Any], dict[PathKey, Origin]]:
        policies = obj.spec.get("alertPolicies", [])
        origins: dict[PathKey, Origin] = {(): Origin(obj.document, obj.at("spec"))}
        if not policies:
            how = (
                "add alertPolicies for burn-rate alerts"
                if obj.version == V1
                else "OpenSLO v1alpha has no alerting: use v1 alertPolicies, or `slo convert` "
                "and add alerting tiers"
            )
            self.found.warn(
                obj.document,
                obj.at("metadata", "name"),
                f"SLO '{obj.name}' has no alert policies, so it is recorded without alerts "
                f"(as Sloth does); {how}",
            )
            return {"disabled": True}, origins
        tiers: list[dict[str, Any]] = []
        for index, entry in enumerate(policies):
            tier = self._tier(obj, index, entry, origins, len(tiers))
            if tier is not None:
                tiers.append(tier)
        if not tiers:
            return {"disabled": True}, origins
        alerting: dict[str, Any] = {"tiers": tiers}
        if indicator is not None and indicator.kind != "ratio":
            alerting["low_traffic"] = False
            self.found.warn(
                obj.document,
                obj.at("spec", "alertPolicies"),
                f"a {indicator.kind} SLI carries no event counts, so the low-traffic guard "
                "cannot apply to its alerts",
            )
        return alerting, origins

    def _tier(
        self,
        obj: _Object,
        index: int,
        entry: Any,
        origins: dict[PathKey, Origin],
        position: int,
    ) -> dict[str, Any] | None:
        entry_path = obj.at("spec", "alertPolicies", index)
        if isinstance(entry, str) or "alertPolicyRef" in entry:
            name = entry if isinstance(entry, str) else entry["alertPolicyRef"]
            ref_path = entry_path if isinstance(entry, str) else (*entry_path, "alertPolicyRef")
            policy = self._get("AlertPolicy", name, obj.document, ref_path)
            if policy is None:
                return None
            document, base, spec = policy.document, policy.base, policy.spec
        else:
            name, document, base, spec = (
                entry["metadata"]["name"],
                obj.document,
                entry_path,
                entry["spec"],
            )
        if spec.get("alertWhenBreaching") is False:
            self.found.warn(
                document,
                (*base, "spec", "alertWhenBreaching"),
                f"alert policy '{name}' alerts only on no data or resolution, which burn-rate "
                "rules cannot express: it adds no alert",
            )
            return None
        if spec.get("alertWhenNoData"):
            self.found.warn(
                document,
                (*base, "spec", "alertWhenNoData"),
                "alertWhenNoData is not supported: without traffic the SLO's alerts stay silent",
            )
        condition_entry = spec["conditions"][0]
        condition_path = (*base, "spec", "conditions", 0)
        if "conditionRef" in condition_entry:
            ref = self._get(
                "AlertCondition",
                condition_entry["conditionRef"],
                document,
                (*condition_path, "conditionRef"),
            )
            if ref is None:
                return None
            c_document, c_base, c_spec = ref.document, ref.base, ref.spec
        else:
            c_document, c_base, c_spec = document, condition_path, condition_entry["spec"]
        condition, path = c_spec["condition"], (*c_base, "spec", "condition")
        if condition.get("op", "gt") not in ("gt", "gte"):
            self.found.error(
                c_document,
                (*path, "op"),
                f"op '{condition['op']}': a burn-rate alert fires when the burn rate is above "
                "the threshold (gt or gte)",
            )
            return None
        severity = _SEVERITIES.get(c_spec["severity"].lower())
        if severity is None:
            self.found.error(
                c_document,
                (*c_base, "spec", "severity"),
                f"severity '{c_spec['severity']}' is not known: use page (or critical), ticket "
                "(or warning), or info",
            )
            return None
        long_window = self._shorthand(
            c_document, (*path, "lookbackWindow"), condition["lookbackWindow"]
        )
        if long_window is None:
            return None
        if long_window.seconds // _SHORT_WINDOW_DIVISOR < 60:
            self.found.error(
                c_document,
                (*path, "lookbackWindow"),
                f"lookbackWindow {long_window} is too short: the short window (1/12 of it) "
                "must be at least 1m",
            )
            return None
        short_window = Duration(long_window.seconds // _SHORT_WINDOW_DIVISOR)
        tier: dict[str, Any] = {
            "alert": conventions.camel_case(name),
            "severity": severity,
            "long_window": str(long_window),
            "short_window": str(short_window),
            "burn_factor": condition["threshold"],
        }
        after = condition.get("alertAfter", "0m")
        if int(after[:-1]):
            wait = self._shorthand(c_document, (*path, "alertAfter"), after)
            if wait is not None:
                tier["for"] = str(wait)
        tier_path: PathKey = ("tiers", position)
        origins[tier_path] = Origin(c_document, path)
        origins[(*tier_path, "alert")] = Origin(document, (*base, "metadata", "name"))
        origins[(*tier_path, "long_window")] = Origin(c_document, (*path, "lookbackWindow"))
        origins[(*tier_path, "burn_factor")] = Origin(c_document, (*path, "threshold"))
        return tier

    def _shorthand(self, document: Document, path: PathKey, text: str) -> Duration | None:
        if text[-1] not in _FIXED_UNITS:
            self.found.error(
                document, path, f"'{text}': give minutes, hours, days or weeks (m, h, d, w)"
            )
            return None
        return Duration.parse(text)

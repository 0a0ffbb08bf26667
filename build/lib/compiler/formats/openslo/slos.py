"""OpenSLO SLO objects as native SLO drafts: one per objective.

The SLO's service, description, time window and labels, its indicator (inline or by name),
and its alert policies are gathered from wherever they were written in the run.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from compiler import burn_rate
from compiler.diagnostics import Diagnostic
from compiler.formats.draft import Origin, SloDraft, owner_from_labels
from compiler.formats.foreign import (
    is_reserved_label,
    label_name,
    label_value,
    plain_number,
    renamed,
)
from compiler.formats.openslo.alerting import FIXED_UNITS, alerting
from compiler.formats.openslo.catalog import V1, Catalog, OpenSLOObject
from compiler.formats.openslo.indicators import (
    Indicator,
    Objective,
    native_sli,
    sli_origin,
    v1_indicator,
    v1alpha_indicator,
)
from compiler.load.loader import PathKey

DEFAULT_PERIOD = "30d"  # as Sloth, when an SLO names no time window
_V1ALPHA_UNITS = {"second": "s", "minute": "m", "hour": "h", "day": "d", "week": "w"}


def convert(catalog: Catalog) -> tuple[list[SloDraft], list[Diagnostic]]:
    """Every objective of every SLO in ``catalog`` as a draft, or why they cannot be built."""
    drafts: list[SloDraft] = []
    for obj in catalog.objects:
        if obj.kind == "SLO":
            drafts.extend(_slo(catalog, obj))
    if catalog.found.failed:
        return [], catalog.found.diagnostics
    return drafts, catalog.found.diagnostics


def _slo(catalog: Catalog, obj: OpenSLOObject) -> list[SloDraft]:
    """One draft per objective of an SLO object (none if something is wrong)."""
    spec = obj.spec
    service_path = obj.at("spec", "service")
    service = renamed(catalog.found, obj.document, service_path, spec["service"], "service")
    indicator = v1_indicator(catalog, obj) if obj.version == V1 else v1alpha_indicator(catalog, obj)
    objectives = _objectives(catalog, obj, indicator)
    period = _period(catalog, obj)
    _budgeting(catalog, obj)
    alerting_data, alert_origins = alerting(catalog, obj, indicator)
    labels, label_origins = _labels(catalog, obj)
    service_obj = catalog.find("Service", spec["service"])
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
        sli, group_by = native_sli(catalog, indicator, objective)
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
        data["alerting"] = alerting_data
        draft = SloDraft(
            service=service,
            service_origin=Origin(obj.document, service_path),
            data=data,
            format=obj.format,
            owner=owner,
            owner_origin=owner_origin if owner else None,
            service_description=(service_obj.spec.get("description", "") if service_obj else ""),
        )
        draft.trace((), obj.document, obj.at("metadata", "name"))
        draft.trace(("description",), obj.document, obj.at("spec", "description"))
        draft.trace(("objective",), obj.document, objective.path)
        draft.trace(("period",), obj.document, obj.at("spec"))
        draft.trace(("sli",), *sli_origin(indicator))
        for role, query in indicator.queries.items():
            native_role = {"raw": "bad", "threshold": "bad", "good": "good"}.get(role, role)
            draft.trace(("sli", "ratio", native_role), query.document, query.path)
        draft.origins.update({("labels", *k): v for k, v in label_origins.items()})
        draft.origins.update({("alerting", *k): v for k, v in alert_origins.items()})
        drafts.append(draft)
    return drafts


def _objectives(
    catalog: Catalog, obj: OpenSLOObject, indicator: Indicator | None
) -> list[Objective]:
    result = []
    for index, raw in enumerate(obj.spec["objectives"]):
        path = obj.at("spec", "objectives", index)
        has_target, has_percent = "target" in raw, "targetPercent" in raw
        if has_target == has_percent:
            catalog.found.error(obj.document, path, "give either target or targetPercent")
            continue
        percent = (
            Decimal(repr(float(raw["target"]))) * 100
            if has_target
            else Decimal(repr(float(raw["targetPercent"])))
        )
        op, value = raw.get("op"), raw.get("value")
        if indicator is not None and indicator.kind == "threshold":
            if op is None or value is None:
                catalog.found.error(
                    obj.document,
                    path,
                    "a thresholdMetric objective needs op and value (good when the "
                    "metric is op value, e.g. op: lte, value: 0.25)",
                )
                continue
        elif op is not None or value is not None:
            catalog.found.error(
                obj.document,
                path,
                "op and value apply to thresholdMetric SLIs only; a ratio SLI has none",
            )
            continue
        result.append(Objective(burn_rate.exact(percent), op, value, path))
    return result


def _period(catalog: Catalog, obj: OpenSLOObject) -> str | None:
    spec = obj.spec
    if obj.version == V1:
        windows = spec.get("timeWindow")
        if not windows:
            return DEFAULT_PERIOD
        window, path = windows[0], obj.at("spec", "timeWindow", 0)
        text: str = window["duration"]
        if text[-1] not in FIXED_UNITS:
            catalog.found.error(
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
            catalog.found.error(
                obj.document,
                (*path, "unit"),
                f"unit '{window['unit']}': months, quarters and years have no fixed "
                f"length; give the period in {', '.join(u.title() for u in _V1ALPHA_UNITS)}",
            )
            return None
        period = f"{window['count']}{unit}"
    if window.get("isRolling") is False or "calendar" in window:
        catalog.found.warn(
            obj.document,
            path,
            f"calendar-aligned windows are not supported: the objective is evaluated over "
            f"a rolling {period}",
        )
    return period


def _budgeting(catalog: Catalog, obj: OpenSLOObject) -> None:
    spec = obj.spec
    method = spec.get("budgetingMethod", "Occurrences")
    slices = any(
        key in objective
        for objective in spec["objectives"]
        for key in ("timeSliceTarget", "timeSliceWindow")
    )
    if method != "Occurrences" or slices:
        catalog.found.warn(
            obj.document,
            obj.at("spec", "budgetingMethod") if "budgetingMethod" in spec else obj.at("spec"),
            f"budgetingMethod {method}: time slices are not supported; the objective "
            "counts occurrences (good events, or good data points, over all)",
        )


def _labels(catalog: Catalog, obj: OpenSLOObject) -> tuple[dict[str, str], dict[PathKey, Origin]]:
    labels: dict[str, str] = {}
    origins: dict[PathKey, Origin] = {}
    for key, value in obj.data["metadata"].get("labels", {}).items():
        path = obj.at("metadata", "labels", key)
        name = label_name(key)
        if is_reserved_label(name):
            catalog.found.warn(
                obj.document, path, f"label '{key}' is dropped: the compiler sets it itself"
            )
            continue
        if name != key:
            catalog.found.warn(
                obj.document, path, f"label '{key}' becomes '{name}' (a Prometheus label name)"
            )
        labels[name] = label_value(value)
        origins[(name,)] = Origin(obj.document, path)
    return labels, origins

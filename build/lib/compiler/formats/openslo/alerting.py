"""OpenSLO alert policies as native burn-rate tiers.

Each AlertPolicy (named, referenced, or inline) of an SLO becomes one tier: its condition's
threshold is the burn factor, its lookback window the long window, ``alertAfter`` the
``for``, and its severity ``page``/``ticket`` the tier's ``critical``/``warning``. OpenSLO
has no short window: it is 1/12 of the long one, the SRE workbook's ratio (1h/5m, 6h/30m,
1d/2h, 3d/6h). Without alert policies an SLO is recorded without alerts, as Sloth does.
"""

from __future__ import annotations

from typing import Any

from compiler import conventions
from compiler.durations import Duration
from compiler.formats.draft import Origin
from compiler.formats.openslo.catalog import V1, Catalog, OpenSLOObject
from compiler.formats.openslo.indicators import Indicator
from compiler.load.loader import Document, PathKey

_SHORT_WINDOW_DIVISOR = 12
_SEVERITIES = {
    "page": "critical",
    "critical": "critical",
    "ticket": "warning",
    "warning": "warning",
    "info": "info",
}
FIXED_UNITS = "mhdw"  # OpenSLO's M, Q and Y have no fixed length


def alerting(
    catalog: Catalog, obj: OpenSLOObject, indicator: Indicator | None
) -> tuple[dict[str, Any], dict[PathKey, Origin]]:
    """The native ``alerting`` of an SLO, and where each tier came from (paths relative to
    ``alerting``)."""
    policies = obj.spec.get("alertPolicies", [])
    origins: dict[PathKey, Origin] = {(): Origin(obj.document, obj.at("spec"))}
    if not policies:
        how = (
            "add alertPolicies for burn-rate alerts"
            if obj.version == V1
            else "OpenSLO v1alpha has no alerting: use v1 alertPolicies, or `slo convert` "
            "and add alerting tiers"
        )
        catalog.found.warn(
            obj.document,
            obj.at("metadata", "name"),
            f"SLO '{obj.name}' has no alert policies, so it is recorded without alerts "
            f"(as Sloth does); {how}",
        )
        return {"disabled": True}, origins
    tiers: list[dict[str, Any]] = []
    for index, entry in enumerate(policies):
        tier = _tier(catalog, obj, index, entry, origins, len(tiers))
        if tier is not None:
            tiers.append(tier)
    if not tiers:
        return {"disabled": True}, origins
    result: dict[str, Any] = {"tiers": tiers}
    if indicator is not None and indicator.kind != "ratio":
        result["low_traffic"] = False
        catalog.found.warn(
            obj.document,
            obj.at("spec", "alertPolicies"),
            f"a {indicator.kind} SLI carries no event counts, so the low-traffic guard "
            "cannot apply to its alerts",
        )
    return result, origins


def _tier(
    catalog: Catalog,
    obj: OpenSLOObject,
    index: int,
    entry: Any,
    origins: dict[PathKey, Origin],
    position: int,
) -> dict[str, Any] | None:
    entry_path = obj.at("spec", "alertPolicies", index)
    if isinstance(entry, str) or "alertPolicyRef" in entry:
        name = entry if isinstance(entry, str) else entry["alertPolicyRef"]
        ref_path = entry_path if isinstance(entry, str) else (*entry_path, "alertPolicyRef")
        policy = catalog.get("AlertPolicy", name, obj.document, ref_path)
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
        catalog.found.warn(
            document,
            (*base, "spec", "alertWhenBreaching"),
            f"alert policy '{name}' alerts only on no data or resolution, which burn-rate "
            "rules cannot express: it adds no alert",
        )
        return None
    if spec.get("alertWhenNoData"):
        catalog.found.warn(
            document,
            (*base, "spec", "alertWhenNoData"),
            "alertWhenNoData is not supported: without traffic the SLO's alerts stay silent",
        )
    condition_entry = spec["conditions"][0]
    condition_path = (*base, "spec", "conditions", 0)
    if "conditionRef" in condition_entry:
        ref = catalog.get(
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
        catalog.found.error(
            c_document,
            (*path, "op"),
            f"op '{condition['op']}': a burn-rate alert fires when the burn rate is above "
            "the threshold (gt or gte)",
        )
        return None
    severity = _SEVERITIES.get(c_spec["severity"].lower())
    if severity is None:
        catalog.found.error(
            c_document,
            (*c_base, "spec", "severity"),
            f"severity '{c_spec['severity']}' is not known: use page (or critical), ticket "
            "(or warning), or info",
        )
        return None
    long_window = _shorthand(
        catalog, c_document, (*path, "lookbackWindow"), condition["lookbackWindow"]
    )
    if long_window is None:
        return None
    if long_window.seconds // _SHORT_WINDOW_DIVISOR < 60:
        catalog.found.error(
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
        wait = _shorthand(catalog, c_document, (*path, "alertAfter"), after)
        if wait is not None:
            tier["for"] = str(wait)
    tier_path: PathKey = ("tiers", position)
    origins[tier_path] = Origin(c_document, path)
    origins[(*tier_path, "alert")] = Origin(document, (*base, "metadata", "name"))
    origins[(*tier_path, "long_window")] = Origin(c_document, (*path, "lookbackWindow"))
    origins[(*tier_path, "burn_factor")] = Origin(c_document, (*path, "threshold"))
    return tier


def _shorthand(catalog: Catalog, document: Document, path: PathKey, text: str) -> Duration | None:
    if text[-1] not in FIXED_UNITS:
        catalog.found.error(
            document, path, f"'{text}': give minutes, hours, days or weeks (m, h, d, w)"
        )
        return None
    return Duration.parse(text)

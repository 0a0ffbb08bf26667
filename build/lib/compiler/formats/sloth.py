"""Sloth's specs (v0.16) as native SLOs: ``prometheus/v1`` and the Kubernetes
``PrometheusServiceLevel`` form.

Semantics follow Sloth's documentation and code: the period is Sloth's default 30 days; the
page alert is the 1h/5m (2% of the budget) and 6h/30m (5%) window pairs, the ticket alert the
1d/2h and 3d/6h pairs (10% each), which are exactly the compiler's default tiers; both carry
``alerting.name``, Sloth's labels and annotations, and ``sloth_severity: page|ticket``.
Sloth's ``{{.window}}`` placeholder becomes ``$window``. Unlike Sloth, unknown keys are
errors, except the ones Sloth's own fixtures rely on it ignoring (``pageAlert`` in a
``prometheus/v1`` spec), which are ignored as Sloth ignores them, with a warning.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

from compiler import burn_rate
from compiler.diagnostics import Diagnostic
from compiler.formats.draft import Findings, Origin, SloDraft, owner_from_labels
from compiler.formats.foreign import (
    converted_query,
    error_ratio_sli,
    group_by_of,
    is_reserved_label,
    label_value,
    plain_number,
    renamed,
)
from compiler.load.loader import Document, PathKey
from compiler.load.schema_check import check

PERIOD = "30d"  # Sloth's --default-slo-period
PAGE, TICKET = "page", "ticket"
# Sloth's alert windows for a 30d (and any) period: its catalog's budget percentages are the
# compiler's default tiers, in the same order (page quick, page slow, ticket quick, slow).
_TIERS = {
    PAGE: tuple(t for t in burn_rate.DEFAULT_TIERS if t.severity == "critical"),
    TICKET: tuple(t for t in burn_rate.DEFAULT_TIERS if t.severity == "warning"),
}
# Built into Sloth; it exists so that quiet windows do not page, which is the job of the
# compiler's low-traffic guard.
DENOMINATOR_CORRECTED = "sloth.dev/contrib/denominator_corrected_rules/v1"
_SEVERITY_NOTE = (
    " (critical for Sloth's page alert, warning for its ticket alert; the label "
    "sloth_severity keeps page or ticket)"
)


@dataclass(frozen=True)
class Dialect:
    """The key spelling and layout of one of Sloth's two spec forms."""

    format: str
    schema: str
    base: tuple[str, ...]  # where the spec's fields live in the document
    plugins: str
    error_query: str
    total_query: str
    ratio_query: str
    page: str
    ticket: str
    # Keys Sloth drops without a word that its own fixtures use: key → the intended key.
    ignored: tuple[tuple[str, str], ...] = ()


PROMETHEUS_V1 = Dialect(
    format="Sloth prometheus/v1",
    schema="sloth-prometheus-v1.schema.json",
    base=(),
    plugins="slo_plugins",
    error_query="error_query",
    total_query="total_query",
    ratio_query="error_ratio_query",
    page="page_alert",
    ticket="ticket_alert",
    # Sloth decodes prometheus/v1 with encoding/json, which folds case but not underscores.
    ignored=(("pageAlert", "page_alert"), ("ticketAlert", "ticket_alert")),
)
KUBERNETES = Dialect(
    format="Sloth sloth.slok.dev/v1 PrometheusServiceLevel",
    schema="sloth-k8s-v1.schema.json",
    base=("spec",),
    plugins="sloPlugins",
    error_query="errorQuery",
    total_query="totalQuery",
    ratio_query="errorRatioQuery",
    page="pageAlert",
    ticket="ticketAlert",
)


def convert(document: Document, dialect: Dialect) -> tuple[list[SloDraft], list[Diagnostic]]:
    """The SLOs of one Sloth document, or the reasons it cannot be used."""
    found = Findings()
    data = _without_ignored_keys(document, dialect, found)
    found.extend(check(replace(document, data=data), dialect.schema))
    if found.failed:
        return [], found.diagnostics
    spec: dict[str, Any] = data
    for key in dialect.base:
        spec = spec[key]
    reader = _Reader(document, dialect, found)
    reader.reject_plugins(spec)
    service_path = (*dialect.base, "service")
    service = renamed(found, document, service_path, spec["service"], "service")
    drafts = [reader.slo(spec, index, service) for index in range(len(spec["slos"]))]
    if found.failed:
        return [], found.diagnostics
    return drafts, found.diagnostics


def _without_ignored_keys(document: Document, dialect: Dialect, found: Findings) -> Any:
    """The document's data without the keys Sloth ignores (a copy), each with a warning."""
    data = document.data
    if not dialect.ignored or not isinstance(data, dict) or not isinstance(data.get("slos"), list):
        return data
    data = copy.deepcopy(data)
    for index, slo in enumerate(data["slos"]):
        alerting = slo.get("alerting") if isinstance(slo, dict) else None
        if not isinstance(alerting, dict):
            continue
        for key, intended in dialect.ignored:
            if key in alerting:
                del alerting[key]
                found.warn(
                    document,
                    ("slos", index, "alerting", key),
                    f"Sloth ignores '{key}' in a prometheus/v1 spec (the key is '{intended}'), so "
                    "what it sets was never applied; it is ignored here too. Rename it to "
                    f"'{intended}' to apply it.",
                )
    return data


def _plugin_message(plugin: str) -> str:
    """Why a Sloth SLO plugin is refused, naming it."""
    if plugin == DENOMINATOR_CORRECTED:
        return (
            f"Sloth SLO plugin '{plugin}' is not supported: it scales each window's errors by "
            "the period's traffic so that quiet windows do not page, which the compiler's "
            "low-traffic guard (on by default) does with an explicit event count. Remove the "
            "plugin chain."
        )
    return (
        f"Sloth SLO plugin '{plugin}' cannot run here: Sloth plugins are Go code only Sloth "
        "executes. Remove the plugin chain and express what it adds in the converted spec "
        "(`slo convert`)."
    )


class _Reader:
    """Reads the SLOs of one Sloth document into drafts, collecting what it finds."""

    def __init__(self, document: Document, dialect: Dialect, found: Findings) -> None:
        self.document = document
        self.dialect = dialect
        self.found = found

    def reject_plugins(self, spec: dict[str, Any]) -> None:
        """An error naming each plugin the spec uses (SLO plugin chains, SLI plugins)."""
        chains: list[tuple[PathKey, Any]] = [
            ((*self.dialect.base, self.dialect.plugins), spec.get(self.dialect.plugins))
        ]
        for index, slo in enumerate(spec["slos"]):
            path: PathKey = (*self.dialect.base, "slos", index)
            chains.append(((*path, "plugins"), slo.get("plugins")))
            plugin = slo["sli"].get("plugin")
            if plugin is not None:
                self.found.error(
                    self.document,
                    (*path, "sli", "plugin", "id"),
                    f"Sloth SLI plugin '{plugin['id']}' cannot run here: Sloth plugins are Go code "
                    "only Sloth executes. Write the query it generates as sli.raw or sli.events.",
                )
        for path, chain in chains:
            for position, entry in enumerate((chain or {}).get("chain", [])):
                self.found.error(
                    self.document, (*path, "chain", position, "id"), _plugin_message(entry["id"])
                )

    def slo(self, spec: dict[str, Any], index: int, service: str) -> SloDraft:
        """The draft of the spec's SLO number ``index``."""
        path: PathKey = (*self.dialect.base, "slos", index)
        raw: dict[str, Any] = spec["slos"][index]
        draft = SloDraft(
            service=service,
            service_origin=Origin(self.document, (*self.dialect.base, "service")),
            data={},
            format=self.dialect.format,
        )
        draft.trace((), self.document, path)
        data = draft.data
        data["name"] = renamed(self.found, self.document, (*path, "name"), raw["name"], "SLO")
        draft.trace(("name",), self.document, (*path, "name"))
        if raw.get("description"):
            data["description"] = raw["description"]
            draft.trace(("description",), self.document, (*path, "description"))
        objective = raw["objective"]
        if objective == 100:
            self.found.error(
                self.document,
                (*path, "objective"),
                "an objective of 100 leaves no error budget, so no burn rate can be computed "
                "(Sloth accepts it and then alerts on every error); use 99.99 or lower",
            )
        data["objective"] = objective
        draft.trace(("objective",), self.document, (*path, "objective"))
        data["period"] = PERIOD
        labels = self.labels(
            spec.get("labels"),
            (*self.dialect.base, "labels"),
            draft,
            ("labels",),
        )
        labels |= self.labels(raw.get("labels"), (*path, "labels"), draft, ("labels",))
        if labels:
            data["labels"] = labels
        draft.owner = owner_from_labels(labels)
        if draft.owner is not None:
            draft.owner_origin = draft.origins.get(("labels", "owner")) or draft.origins.get(
                ("labels", "team")
            )
        sli, group_by = self.sli(raw["sli"], (*path, "sli"), draft)
        if group_by:
            data["group_by"] = list(group_by)
        data["sli"] = sli
        data["alerting"] = self.alerting(raw, path, draft)
        return draft

    def labels(
        self, mapping: dict[str, Any] | None, path: PathKey, draft: SloDraft, native: PathKey
    ) -> dict[str, str]:
        """Sloth labels as native ones; labels the compiler owns are dropped with a warning."""
        result: dict[str, str] = {}
        for key, value in (mapping or {}).items():
            if is_reserved_label(key):
                note = _SEVERITY_NOTE if key == "severity" else ""
                self.found.warn(
                    self.document,
                    (*path, key),
                    f"label '{key}: {label_value(value)}' is dropped: the compiler sets '{key}' "
                    f"itself{note}",
                )
                continue
            result[key] = label_value(value)
            draft.trace((*native, key), self.document, (*path, key))
        return result

    def sli(
        self, raw: dict[str, Any], path: PathKey, draft: SloDraft
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The native SLI of a Sloth ``sli``, and the labels its queries keep (group_by)."""
        draft.trace(("sli",), self.document, path)
        if "raw" in raw:
            query_path = (*path, "raw", self.dialect.ratio_query)
            text = raw["raw"][self.dialect.ratio_query]
            ratio = converted_query(self.found, self.document, query_path, text)
            draft.trace(("sli", "ratio"), self.document, query_path)
            group_by = group_by_of(self.found, [(self.document, query_path, ratio)])
            return error_ratio_sli(ratio), group_by
        if "plugin" in raw:  # reported by _reject_plugins
            return {"ratio": {"bad": "", "total": ""}}, ()
        events = raw["events"]
        error_path = (*path, "events", self.dialect.error_query)
        total_path = (*path, "events", self.dialect.total_query)
        error_text, total_text = events[self.dialect.error_query], events[self.dialect.total_query]
        if error_text.strip() == total_text.strip():
            self.found.error(self.document, total_path, "the error and total queries are the same")
        bad = converted_query(self.found, self.document, error_path, error_text)
        total = converted_query(self.found, self.document, total_path, total_text)
        draft.trace(("sli", "ratio", "bad"), self.document, error_path)
        draft.trace(("sli", "ratio", "total"), self.document, total_path)
        group_by = group_by_of(
            self.found, [(self.document, error_path, bad), (self.document, total_path, total)]
        )
        return {"ratio": {"bad": bad, "total": total}}, group_by

    def alerting(self, raw: dict[str, Any], path: PathKey, draft: SloDraft) -> dict[str, Any]:
        """Sloth's page and ticket alerts as the native tiers (or alerting disabled)."""
        alerting: dict[str, Any] = raw.get("alerting", {})
        alerting_path = (*path, "alerting") if "alerting" in raw else path
        draft.trace(("alerting",), self.document, alerting_path)
        enabled = [
            (kind, key)
            for kind, key in ((PAGE, self.dialect.page), (TICKET, self.dialect.ticket))
            if not alerting.get(key, {}).get("disable", False)
        ]
        if not enabled:
            return {"disabled": True}
        name = alerting.get("name", "")
        name_path = (*alerting_path, "name") if "name" in alerting else alerting_path
        if not name:
            self.found.error(
                self.document,
                name_path,
                "alerting.name is required while the page or ticket alert is enabled (Sloth "
                "names both after it); set it, or disable both alerts",
            )
        result: dict[str, Any] = {}
        labels = self.labels(
            alerting.get("labels"),
            (*alerting_path, "labels"),
            draft,
            ("alerting", "labels"),
        )
        if labels:
            result["labels"] = labels
        if alerting.get("annotations"):
            result["annotations"] = dict(alerting["annotations"])
            draft.trace(
                ("alerting", "annotations"), self.document, (*alerting_path, "annotations"), True
            )
        tiers: list[dict[str, Any]] = []
        for kind, key in enabled:
            alert = alerting.get(key, {})
            alert_path = (*alerting_path, key) if key in alerting else alerting_path
            first = ("alerting", "tiers", len(tiers))
            alert_labels = self.labels(
                alert.get("labels"),
                (*alert_path, "labels"),
                draft,
                (*first, "labels"),
            )
            for default in _TIERS[kind]:
                position = len(tiers)
                tier_path = ("alerting", "tiers", position)
                tier_labels = {"sloth_severity": kind} | alert_labels
                draft.trace((*tier_path, "labels"), self.document, (*alert_path, "labels"), True)
                tier: dict[str, Any] = {
                    "alert": name,
                    "severity": default.severity,
                    "long_window": str(default.long_window),
                    "short_window": str(default.short_window),
                    "budget_share": plain_number(default.budget_share_percent),
                    "labels": tier_labels,
                }
                if alert.get("annotations"):
                    tier["annotations"] = dict(alert["annotations"])
                    draft.trace(
                        (*tier_path, "annotations"),
                        self.document,
                        (*alert_path, "annotations"),
                        True,
                    )
                draft.trace(tier_path, self.document, alert_path)
                draft.trace((*tier_path, "alert"), self.document, name_path)
                tiers.append(tier)
        result["tiers"] = tiers
        if "raw" in raw["sli"]:
            result["low_traffic"] = False
            self.found.warn(
                self.document,
                (*path, "sli", "raw"),
                "a raw error-ratio SLI carries no event counts, so the low-traffic guard cannot "
                "apply to its alerts; use sli.events to have it",
            )
        return result

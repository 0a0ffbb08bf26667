"""`slo lint`: what a careful reviewer would say about valid specs, as coded warnings.

Each rule is a pure function of the compiled specs (and, for some, the traffic a server
reports, passed in as numbers) returning :class:`Finding` values: a stable code, and a
warning at the file and line of what it is about. A project turns a code off in slo.yaml
(``lint: {disable: [code]}``). Rules live here rather than in compiler/validate because
several need the alerting math of compiler.review.alerting, which runs the rules' model
from compiler/targets; validate sits below the targets (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from compiler import conventions
from compiler.conventions import DISCARD_RECEIVER
from compiler.diagnostics import Diagnostic, Location, Severity, SpecError
from compiler.load.loader import Document, PathKey, load_file
from compiler.model.service import ServiceSpec, SpecSet
from compiler.model.signal import (
    Signal,
)
from compiler.model.slo import SLO, Tier
from compiler.review import alerting
from compiler.targets.rule_tests.timeline import Phase, SloMath, Timeline


@dataclass(frozen=True)
class Rule:
    """A lint rule: its stable code and what it looks for."""

    code: str
    summary: str


RULES = (
    Rule("guard-unreachable", "a low-traffic guard above the traffic its window ever sees"),
    Rule("duplicate-pages", "a tier that only ever starts firing while another already pages"),
    Rule("objective-unmeasurable", "an objective tighter than the events behind it can measure"),
    Rule("alert-name-collision", "one alert name in more than one spec file"),
    Rule("severity-unrouted", "an alert of a severity that routing discards"),
)
# Not rules here because validation already says them: a tier above 100 % errors (an error),
# an alert without a runbook link, a signal that sums tenants together (warnings), a service
# without an owner (the schema).
CODES = frozenset(rule.code for rule in RULES)

# Per (service, SLO, window): events per second per group (its labels as `k="v"`), e.g. the
# highest 1h rate over the period, as a server reports it.
Traffic = Mapping[tuple[str, str, str], Mapping[str, float]]


@dataclass(frozen=True)
class Finding:
    """One warning of one rule."""

    code: str
    diagnostic: Diagnostic

    def __str__(self) -> str:
        return str(self.diagnostic)


@dataclass
class Locator:
    """Lines of the model's parts, from the spec files they were read from (a part of a
    converted Sloth or OpenSLO spec is shown where its SLO or service is)."""

    root: Path | None
    _documents: dict[str, list[Document]] = field(default_factory=dict)

    def _document(self, spec: ServiceSpec) -> Document | None:
        if spec.source not in self._documents:
            path = (self.root or Path()) / spec.source
            try:
                self._documents[spec.source] = load_file(path, spec.source)
            except (SpecError, OSError):
                self._documents[spec.source] = []
        for document in self._documents[spec.source]:
            data = document.data
            is_service = isinstance(data, dict) and data.get("kind") == "Service"
            if is_service and (data.get("service") or {}).get("name") == spec.service.name:
                return document
        return None

    def at(self, spec: ServiceSpec, path: PathKey, fallback: Location) -> Location:
        """Where ``path`` of ``spec``'s document is, or ``fallback``."""
        document = self._document(spec)
        if document is None:
            return fallback
        return document.locate(path)

    def tier(self, spec: ServiceSpec, slo: SLO, tier: Tier) -> Location:
        """A tier's line: its entry under ``alerting.tiers``, or ``alerting`` for defaults."""
        index = spec.slos.index(slo)
        document = self._document(spec)
        if document is None:
            return slo.location
        alerting_data = ((document.data.get("slos") or [{}])[index] or {}).get("alerting") or {}
        if isinstance(alerting_data, dict) and "tiers" in alerting_data:
            return document.locate(("slos", index, "alerting", "tiers", slo.tiers.index(tier)))
        return document.locate(("slos", index, "alerting"))

    def signal(self, spec: ServiceSpec, signal: Signal) -> Location:
        """A signal's line."""
        return self.at(spec, ("signals", spec.signals.index(signal)), signal.location)


def _warn(code: str, location: Location, message: str) -> Finding:
    # The code ends the message, so that it shows wherever the warning does (validate).
    return Finding(code, Diagnostic(location, f"{message} [{code}]", Severity.WARNING))


Check = Callable[[SpecSet, Locator, Traffic], Iterator[Finding]]


def lint(
    specs: SpecSet,
    root: Path | None = None,
    traffic: Traffic | None = None,
    disabled: Iterable[str] = (),
) -> list[Finding]:
    """Every finding of every rule not ``disabled``, in file and line order."""
    off = set(disabled)
    locator = Locator(root)
    found = [
        finding
        for check in CHECKS
        for finding in check(specs, locator, traffic or {})
        if finding.code not in off
    ]
    return sorted(found, key=lambda f: (*f.diagnostic.sort_key, f.code))


def _tiers(specs: SpecSet) -> Iterator[tuple[ServiceSpec, SLO, Tier]]:
    for spec in specs.services:
        for slo in spec.slos:
            for tier in slo.tiers:
                yield spec, slo, tier


# --- guard-unreachable -------------------------------------------------------------------


def guard_unreachable(specs: SpecSet, locator: Locator, traffic: Traffic) -> Iterator[Finding]:
    """A guard needing more events than a group's busiest long window has held (as a server
    reports it) or than the traffic the spec declares a group normally sees."""
    for spec, slo, tier in _tiers(specs):
        needed = alerting.min_traffic(tier)
        groups = traffic.get((slo.service, slo.name, str(tier.long_window)))
        if needed is not None and not groups and slo.expected_rate is not None:
            if Fraction(slo.expected_rate) < needed:
                yield _warn(
                    "guard-unreachable",
                    locator.tier(spec, slo, tier),
                    f"{tier.alert} ({tier.long_window}/{tier.short_window}) needs "
                    f"{tier.min_events} events in {tier.long_window} "
                    f"({float(needed):.3g}/s), more than the "
                    f"{float(slo.expected_rate):.3g} events/s a group is expected to see: "
                    f"{_below_guard(tier)}",
                )
            continue
        if needed is None or not groups:
            continue
        starved = sorted(g for g, rate in groups.items() if Fraction(rate) < needed)
        if not starved:
            continue
        shown = ", ".join(starved[:3]) + (
            f" and {len(starved) - 3} more" if len(starved) > 3 else ""
        )
        busiest = max(groups[g] for g in starved)
        yield _warn(
            "guard-unreachable",
            locator.tier(spec, slo, tier),
            f"{tier.alert} ({tier.long_window}/{tier.short_window}) needs {tier.min_events} "
            f"events in {tier.long_window} ({float(needed):.3g}/s); for {shown} (at most "
            f"{busiest:.3g} events/s in any {tier.long_window} of the period) "
            f"{_below_guard(tier)}",
        )


def _below_guard(tier: Tier) -> str:
    """What a tier does for a group whose traffic never meets its guard."""
    if tier.outage_floor:
        return (
            f"at that traffic only an outage of {tier.outage_floor} failed events in "
            f"{tier.long_window} pages it, never a partial degradation"
        )
    return "at that traffic it can never fire"


# --- duplicate-pages ---------------------------------------------------------------------


def _scenarios(math: SloMath) -> list[Fraction]:
    """Error ratios that tell tiers apart: a full outage, just above each threshold, and
    halfway (geometrically) between neighbouring thresholds."""
    thresholds = sorted({tier.threshold for tier in math.tiers})
    ratios = {Fraction(1)} | {t * alerting.JUST_ABOVE for t in thresholds}
    bounds = [*thresholds, Fraction(1)]
    ratios |= {
        Fraction((float(a) * float(b)) ** 0.5).limit_denominator(10**6) for a, b in pairwise(bounds)
    }
    return sorted(r for r in ratios if r <= 1)


@lru_cache(maxsize=256)  # SLOs with the same tiers (the defaults, say) share their runs
def _runs(math: SloMath) -> tuple[tuple[Timeline, tuple[int | None, ...]], ...]:
    """For each scenario: one timeline of a step to that ratio, and each tier's first
    firing in it."""
    interval = alerting.EVALUATION_INTERVAL
    longest = max(tier.long for tier in math.tiers)
    hold = max(tier.hold for tier in math.tiers)
    start = -(-(longest + math.base) // 60) + 1
    traffic = max(
        alerting.ample_per_minute(t.min_events, t.long, t.min_bad_events) for t in math.tiers
    )
    runs = []
    for ratio in _scenarios(math):
        lane = (Phase(0, traffic, Fraction(0)), Phase(start, traffic, traffic * ratio))
        end = start * 60 + 2 * longest + math.base + hold + 2 * interval
        timeline = Timeline(math, (lane,), interval, end - end % interval)
        step = start * 60 // interval
        firsts = tuple(timeline.first_change(0, i, step - 1, True) for i in range(len(math.tiers)))
        runs.append((timeline, firsts))
    return tuple(runs)


def _already(timeline: Timeline, tier: int, at: int | None) -> bool:
    """Whether ``tier`` fires at evaluation ``at`` (trivially, if nothing starts there)."""
    return at is None or timeline.firing(0, tier, at)


def _notified_apart(specs: SpecSet, one: Tier, other: Tier) -> bool:
    """Whether Alertmanager sends the two tiers' alerts to one receiver as two notifications:
    the same severity (so the same route), in different groups (their values of the
    routing's group_by differ; without routing, its usual [service, alertname])."""
    if one.severity != other.severity:
        return False
    group_by = specs.routing.group_by if specs.routing else ("service", "alertname")
    if "..." in group_by:
        return True
    labels = [
        {"alertname": tier.alert, **dict(tier.labels), **_window_labels(tier)}
        for tier in (one, other)
    ]
    return any(labels[0].get(name) != labels[1].get(name) for name in group_by)


def _window_labels(tier: Tier) -> dict[str, str]:
    return {
        conventions.LONG_WINDOW_LABEL: str(tier.long_window),
        conventions.SHORT_WINDOW_LABEL: str(tier.short_window),
    }


def duplicate_pages(specs: SpecSet, locator: Locator, traffic: Traffic) -> Iterator[Finding]:
    """A tier that, whatever the error ratio, starts firing only while another tier is
    already firing that Alertmanager notifies the same receiver about separately: every
    page it sends is a second one."""
    for spec in specs.services:
        for slo in spec.slos:
            if len(slo.tiers) < 2:
                continue
            runs = _runs(SloMath.of(slo))
            for b, tier in enumerate(slo.tiers):
                if not any(firsts[b] is not None for _, firsts in runs):
                    continue
                for a, other in enumerate(slo.tiers):
                    if a == b or not _notified_apart(specs, tier, other):
                        continue
                    if all(_already(timeline, a, firsts[b]) for timeline, firsts in runs):
                        yield _warn(
                            "duplicate-pages",
                            locator.tier(spec, slo, tier),
                            f"{alerting.label(tier)} only ever starts firing while "
                            f"{alerting.label(other)} already fires, and Alertmanager "
                            f"notifies {other.severity} of both apart: its pages are "
                            "duplicates; drop it, share the other's alert name, or give it "
                            "another severity or a lower factor",
                        )
                        break


# --- objective-unmeasurable --------------------------------------------------------------


def objective_unmeasurable(specs: SpecSet, locator: Locator, traffic: Traffic) -> Iterator[Finding]:
    """One bad event already crosses a tier's threshold at its guard's minimum traffic; or
    the period's whole budget is less than one event at the traffic a server reports."""
    for spec, slo, tier in _tiers(specs):
        threshold = Fraction(slo.threshold(tier))
        if tier.min_events and threshold * tier.min_events < 1:
            yield _warn(
                "objective-unmeasurable",
                locator.tier(spec, slo, tier),
                f"{alerting.label(tier)}: at its guard's {tier.min_events} events in "
                f"{tier.long_window}, one bad event is {100 / tier.min_events:.3g}% of them, "
                f"above the {float(threshold) * 100:.3g}% threshold: a single failure pages",
            )
    for spec in specs.services:
        for slo in spec.slos:
            groups = traffic.get((slo.service, slo.name, str(slo.period)))
            if not groups:
                continue
            thin = sorted(
                g for g, rate in groups.items() if alerting.budget_in_events(slo, rate) < 1
            )
            if thin:
                yield _warn(
                    "objective-unmeasurable",
                    locator.at(spec, ("slos", spec.slos.index(slo), "objective"), slo.location),
                    f"the {slo.period} budget of {slo.name} is less than one bad event for "
                    f"{', '.join(thin[:3])}: the data cannot tell this objective from 100%",
                )


# --- alert-name-collision ----------------------------------------------------------------


def alert_name_collision(specs: SpecSet, locator: Locator, traffic: Traffic) -> Iterator[Finding]:
    """An alert name used by more than one spec file (routes, silences and inhibitions
    match by name, so the two alerts are one to Alertmanager)."""
    used: dict[str, dict[str, Location]] = {}
    for spec, slo, tier in _tiers(specs):
        used.setdefault(tier.alert, {}).setdefault(spec.source, locator.tier(spec, slo, tier))
    for spec in specs.services:
        for signal in spec.signals:
            used.setdefault(signal.name, {}).setdefault(spec.source, locator.signal(spec, signal))
    for name, files in sorted(used.items()):
        if len(files) < 2:
            continue
        for source, location in files.items():
            others = ", ".join(sorted(set(files) - {source}))
            yield _warn(
                "alert-name-collision",
                location,
                f"alert {name} is also defined in {others}: Alertmanager routes, silences "
                "and inhibits them as one",
            )


# --- severity-unrouted -------------------------------------------------------------------


def severity_unrouted(specs: SpecSet, locator: Locator, traffic: Traffic) -> Iterator[Finding]:
    """An alert whose severity no route delivers: routing needs critical and warning, and
    sends info, when it is left out, to the receiver that discards (docs/alertmanager.md)."""
    if specs.routing is None:
        return
    routed = {r.severity for r in specs.routing.routes if r.receiver != DISCARD_RECEIVER}
    message = (
        "{name}: no route delivers severity {severity}: Alertmanager discards it (only "
        "dashboards show it); route {severity} in the Routing document, or raise the severity"
    )
    for spec, slo, tier in _tiers(specs):
        if tier.severity not in routed:
            yield _warn(
                "severity-unrouted",
                locator.tier(spec, slo, tier),
                message.format(name=alerting.label(tier), severity=tier.severity),
            )
    for spec in specs.services:
        for signal in spec.signals:
            if signal.severity not in routed:
                yield _warn(
                    "severity-unrouted",
                    locator.signal(spec, signal),
                    message.format(name=signal.name, severity=signal.severity),
                )


CHECKS: tuple[Check, ...] = (
    guard_unreachable,
    duplicate_pages,
    objective_unmeasurable,
    alert_name_collision,
    severity_unrouted,
)

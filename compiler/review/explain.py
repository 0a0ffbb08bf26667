"""`slo explain SERVICE/SLO`: one SLO as a reviewer needs to see it.

Pure: the model in, an :class:`Explanation` out (rendered by compiler.review.text and
compiler.review.json_report). The traffic a server reports, when one is asked, is passed
in as numbers; nothing here talks to the world.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import assert_never

from compiler import conventions
from compiler.model.service import ServiceSpec, SpecSet
from compiler.model.slo import SLO, Events, LatencySLI, RatioSLI
from compiler.promql import normalized, substitute_window
from compiler.review import alerting
from compiler.targets.prometheus import slo_rules
from compiler.targets.rule_tests.slo_scenarios import in_long_file
from compiler.targets.rule_tests.timeline import SloMath


@dataclass(frozen=True)
class GuardAtTraffic:
    """The guard of one tier against one group's current traffic (from a server)."""

    group: str  # the group's labels as `tenant="a"`, or "" for an SLO without group_by
    events_per_second: float
    met: bool
    fires_after: int | None  # time to fire on a full outage at this traffic


@dataclass(frozen=True)
class Explanation:
    """What one SLO promises, how its tiers page, and what it generates."""

    spec: ServiceSpec
    slo: SLO
    tiers: tuple[alerting.TierReport, ...]
    rules: tuple[str, ...]  # "<file>: <group> (<alerts>)"
    tests: tuple[str, ...]
    dashboards: tuple[str, ...]
    routes: tuple[tuple[str, str], ...]  # (severity, receiver) of each severity it uses
    traffic: Mapping[str, float] | None = None  # events per second per group, if asked
    traffic_source: str = "now"  # "now" (from a server) or "expected" (the spec's)
    guards: tuple[tuple[str, tuple[GuardAtTraffic, ...]], ...] = ()  # per alert

    @property
    def budget_seconds(self) -> int:
        """Seconds of full outage the period's budget allows."""
        return alerting.budget_in_time(self.slo)


class UnknownSLO(LookupError):
    """No SLO of that name (the message lists the known ones)."""


def find(specs: SpecSet, name: str) -> tuple[ServiceSpec, SLO]:
    """The SLO called ``SERVICE/SLO``; :class:`UnknownSLO` naming the known ones if none is."""
    service, _, slo_name = name.partition("/")
    for spec in specs.services:
        for slo in spec.slos:
            if spec.service.name == service and slo.name == slo_name:
                return spec, slo
    known = ", ".join(f"{slo.service}/{slo.name}" for slo in specs.slos)
    raise UnknownSLO(f"no SLO {name!r} (known: {known})")


def sli_fields(slo: SLO) -> dict[str, str]:
    """The SLI as a reviewer compares it: what each side reads, as normalized PromQL over the
    base window (summed by group_by, which is shown apart), or a latency's histogram and
    threshold."""
    base = str(slo_rules.windows(slo)[0])
    sli = slo.sli
    match sli:
        case RatioSLI():
            fields = {"SLI total": _read(sli.total, base)}
            if sli.bad is not None:
                fields["SLI bad"] = _read(sli.bad, base)
            if sli.good is not None:
                fields["SLI good"] = _read(sli.good, base)
            return fields
        case LatencySLI():
            return {
                "SLI histogram": normalized(str(sli.histogram)).replace("{}", ""),
                "SLI threshold": f"{sli.threshold:g}s",
            }
        case _:
            assert_never(sli)


def _read(events: Events, window: str) -> str:
    """One side of a ratio: its counter's rate, or its query, over ``window``."""
    if events.selector is not None:
        return normalized(f"rate({events.selector}[{window}])").replace("{}", "")
    assert events.query is not None
    return normalized(substitute_window(events.query, window)).replace("{}", "")


def describe_sli(slo: SLO) -> str:
    """One line: what the SLI counts as bad."""
    sli = slo.sli
    match sli:
        case RatioSLI():
            return "ratio: " + ("bad / total" if sli.bad is not None else "1 - good / total")
        case LatencySLI():
            return f"latency: slower than {sli.threshold:g}s is bad ({sli.histogram.metric})"
        case _:
            assert_never(sli)


def outputs_of(
    spec: ServiceSpec, slo: SLO
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(rule groups, test files, dashboards) the SLO produces, relative to their roots."""
    service = spec.service.name
    alerts = ", ".join(dict.fromkeys(tier.alert for tier in slo.tiers)) or "no alerts"
    rules = (
        f"{conventions.rules_path(service)}: group {conventions.rule_group_name(service, slo.name)}"
        f" ({alerts})",
    )
    math = SloMath.of(slo)
    tests = [conventions.tests_path(service)]
    if any(in_long_file(tier) for tier in math.tiers):
        tests.append(conventions.tests_path(service, conventions.MAX_BASE_WINDOW))
    dashboards = (
        conventions.dashboard_path(conventions.slo_dashboard_uid(service)),
        conventions.dashboard_path(conventions.OVERVIEW_DASHBOARD_UID),
    )
    return rules, tuple(tests), dashboards


def routes_of(specs: SpecSet, slo: SLO) -> tuple[tuple[str, str], ...]:
    """Where each severity the SLO's tiers use goes; "(no route)" without one."""
    severities = list(dict.fromkeys(tier.severity for tier in slo.tiers))
    routing = specs.routing
    owner = next((s.service.owner for s in specs.services if s.service.name == slo.service), "")
    return tuple(
        (severity, (routing.receiver_for(owner, severity) if routing else None) or "(no route)")
        for severity in severities
    )


def explain(specs: SpecSet, name: str, traffic: Mapping[str, float] | None = None) -> Explanation:
    """The explanation of ``SERVICE/SLO``; ``traffic``: events per second per group now."""
    spec, slo = find(specs, name)
    source = "now"
    if traffic is None and slo.expected_rate is not None:
        traffic, source = {"": float(slo.expected_rate)}, "expected"
    rules, tests, dashboards = outputs_of(spec, slo)
    reports = alerting.tier_reports(slo)
    return Explanation(
        spec=spec,
        slo=slo,
        tiers=reports,
        rules=rules,
        tests=tests,
        dashboards=dashboards,
        routes=routes_of(specs, slo),
        traffic=traffic,
        traffic_source=source,
        guards=guards_at(slo, traffic) if traffic is not None else (),
    )


def guards_at(
    slo: SLO, traffic: Mapping[str, float]
) -> tuple[tuple[str, tuple[GuardAtTraffic, ...]], ...]:
    """For each guarded tier, whether each group's traffic meets its guard, and how soon a
    full outage at that traffic would page."""
    result = []
    for tier in slo.tiers:
        if not tier.guarded:
            continue
        rows = []
        for group, rate in sorted(traffic.items()):
            per_second = Fraction(rate).limit_denominator(10**6)
            fires = alerting.time_to_fire(slo, tier, Fraction(1), per_second * 60)
            needed = alerting.min_traffic(tier)
            met = needed is None or per_second >= needed
            rows.append(GuardAtTraffic(group, rate, met and fires is not None, fires))
        result.append((alerting.label(tier), tuple(rows)))
    return tuple(result)

"""Tabletop drills as code, compiled: the series a drill plays and what must fire.

A drill (``scenarios:`` in a service spec, docs/testing.md "Drills") becomes synthetic series
and expectations: an alert of the service with the labels that tell its groups apart, firing
within and clearing within a number of minutes, or nothing firing for some labels. The
rule-test target turns a drill into a promtool test of the service's rules
(``targets/rule_tests/promtool_files.py``), whose every check lists the complete set of alerts
of a name: an alert the drill does not expect fails it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from compiler import conventions
from compiler.diagnostics import Location
from compiler.model.signal import Signal
from compiler.model.slo import SLO, Labels, Tier
from compiler.synthetic.series import SyntheticSeries


@dataclass(frozen=True)
class Expectation:
    """An alert that fires (and perhaps clears), or labels for which nothing fires."""

    labels: Labels
    alert: str | None = None
    fires_after: int | None = None  # minute the incident starts; silent then
    fires_within: int | None = None  # minutes after which it fires at the latest
    clears_after: int | None = None
    clears_within: int | None = None
    silent: bool = False


@dataclass(frozen=True)
class Drill:
    """One drill of a service: its series, what must happen, how long it runs."""

    name: str
    description: str
    series: tuple[SyntheticSeries, ...]
    expectations: tuple[Expectation, ...]
    minutes: int
    runbook: str = ""
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class AlertSource:
    """An alert rule a drill can expect (an SLO's tier or a signal): which labels tell its
    groups apart."""

    name: str
    group_by: tuple[str, ...]
    slo: SLO | None = None
    tier: Tier | None = None
    signal: Signal | None = None

    def tier_labels(self) -> dict[str, str]:
        """The labels that tell tiers sharing an alert name apart."""
        if self.tier is None:
            return {}
        return {
            conventions.SEVERITY_LABEL: self.tier.severity,
            conventions.LONG_WINDOW_LABEL: str(self.tier.long_window),
            conventions.SHORT_WINDOW_LABEL: str(self.tier.short_window),
        }


def slo_alert_sources(slos: Sequence[SLO]) -> list[AlertSource]:
    """Every burn-rate alert of these SLOs, one per tier."""
    return [AlertSource(tier.alert, slo.group_by, slo, tier) for slo in slos for tier in slo.tiers]


def signal_alert_sources(signals: Sequence[Signal]) -> list[AlertSource]:
    """Every signal's alert."""
    return [AlertSource(signal.name, signal.group_by, signal=signal) for signal in signals]


def matching_sources(
    sources: Sequence[AlertSource], alert: str, labels: Mapping[str, str]
) -> list[AlertSource]:
    """The alert rules named ``alert`` whose tier labels agree with ``labels``."""
    return [
        s
        for s in sources
        if s.name == alert and all(labels.get(k, v) == v for k, v in s.tier_labels().items())
    ]


def state(expectation: Expectation, minute: int) -> bool | None:
    """Whether the expected alert fires at ``minute``: True, False, or None (not known,
    between the incident's start and the latest time it must have fired or cleared)."""
    if expectation.silent:
        return False
    assert expectation.fires_after is not None and expectation.fires_within is not None
    if minute <= expectation.fires_after:
        return False
    if minute < expectation.fires_after + expectation.fires_within:
        return None
    if expectation.clears_after is None or expectation.clears_within is None:
        return True
    if minute <= expectation.clears_after:
        return True
    if minute < expectation.clears_after + expectation.clears_within:
        return None
    return False


def check_minutes(drill: Drill) -> list[int]:
    """The minutes a drill's alerts are checked at: each incident's start, when each
    alert must have fired and cleared, and the end."""
    minutes = {drill.minutes}
    for e in drill.expectations:
        if e.fires_after is not None and e.fires_within is not None:
            minutes.update({e.fires_after, e.fires_after + e.fires_within})
        if e.clears_after is not None and e.clears_within is not None:
            minutes.update({e.clears_after, e.clears_after + e.clears_within})
    return sorted(m for m in minutes if 0 < m <= drill.minutes)

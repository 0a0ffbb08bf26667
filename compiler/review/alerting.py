"""What each burn-rate tier does to paging, in numbers a reviewer can judge.

The times come from :class:`compiler.targets.rule_tests.timeline.Timeline`, the exact model
of the generated rules that every generated promtool test is predicted with: the base
window's ramp, the averaged long windows, the low-traffic guard and ``for:`` included. The
scenario is the SRE workbook's: steady traffic, no errors for longer than any window, then a
step to a constant error ratio (docs/explain.md states the formulas and how the exact times
differ from them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from compiler.durations import Duration
from compiler.model.slo import SLO, Tier
from compiler.targets.rule_tests.timeline import Phase, SloMath, Timeline

# Prometheus's default evaluation_interval, which the generated rules and tests assume.
EVALUATION_INTERVAL = 60
# "At its factor": a burn exactly at the factor never fires (the rule compares with `>`),
# so the time is taken just above it, where it equals the limit of the time from above.
JUST_ABOVE = Fraction(10001, 10000)
# Events per minute when no traffic is given: enough that no guard decides the timing.
AMPLE_PER_MINUTE = 60_000


@dataclass(frozen=True)
class Timing:
    """One scenario's outcome: when the alert fires and what the burn cost until then."""

    error_ratio: Fraction
    fires_after: int | None  # seconds from the step to the alert firing; None: never
    budget_spent: Fraction | None  # share of the period's budget burnt by then (0..)


@dataclass(frozen=True)
class TierReport:
    """A tier's threshold, and when it fires and resets."""

    tier: Tier
    threshold: Decimal  # error ratio above which both windows must be
    budget_share: Decimal  # of the period's budget a burn at the factor uses per long window
    outage: Timing  # 100 % errors
    at_factor: Timing  # a burn just above the tier's factor
    reset_after: int | None  # seconds from the end of a full outage until it resolves
    min_events_per_second: Fraction | None  # the guard's minimum traffic, if it has one

    @property
    def can_fire(self) -> bool:
        """Whether any error ratio (at most 100 %) exceeds the threshold."""
        return self.threshold < 1


def min_traffic(tier: Tier) -> Fraction | None:
    """Events per second the long window must average for the guard's ``min_events``."""
    if not tier.min_events:
        return None
    return Fraction(tier.min_events, tier.long_window.seconds)


def base_window(slo: SLO) -> int:
    """Seconds of the SLO's base window (the one raw series are read over)."""
    return SloMath.of(slo).base


def warm_up_minutes(slo: SLO, tier: Tier) -> int:
    """Minutes of clean traffic before the step: every window of the tier holds history."""
    return -(-(tier.long_window.seconds + base_window(slo)) // 60) + 1


def ample_traffic(tier: Tier) -> Fraction:
    """Events per minute at which the guard is met well before any threshold is."""
    return ample_per_minute(tier.min_events, tier.long_window.seconds, tier.min_bad_events)


def ample_per_minute(min_events: int, long_seconds: int, min_bad_events: int) -> Fraction:
    """:func:`ample_traffic` of a guard: a hundred times what it needs, or more."""
    needed = max(min_events * 60 // long_seconds, min_bad_events) * 100
    return Fraction(max(AMPLE_PER_MINUTE, needed))


def outage_minutes(slo: SLO, tier: Tier, interval: int = EVALUATION_INTERVAL) -> int:
    """How long the burn before a reset lasts: both windows saturated, the alert fired."""
    hold = tier.for_.seconds if tier.for_ else 0
    return -(-(tier.long_window.seconds + base_window(slo) + hold + interval) // 60)


def time_to_fire(
    slo: SLO,
    tier: Tier,
    error_ratio: Fraction,
    per_minute: Fraction | None = None,
    interval: int = EVALUATION_INTERVAL,
) -> int | None:
    """Seconds from a step to ``error_ratio`` (at ``per_minute`` events, default ample) until
    ``tier``'s alert fires, as the engine evaluates the generated rules every ``interval``
    seconds; None if it does not fire within two long windows (it never will)."""
    index = slo.tiers.index(tier)
    math_ = SloMath.of(slo)
    traffic = per_minute if per_minute is not None else ample_traffic(tier)
    start = warm_up_minutes(slo, tier)
    lane = (Phase(0, traffic, Fraction(0)), Phase(start, traffic, traffic * error_ratio))
    hold = tier.for_.seconds if tier.for_ else 0
    end = start * 60 + 2 * tier.long_window.seconds + math_.base + hold + 2 * interval
    end -= end % interval
    timeline = Timeline(math_, (lane,), interval, end)
    step = -(-start * 60 // interval)
    fired = timeline.first_change(0, index, step - 1, True)
    return None if fired is None else fired * interval - start * 60


def reset_time(
    slo: SLO, tier: Tier, error_ratio: Fraction = Fraction(1), interval: int = EVALUATION_INTERVAL
) -> int | None:
    """Seconds from the end of a burn at ``error_ratio`` that has fired ``tier`` (and lasted
    as long as its long window) until the alert resolves; None if it never fired."""
    index = slo.tiers.index(tier)
    math_ = SloMath.of(slo)
    traffic = ample_traffic(tier)
    start = warm_up_minutes(slo, tier)
    stop = start + outage_minutes(slo, tier, interval)
    lane = (
        Phase(0, traffic, Fraction(0)),
        Phase(start, traffic, traffic * error_ratio),
        Phase(stop, traffic, Fraction(0)),
    )
    end = stop * 60 + tier.long_window.seconds + math_.base + 2 * interval
    end -= end % interval
    timeline = Timeline(math_, (lane,), interval, end)
    last = stop * 60 // interval
    if not timeline.firing(0, index, last):
        return None
    resolved = timeline.first_change(0, index, last, False)
    return None if resolved is None else resolved * interval - stop * 60


def budget_spent(slo: SLO, error_ratio: Fraction, seconds: int) -> Fraction:
    """Share of the period's error budget a constant ``error_ratio`` burns in ``seconds``
    (traffic steady over the period)."""
    return error_ratio * seconds / (Fraction(slo.error_budget) * slo.period.seconds)


def _timing(slo: SLO, tier: Tier, error_ratio: Fraction) -> Timing:
    if error_ratio > 1:
        return Timing(error_ratio, None, None)
    fires = time_to_fire(slo, tier, error_ratio)
    spent = None if fires is None else budget_spent(slo, error_ratio, fires)
    return Timing(error_ratio, fires, spent)


@lru_cache(maxsize=4096)  # a diff asks for both sides' tiers, often the same
def tier_report(slo: SLO, tier: Tier) -> TierReport:
    """Everything :mod:`compiler.review` says about one tier."""
    threshold = slo.threshold(tier)
    share = tier.burn_factor * Decimal(tier.long_window.seconds) / Decimal(slo.period.seconds)
    return TierReport(
        tier=tier,
        threshold=threshold,
        budget_share=share,
        outage=_timing(slo, tier, Fraction(1)),
        at_factor=_timing(slo, tier, Fraction(threshold) * JUST_ABOVE),
        reset_after=reset_time(slo, tier) if threshold < 1 else None,
        min_events_per_second=min_traffic(tier),
    )


def tier_reports(slo: SLO) -> tuple[TierReport, ...]:
    """:func:`tier_report` of every tier, in the spec's order."""
    return tuple(tier_report(slo, tier) for tier in slo.tiers)


def budget_in_events(slo: SLO, events_per_second: float) -> float:
    """Bad events the period allows at a steady ``events_per_second``."""
    return float(slo.error_budget) * events_per_second * slo.period.seconds


def budget_in_time(slo: SLO) -> int:
    """Seconds of full outage the period's budget allows (``budget * period``)."""
    return math.floor(slo.error_budget * slo.period.seconds)


def format_seconds(seconds: float | None) -> str:
    """``52s``, ``1h5m``, ``never``: whole seconds as Prometheus prints durations."""
    if seconds is None:
        return "never"
    return str(Duration(int(seconds))) if int(seconds) > 0 else "0s"


def label(tier: Tier) -> str:
    """A tier as a reviewer names it: its alert and windows (alerts may share a name)."""
    return f"{tier.alert} {tier.long_window}/{tier.short_window}"

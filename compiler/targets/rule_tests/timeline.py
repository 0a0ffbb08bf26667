"""What an SLO's generated rules record and which alerts fire, evaluation by evaluation.

The generated rule tests predict every alert from this model, so it follows the rules
exactly rather than approximately (docs/spec.md, "The math", and docs/testing.md):

- input counters are sampled every minute from minute 0, where they start at 0; traffic is
  given per group ("lane") as per-minute event counts that change at whole minutes;
- rules are evaluated every ``interval`` from time 0. The base record at ``t`` is
  ``(C(t) - C(max(t - B, 0))) / B`` from ``t = 1m`` on: Prometheus's ``rate()`` does not
  extrapolate a counter below the 0 it starts at, so the first base window after minute 0
  reads exactly the events counted so far;
- a longer window ``W`` averages the base record over the evaluations in ``[t - W, t]``
  that exist (both ends included), bad and total separately, divided last; while less than
  ``W`` of history exists, it averages over what there is (partial history);
- a tier's condition is both windows above its threshold plus the low-traffic guard (or
  its outage floor: enough bad events in the long window, whatever the traffic); its
  alert fires once the condition has held for the tier's ``for``.

Arithmetic is exact (integers scaled from rational counts), so a prediction never depends
on rounding; :attr:`Timeline.min_margin` says how far the closest comparison was from
flipping, which lets callers avoid scenarios whose outcome would hinge on float rounding in
Prometheus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import accumulate

from compiler import burn_rate, conventions
from compiler.model.slo import SLO

SAMPLE_STEP = 60  # seconds between input samples
# Evaluations below this relative distance from a threshold could go either way in floats.
ROBUST_MARGIN = 1e-9


@dataclass(frozen=True)
class Phase:
    """From minute ``start`` on, ``total`` events per minute of which ``bad`` are bad."""

    start: int
    total: Fraction
    bad: Fraction


Schedule = tuple[Phase, ...]


def constant(total: Fraction | int, bad: Fraction | int, start: int = 0) -> Phase:
    """A phase with exact counts."""
    return Phase(start, Fraction(total), Fraction(bad))


@dataclass(frozen=True)
class TierMath:
    """What decides whether one tier's alert fires (seconds, events, an exact ratio)."""

    long: int
    short: int
    threshold: Fraction
    hold: int = 0
    min_events: int = 0
    min_bad_events: int = 0
    outage_events: int = 0  # bad events in the long window that fire whatever the traffic


@dataclass(frozen=True)
class SloMath:
    """The parts of an SLO that decide its alerts: error budget, base window and tiers."""

    budget: Fraction
    base: int
    tiers: tuple[TierMath, ...]

    @classmethod
    def of(cls, slo: SLO) -> SloMath:
        """The math of ``slo`` as its generated rules implement it."""
        # Only these fields decide it; most SLOs of a large set share them.
        return _math(
            slo.objective,
            tuple(
                (
                    tier.long_window.seconds,
                    tier.short_window.seconds,
                    tier.burn_factor,
                    tier.for_.seconds if tier.for_ else 0,
                    tier.min_events,
                    tier.min_bad_events,
                    tier.outage_floor,
                )
                for tier in slo.tiers
            ),
        )


@lru_cache(maxsize=1024)
def _math(
    objective: Decimal, tiers: tuple[tuple[int, int, Decimal, int, int, int, int], ...]
) -> SloMath:
    base = min([*(w for tier in tiers for w in tier[:2]), conventions.MAX_BASE_WINDOW.seconds])
    budget = Fraction(burn_rate.error_budget(objective))
    return SloMath(
        budget,
        base,
        tuple(
            TierMath(
                long=long,
                short=short,
                threshold=Fraction(factor) * budget,
                hold=hold,
                min_events=min_events,
                min_bad_events=min_bad,
                outage_events=floor,
            )
            for long, short, factor, hold, min_events, min_bad, floor in tiers
        ),
    )


@dataclass
class _Lane:
    """Per evaluation: summed base-window event counts (scaled integers), as prefix sums."""

    total: list[int]
    bad: list[int]


class Timeline:
    """The rules of one SLO evaluated every ``interval`` seconds up to ``end`` seconds."""

    def __init__(self, slo: SloMath, lanes: Sequence[Schedule], interval: int, end: int) -> None:
        if interval % SAMPLE_STEP or slo.base % SAMPLE_STEP:
            raise ValueError("the interval and the base window must be whole minutes")
        self.slo = slo
        self.interval = interval
        self.end = end
        self.evaluations = end // interval
        counts = [c for lane in lanes for phase in lane for c in (phase.total, phase.bad)]
        self._scale = math.lcm(*(c.denominator for c in counts)) if counts else 1
        self._lanes = [self._lane(schedule) for schedule in lanes]
        self._conditions: dict[tuple[int, int, int], bool] = {}
        self.min_margin = 1.0

    @property
    def lanes(self) -> int:
        """How many lanes (label sets of the SLO's group_by) the traffic has."""
        return len(self._lanes)

    def _lane(self, schedule: Schedule) -> _Lane:
        minutes = self.end // SAMPLE_STEP + 1
        per_minute: list[tuple[int, int]] = []
        phases = sorted(schedule, key=lambda p: p.start)
        bounds = [*(min(p.start, minutes) for p in phases), minutes]
        per_minute.extend([(0, 0)] * bounds[0])
        for phase, start, stop in zip(phases, bounds, bounds[1:], strict=False):
            counts = (int(phase.total * self._scale), int(phase.bad * self._scale))
            per_minute.extend([counts] * max(stop - start, 0))
        # Counter values at each sample: events counted in the minutes before it.
        total_counter = [0, *accumulate(t for t, _ in per_minute)]
        bad_counter = [0, *accumulate(b for _, b in per_minute)]
        base_minutes = self.slo.base // SAMPLE_STEP

        def base_sum(counter: list[int], i: int) -> int:
            if i == 0:  # one sample is no rate: nothing is recorded at time 0
                return 0
            minute = i * self.interval // SAMPLE_STEP
            return counter[minute] - counter[max(minute - base_minutes, 0)]

        evaluations = range(self.evaluations + 1)
        return _Lane(
            total=[0, *accumulate(base_sum(total_counter, i) for i in evaluations)],
            bad=[0, *accumulate(base_sum(bad_counter, i) for i in evaluations)],
        )

    def window(self, lane: int, window: int, i: int) -> tuple[int, int, int]:
        """(total, bad, points) summed over the evaluations a ``window`` record averages at
        evaluation ``i``; the record is absent when ``points`` is 0."""
        if i < 1:
            return 0, 0, 0
        # The base window's record is the rate itself; longer ones average it.
        span = 0 if window == self.slo.base else window // self.interval
        first = max(i - span, 1)
        data = self._lanes[lane]
        return (
            data.total[i + 1] - data.total[first],
            data.bad[i + 1] - data.bad[first],
            i - first + 1,
        )

    def condition(self, lane: int, tier: int, i: int) -> bool:
        """Whether the tier's alert expression returns a result at evaluation ``i``."""
        key = (lane, tier, i)
        cached = self._conditions.get(key)
        if cached is not None:
            return cached
        spec = self.slo.tiers[tier]
        parts: list[tuple[bool, float]] = []
        long_total, long_bad, points = self.window(lane, spec.long, i)
        short_total, short_bad, short_points = self.window(lane, spec.short, i)
        if points and short_points:
            for total, bad in ((long_total, long_bad), (short_total, short_bad)):
                lhs = bad * spec.threshold.denominator
                rhs = total * spec.threshold.numerator
                parts.append(_compare(lhs, rhs, strict=True))
            # Guard: the long window's mean rate times its length, in events.
            scale = points * self.slo.base * self._scale
            guard: list[tuple[bool, float]] = []
            if spec.min_events:
                guard.append(_compare(long_total * spec.long, spec.min_events * scale))
            if spec.min_bad_events:
                guard.append(_compare(long_bad * spec.long, spec.min_bad_events * scale))
            if guard and spec.outage_events:  # (guard) or the outage floor, in both windows
                short_scale = short_points * self.slo.base * self._scale
                floor = _all(
                    [
                        _compare(long_bad * spec.long, spec.outage_events * scale),
                        # the short window's rate, over the long window, reaches it too
                        _compare(short_bad * spec.long, spec.outage_events * short_scale),
                    ]
                )
                guard = [_either(_all(guard), floor)]
            parts.extend(guard)
            result = all(holds for holds, _ in parts)
            margin = min(m for _, m in parts) if result else max(m for h, m in parts if not h)
            self.min_margin = min(self.min_margin, margin)
        else:
            result = False
        self._conditions[key] = result
        return result

    def firing(self, lane: int, tier: int, i: int) -> bool:
        """Whether the tier's alert is firing (not just pending) after evaluation ``i``."""
        hold = -(-self.slo.tiers[tier].hold // self.interval)
        if i - hold < 0:
            return False
        return all(self.condition(lane, tier, j) for j in range(i - hold, i + 1))

    def firing_set(self, i: int) -> frozenset[tuple[int, int]]:
        """Every (lane, tier) whose alert fires after evaluation ``i``."""
        return frozenset(
            (lane, tier)
            for lane in range(self.lanes)
            for tier in range(len(self.slo.tiers))
            if self.firing(lane, tier, i)
        )

    def first_change(self, lane: int, tier: int, after: int, firing: bool) -> int | None:
        """The first evaluation after ``after`` at which the alert's firing state is
        ``firing``, or None before the end."""
        for i in range(after + 1, self.evaluations + 1):
            if self.firing(lane, tier, i) == firing:
                return i
        return None

    def robust(self) -> bool:
        """Whether every comparison evaluated so far is clear of float rounding."""
        return self.min_margin >= ROBUST_MARGIN


def _all(parts: Sequence[tuple[bool, float]]) -> tuple[bool, float]:
    """Every part holds; the margin is how close the outcome is to flipping."""
    holds = all(h for h, _ in parts)
    return holds, min(m for _, m in parts) if holds else max(m for h, m in parts if not h)


def _either(a: tuple[bool, float], b: tuple[bool, float]) -> tuple[bool, float]:
    """Either holds: it flips only if every part that holds flips, or the closest that
    does not starts to."""
    if a[0] or b[0]:
        return True, max(m for h, m in (a, b) if h)
    return False, min(a[1], b[1])


def _compare(lhs: int, rhs: int, strict: bool = False) -> tuple[bool, float]:
    """``lhs > rhs`` (or ``>=``) and how far, relatively, the two sides are apart."""
    holds = lhs > rhs if strict else lhs >= rhs
    largest = max(abs(lhs), abs(rhs))
    margin = abs(lhs - rhs) / largest if largest else 1.0
    return holds, margin

"""The scenarios every SLO's generated rule tests run, planned from the SLO's own math.

Each scenario is traffic per label set ("lane") in events per minute, changing at whole
minutes, plus the times at which to check which alerts fire and what some records hold.
Expectations come from :class:`compiler.targets.rule_tests.timeline.Timeline`, the exact
model of the generated rules; nothing here knows metric names or YAML (``promtool_files``
renders scenarios into promtool's format).

Scenarios (docs/testing.md):

- per tier, **above**: healthy traffic for the tier's long window plus the base window, then
  an error ratio just above the tier's threshold: the tier fires when its windows predict;
  then back to healthy: it clears within its short window;
- per tier, **below**: an error ratio just below the threshold from the start (every window
  holds it from the first evaluation): the tier stays silent (tiers with lower thresholds
  may fire, and are listed);
- **outage**: every event fails after a healthy history: the fastest tier fires first, and
  one base window in, the records read exactly the events (every one failed);
- **guard**: the same error ratio at low and at normal volume: only the normal one fires;
- **zero traffic**: no alert; every error ratio is 0 and the budget is whole (never NaN).

Tiers whose long window is at most :data:`PRECISE_MAX_LONG_WINDOW` are checked evaluation by
evaluation (every minute); longer ones at a 5-minute evaluation interval, because promtool's
cost grows with rules times evaluations.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache, partial
from typing import Literal

from compiler.durations import Duration
from compiler.targets.rule_tests.timeline import Schedule, SloMath, TierMath, Timeline, constant

PRECISE_INTERVAL = 1  # minutes between evaluations in the precise test file
LONG_INTERVAL = 5  # ... and in the file for long windows (base window 5m tiles it exactly)
PRECISE_MAX_LONG_WINDOW = 6 * 60  # minutes: longer tiers go into the long file
ABOVE, BELOW = Fraction(11, 10), Fraction(9, 10)  # "just above/below" a threshold
HEALTHY_SHARE = Fraction(1, 2)  # of the budget (or of the lowest threshold, if lower)
OUTAGE_HISTORY_LIMIT = 24 * 60  # minutes of history tried to show the fastest tier first
_ATTEMPTS = 12  # nudges of the counts tried when a check would sit on a float knife-edge

# (lane, tier) pairs firing at a check.
Firing = frozenset[tuple[int, int]]


@dataclass(frozen=True)
class AlertCheck:
    """At ``minute``, exactly these (lane, tier) alerts fire."""

    minute: int
    firing: Firing


@dataclass(frozen=True)
class RecordCheck:
    """At ``minute``, the records show the given traffic.

    ``events``: the base-window records read, per lane, ``per_lane`` (total, bad) events per
    minute (a check that the synthetic series reach the SLI as intended). ``idle``: every
    error ratio is 0 and the budget remaining 1.
    """

    minute: int
    kind: Literal["events", "idle"]
    per_lane: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Scenario:
    """One promtool test group: traffic per lane, checks, and what it shows."""

    kind: Literal["above", "below", "outage", "guard", "floor", "zero", "healthy"]
    title: str
    interval: int  # minutes between rule evaluations
    end: int  # minute of the last check
    lanes: tuple[Schedule, ...]
    alert_checks: tuple[AlertCheck, ...] = ()
    record_checks: tuple[RecordCheck, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Everything planned for one SLO."""

    scenarios: tuple[Scenario, ...]


class _KnifeEdge(Exception):
    """A check whose outcome would depend on float rounding; the caller nudges the counts."""


def in_long_file(tier: TierMath) -> bool:
    """Whether a tier's scenarios run at the long file's 5-minute evaluation interval."""
    return tier.long > PRECISE_MAX_LONG_WINDOW * 60


@lru_cache(maxsize=256)
def plan(slo: SloMath, tier_names: tuple[str, ...], lanes: int) -> Plan:
    """The scenarios for an SLO with this math (``lanes``: 2 when a second label set of
    its group_by can show that a burn stays with its own group, else 1)."""
    planner = _Planner(slo, tier_names, lanes)
    return Plan(tuple(planner.scenarios()))


class _Planner:
    def __init__(self, slo: SloMath, names: tuple[str, ...], lanes: int) -> None:
        self.slo = slo
        self.names = names
        self.lanes = lanes
        self.base = slo.base // 60
        # Healthy traffic spends half the budget's sustainable rate (or burns at half the
        # lowest threshold, if that is lower): on track, and below every tier.
        self.lowest = min([slo.budget, *(t.threshold for t in slo.tiers)])
        self.volume = _volume(slo, self.lowest)
        self.healthy = round(HEALTHY_SHARE * self.lowest * self.volume)

    # -- helpers ---------------------------------------------------------------------------

    def _rate(self, per_minute: Fraction | int) -> str:
        return _per_second(Fraction(per_minute))

    def _percent(self, bad: Fraction | int, total: Fraction | int) -> str:
        return _percent(Fraction(bad) / Fraction(total))

    def _witness(self, extra: int = 0) -> tuple[Schedule, ...]:
        """A second lane with healthy traffic throughout, when the SLO has groups."""
        healthy = constant(self.volume, self.healthy + extra)
        return ((healthy,),) if self.lanes > 1 else ()

    def _timeline(self, lanes: tuple[Schedule, ...], interval: int, end: int) -> Timeline:
        return Timeline(self.slo, lanes, interval * 60, end * 60)

    def _checks(self, timeline: Timeline, minutes: list[int]) -> tuple[AlertCheck, ...]:
        step = timeline.interval // 60
        unique = sorted({m for m in minutes if 0 < m <= timeline.end // 60 and m % step == 0})
        checks = tuple(AlertCheck(m, timeline.firing_set(m // step)) for m in unique)
        if not timeline.robust():
            raise _KnifeEdge
        return checks

    def _nudged(self, build: Callable[[int], Scenario | None]) -> Scenario | None:
        for attempt in range(_ATTEMPTS):
            try:
                return build(attempt)
            except _KnifeEdge:
                continue
        raise RuntimeError("no scenario clear of float rounding found")  # pragma: no cover

    # -- scenarios -------------------------------------------------------------------------

    def scenarios(self) -> list[Scenario]:
        found: list[Scenario | None] = []
        if not self.slo.tiers:
            found.append(self._nudged(self._healthy))
        for index in range(len(self.slo.tiers)):
            found.append(self._nudged(partial(self._above, index)))
            found.append(self._nudged(partial(self._below, index)))
        if self.slo.tiers:
            found.append(self._nudged(self._outage))
            found.append(self._nudged(self._quiet_outage))
            for attempt in range(_ATTEMPTS):
                try:
                    found.extend(self._guard(attempt))
                    break
                except _KnifeEdge:
                    continue
        found.append(self._zero())
        return [s for s in found if s is not None]

    def _interval(self, tier: TierMath) -> int:
        return LONG_INTERVAL if in_long_file(tier) else PRECISE_INTERVAL

    def _healthy(self, attempt: int) -> Scenario:
        end = _ceil(self.base + 2, PRECISE_INTERVAL)
        lanes = ((constant(self.volume, self.healthy),), *self._witness())
        return Scenario(
            kind="healthy",
            title=(
                f"{self._rate(self.volume)} with {self._percent(self.healthy, self.volume)} "
                "bad: the base-window records read exactly the synthetic events"
            ),
            interval=PRECISE_INTERVAL,
            end=end,
            lanes=lanes,
            record_checks=(_events(lanes, end, self.base),),
        )

    def _above(self, index: int, attempt: int) -> Scenario:
        tier = self.slo.tiers[index]
        interval = self._interval(tier)
        n = self.volume
        burn = min(n, math.ceil(ABOVE * tier.threshold * n) + attempt // 2)
        healthy = self.healthy - attempt % 2
        long_window, short_window = tier.long // 60, tier.short // 60
        start = _ceil(long_window + self.base, interval)
        step = interval
        # Pass 1: when does the tier fire after the step?
        burning = (constant(n, healthy), constant(n, burn, start))
        limit = start + long_window + self.base + tier.hold // 60 + 2 * step
        first = self._timeline((burning, *self._witness()), interval, limit)
        fired = first.first_change(0, index, start // step, True)
        assert fired is not None, "a burn above the threshold fires within a long window"
        fires = fired * step
        # Pass 2: errors stop once the short window is full of them; when does it clear?
        recover = _ceil(fires + short_window + self.base, step)
        schedule = (*burning, constant(n, healthy, recover))
        limit = recover + short_window + self.base + 2 * step
        timeline = self._timeline((schedule, *self._witness()), interval, limit)
        cleared = timeline.first_change(0, index, recover // step, False)
        assert cleared is not None, "an alert clears once errors stop"
        clears = cleared * step
        history = [_ceil(start * q // 4, step) for q in (1, 2, 3, 4)]
        checks = self._checks(
            timeline, [*history, fires - step, fires, recover, clears - step, clears]
        )
        lanes = (schedule, *self._witness())
        return Scenario(
            kind="above",
            title=(
                f"{self.names[index]}: {self._percent(healthy, n)} bad for "
                f"{_minutes(start)} (healthy), then {self._percent(burn, n)} "
                f"({_times(Fraction(burn, n) / tier.threshold)} its threshold) fires at "
                f"{_minutes(fires)}, {_minutes(fires - start)} after the step as its windows "
                f"predict; healthy again at {_minutes(recover)}, it clears at "
                f"{_minutes(clears)}{self._isolation()}"
            ),
            interval=interval,
            end=clears,
            lanes=lanes,
            alert_checks=checks,
            record_checks=(_events(lanes, start - step, self.base),),
        )

    def _below(self, index: int, attempt: int) -> Scenario:
        tier = self.slo.tiers[index]
        interval = self._interval(tier)
        n = self.volume
        bad = max(0, math.floor(BELOW * tier.threshold * n) - attempt)
        # The ratio is the same from the first evaluation in every window (bad and total
        # ramp up together), so once the short window is full nothing more can change.
        end = _ceil(tier.short // 60 + self.base + 2 * interval, interval)
        timeline = self._timeline(((constant(n, bad),),), interval, end)
        checks = self._checks(timeline, [_ceil(end // 2, interval), end])
        assert not any(tier_index == index for c in checks for _, tier_index in c.firing)
        return Scenario(
            kind="below",
            title=(
                f"{self.names[index]}: {self._percent(bad, n)} bad "
                f"({_times(Fraction(bad, n) / tier.threshold)} its threshold) from the start, "
                f"in every window from the first evaluation, never fires it (checked to "
                f"{_minutes(end)})"
            ),
            interval=interval,
            end=end,
            lanes=((constant(n, bad),),),
            alert_checks=checks,
        )

    def _outage(self, attempt: int) -> Scenario | None:
        n = self.volume
        # Error-free history: the least a slow tier's long window holds against the burst.
        healthy = attempt
        step = PRECISE_INTERVAL
        tiers = range(len(self.slo.tiers))
        longest = max(t.long for t in self.slo.tiers) // 60
        precise = [t.long // 60 for t in self.slo.tiers if not in_long_file(t)]
        shortest_history = _ceil(max(precise, default=0) + self.base, step)
        hold = max(t.hold for t in self.slo.tiers) // 60

        def first_firings(history: int) -> dict[int, int]:
            schedule = (constant(n, healthy), constant(n, n, history))
            end = history + min(longest + self.base, OUTAGE_HISTORY_LIMIT) + hold + 2 * step
            timeline = self._timeline((schedule,), step, end)
            found = {}
            for tier in tiers:
                fired = timeline.first_change(0, tier, history, True)
                if fired is not None:
                    found[tier] = fired - history
            return found

        def earliest(firings: dict[int, int]) -> tuple[int, frozenset[int]] | None:
            if not firings:
                return None
            first = min(firings.values())
            return first, frozenset(t for t, m in firings.items() if m == first)

        # The order the math gives with every window full of history ...
        expected = earliest(first_firings(_ceil(longest + self.base, step)))
        if expected is None:
            # No tier fires within the day a total outage is followed (an objective so low
            # that its one tier needs more of its window in errors): nothing to show here.
            return None
        # ... shown with as little history as it takes (long windows over a short history
        # weigh a burst more, so a slow tier could otherwise fire first).
        candidates = [
            shortest_history,
            *range(_ceil(shortest_history, 60), OUTAGE_HISTORY_LIMIT + 1, 60),
        ]
        history = next(
            (h for h in candidates if h > 0 and earliest(first_firings(h)) == expected),
            None,
        )
        ordered = history is not None
        history = history if history is not None else max(shortest_history, self.base + step)
        firings = first_firings(history)
        schedule = (constant(n, healthy), constant(n, n, history))
        # One base window into the outage the records read every event as failed: each SLO
        # runs this scenario on its own rules, so its own series must reach them exactly.
        counted = history + self.base
        end = max(history + max(firings.values(), default=self.base + step), counted)
        timeline = self._timeline((schedule, *self._witness(-attempt)), step, end)
        moments = [history - step, history]
        for offset in firings.values():
            moments += [history + offset - step, history + offset]
        checks = self._checks(timeline, moments)
        fastest = " and ".join(self.names[t] for t in sorted(expected[1]))
        when = f"{_minutes(expected[0])} after it starts"
        result = (
            f"fires first, {when}"
            if ordered
            else f"fires {when} (over less history than their windows, slower tiers may "
            "fire as early)"
        )
        return Scenario(
            kind="outage",
            title=(
                f"total outage after {_minutes(history)} at {self._percent(healthy, n)} bad "
                f"({self._rate(n)}): {fastest} {result}{self._isolation()}"
            ),
            interval=step,
            end=end,
            lanes=(schedule, *self._witness(-attempt)),
            alert_checks=checks,
            record_checks=(_events((schedule, *self._witness(-attempt)), counted, self.base),),
        )

    def _guard(self, attempt: int) -> list[Scenario]:
        guarded = [(i, t) for i, t in enumerate(self.slo.tiers) if t.min_events or t.min_bad_events]
        if not guarded:
            return []
        highest = max(t.threshold for t in self.slo.tiers)
        ratio = _nice_at_least(min(Fraction(1), 2 * highest))
        limits = []
        for _, tier in guarded:
            minutes = tier.long // 60
            if tier.min_events:
                limits.append(Fraction(tier.min_events, minutes))
            if tier.min_bad_events:
                limits.append(Fraction(tier.min_bad_events) / (ratio * minutes))
            if tier.outage_events:  # the quiet lane's failures stay noise, below the floor
                limits.append(Fraction(tier.outage_events) / (ratio * minutes))
        quiet = _nice_at_most(min(limits) / 2 / 2**attempt)
        if quiet is None or _decimals(quiet * ratio) > 9:
            return []
        busy = (constant(self.volume, self.volume * ratio),)
        low = (constant(quiet, quiet * ratio),)
        step = PRECISE_INTERVAL
        probe = self._timeline((busy,), step, OUTAGE_HISTORY_LIMIT)
        fired = [probe.first_change(0, i, 0, True) for i, _ in guarded]
        end = max([30, *(f for f in fired if f is not None)])
        moments = [end // 2, end, *(f for f in fired if f is not None)]
        moments += [m - step for m in moments]
        share = _percent(ratio)
        guard = "; ".join(dict.fromkeys(_guard_text(t) for _, t in guarded))
        quiet_text = f"{_per_second(quiet)} with {share} bad stays silent ({guard})"
        busy_text = f"{_per_second(Fraction(self.volume))} with the same {share} bad fires"
        if self.lanes > 1:
            timeline = self._timeline((busy, low), step, end)
            return [
                Scenario(
                    kind="guard",
                    title=f"low-traffic guard: {{1}} at {quiet_text}; {{0}} at {busy_text}",
                    interval=step,
                    end=end,
                    lanes=(busy, low),
                    alert_checks=self._checks(timeline, moments),
                )
            ]
        quiet_line = self._timeline((low,), step, end)
        busy_line = self._timeline((busy,), step, end)
        return [
            Scenario(
                kind="guard",
                title=f"low-traffic guard: {quiet_text}",
                interval=step,
                end=end,
                lanes=(low,),
                alert_checks=self._checks(quiet_line, moments),
            ),
            Scenario(
                kind="guard",
                title=f"low-traffic guard: {busy_text}",
                interval=step,
                end=end,
                lanes=(busy,),
                alert_checks=self._checks(busy_line, moments),
            ),
        ]

    def _quiet_outage(self, attempt: int) -> Scenario | None:
        """A group below a tier's traffic guard, every event failing: the tier fires once its
        long window holds the outage floor's failed events (the guard stops noise, not an
        outage)."""
        floored = [(i, t) for i, t in enumerate(self.slo.tiers) if t.outage_events and t.min_events]
        # The fastest tier with room between its floor and its guard: a rate under the guard
        # (nine tenths of it, rounded down) at which the floor is reached within the window.
        chosen: tuple[int, TierMath, Fraction] | None = None
        for index, tier in sorted(floored, key=lambda item: -item[1].threshold):
            minutes = tier.long // 60
            rate = _nice_at_most(Fraction(9 * tier.min_events, 10 * minutes))
            # Later attempts step off a round rate whose events land exactly on the floor.
            rate = rate * Fraction(7, 7 + attempt) if rate is not None else None
            if rate is not None and rate * minutes >= Fraction(6, 5) * tier.outage_events:
                chosen = index, tier, rate
                break
        if chosen is None:
            return None
        index, tier, rate = chosen
        minutes = tier.long // 60
        lanes: tuple[Schedule, ...] = ((constant(rate, rate),),)
        step = self._interval(tier)
        probe = self._timeline(lanes, step, minutes * 2)
        fired = probe.first_change(0, index, 0, True)
        if fired is None:  # pragma: no cover - the floor is reached within the window
            return None
        end = fired * step + 2 * step
        moments = [fired * step - step, fired * step, end]
        timeline = self._timeline(lanes, step, end)
        window = _minutes(minutes)
        return Scenario(
            kind="floor",
            title=(
                f"outage at low traffic: {_per_second(rate)}, every event failing (under "
                f"{tier.min_events} events in {window}), fires once the {window} window reads "
                f"{tier.outage_events} failed events (over less history than the window, "
                "sooner)"
            ),
            interval=step,
            end=end,
            lanes=lanes,
            alert_checks=self._checks(timeline, moments),
        )

    def _zero(self) -> Scenario:
        end = 60  # the period record needs one whole hour tile
        lanes: tuple[Schedule, ...] = ((constant(0, 0),),)
        timeline = self._timeline(lanes, PRECISE_INTERVAL, end)
        checks = self._checks(timeline, [5, 30, 60]) if self.slo.tiers else ()
        return Scenario(
            kind="zero",
            title="zero traffic: no alert; every error ratio is 0 and the budget whole, not NaN",
            interval=PRECISE_INTERVAL,
            end=end,
            lanes=lanes,
            alert_checks=checks,
            record_checks=(RecordCheck(end, "idle"),),
        )

    def _isolation(self) -> str:
        return "; {1} stays healthy and silent" if self.lanes > 1 else ""


def _events(lanes: tuple[Schedule, ...], minute: int, base: int) -> RecordCheck:
    """What the base-window records read at ``minute`` (traffic steady for the base window)."""
    per_lane = []
    for schedule in lanes:
        phase = max((p for p in schedule if p.start <= minute - base), key=lambda p: p.start)
        assert all(p.start <= minute - base or p.start >= minute for p in schedule)
        assert phase.total.denominator == 1 and phase.bad.denominator == 1
        per_lane.append((int(phase.total), int(phase.bad)))
    return RecordCheck(minute, "events", tuple(per_lane))


def _guard_text(tier: TierMath) -> str:
    window = _minutes(tier.long // 60)
    parts = []
    if tier.min_events:
        parts.append(f"under {tier.min_events} events in {window}")
    if tier.min_bad_events:
        parts.append(f"under {tier.min_bad_events} bad events in {window}")
    text = " and ".join(parts)
    if tier.outage_events:
        text += f", under {tier.outage_events} failed"
    return text


def _volume(slo: SloMath, lowest: Fraction) -> int:
    """Normal traffic in events per minute: a round rate per second at which the budget and
    every threshold resolve to 1% and every guard is met twice over."""
    for exponent in range(0, 12):
        for mantissa in (1, 2, 5):
            per_second = int(mantissa * 10**exponent)
            n = 60 * per_second
            if lowest * n < 100:
                continue
            if all(
                per_second * t.long >= 2 * t.min_events
                and t.threshold * per_second * t.long >= 2 * t.min_bad_events
                for t in slo.tiers
            ):
                return n
    raise ValueError("no traffic volume satisfies the guards")  # pragma: no cover


def _nice_at_least(value: Fraction) -> Fraction:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value``."""
    for exponent in range(-9, 1):
        for mantissa in (1, 2, 5):
            candidate = Fraction(mantissa) * Fraction(10) ** exponent
            if candidate >= value:
                return min(candidate, Fraction(1))
    return Fraction(1)


def _nice_at_most(value: Fraction) -> Fraction | None:
    """The largest 1, 2 or 5 times a power of ten (at least 1e-6) not above ``value``."""
    best = None
    for exponent in range(-6, 7):
        for mantissa in (1, 2, 5):
            candidate = Fraction(mantissa) * Fraction(10) ** exponent
            if candidate <= value:
                best = candidate
    return best


def _decimals(value: Fraction) -> int:
    digits = 0
    while value.denominator != 1:
        value *= 10
        digits += 1
        if digits > 30:
            break
    return digits


def _ceil(minutes: int, step: int) -> int:
    return -(-minutes // step) * step


def _minutes(minutes: int) -> str:
    """``95`` → ``1h35m``."""
    return str(Duration(minutes * 60)) if minutes > 0 else "0m"


def _percent(ratio: Fraction) -> str:
    return f"{_number(ratio * 100)}%"


def _times(ratio: Fraction) -> str:
    return f"{_number(ratio)}x"


def _per_second(per_minute: Fraction) -> str:
    return f"{_number(per_minute / 60)} events/s"


def _number(value: Fraction) -> str:
    """Four significant digits, never in exponent notation: ``20000``, ``0.001667``."""
    if value.denominator == 1:
        return str(value.numerator)
    return format(Decimal(f"{float(value):.4g}"), "f")

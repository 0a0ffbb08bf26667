"""Synthetic data on which a signal must fire, and data on which it must stay silent.

Every kind of condition knows what its data looks like in both states. A :class:`Scenario`
holds a few *cases*, one label set of ``group_by`` each: one that crosses the condition and
recovers, one that stays on the quiet side, and the traps of the kind (low traffic for a
ratio, a baseline near zero, a series returning after a gap, a value rising but still low).
Each case knows at which minutes its alert is firing and at which it is silent, derived from
the rule semantics (windows, ``for``, ``clear_after``) with margins where an exact minute
would depend on how Prometheus extrapolates a partial window. ``targets/rule_tests.py``
turns scenarios into promtool unit tests; the pieces here serve drills as well.

Series are written with :mod:`compiler.synthetic`; labels that selectors constrain get values
that satisfy their matchers (``code=~"5.."`` → ``500``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, assert_never

from compiler.durations import Duration
from compiler.model.signal import (
    Baseline,
    GaugeMeasure,
    Measure,
    NewEvents,
    NoData,
    QuantileMeasure,
    RateMeasure,
    RatioMeasure,
    RawPromQL,
    Signal,
    Threshold,
    Trend,
)
from compiler.promql import Matcher, Selector
from compiler.synthetic.labels import LabelError, selected_labels
from compiler.synthetic.series import Point, SyntheticSeries, counter, gauge

FIRING, QUIET = "firing", "quiet"
_HOURLY = 60  # minutes between evaluations of a scenario that spans a week
_LONG_OFFSET = 24 * 60


@dataclass(frozen=True)
class Spread:
    """Observations of a histogram split between two buckets (indices; the last is +Inf)."""

    low: int
    high: int
    high_share: float = 0.0

    @classmethod
    def only(cls, bucket: int) -> Spread:
        """Every observation in one bucket."""
        return cls(bucket, bucket)


# A measure's level: its value, or for a histogram where its observations fall.
Level = float | Spread


class Unsupported(ValueError):
    """No scenario can be built for this signal; the message says why."""


@dataclass(frozen=True)
class Case:
    """One label set in a scenario: its series and what its alert does when."""

    name: str
    labels: tuple[tuple[str, str], ...]  # the group_by labels of this case
    series: tuple[SyntheticSeries, ...]
    firing_at: tuple[int, ...] = ()
    silent_at: tuple[int, ...] = ()
    silent_from: int | None = None  # silent at every minute from this one on

    def known(self, minute: int) -> bool:
        """Whether the scenario says what the alert does at ``minute``."""
        return (
            minute in self.firing_at
            or minute in self.silent_at
            or (self.silent_from is not None and minute >= self.silent_from)
        )

    def firing(self, minute: int) -> bool:
        """Whether the alert fires at ``minute`` (only meaningful where it is known)."""
        return minute in self.firing_at


@dataclass(frozen=True)
class Scenario:
    """Cases evaluated together (one label set each), and how long the data runs."""

    title: str
    cases: tuple[Case, ...]
    interval: int = 1  # minutes between rule evaluations; every checked minute is on it

    def checks(self) -> list[tuple[int, tuple[Case, ...]]]:
        """(minute, cases firing then) for each minute at which every case is known."""
        minutes: set[int] = set()
        for case in self.cases:
            minutes.update(case.firing_at, case.silent_at)
            if case.silent_from is not None:
                minutes.add(case.silent_from)
        return [
            (minute, tuple(case for case in self.cases if case.firing(minute)))
            for minute in sorted(minutes)
            if minute >= 0 and all(case.known(minute) for case in self.cases)
        ]

    @property
    def minutes(self) -> int:
        """Length of the data: one minute past the last check."""
        return max(minute for minute, _ in self.checks()) + 1


def scenarios(signal: Signal) -> list[Scenario]:
    """The scenarios of one signal; cases share one scenario when group_by tells them apart.

    Raises :class:`Unsupported` for conditions no data can be derived for (raw PromQL, rates
    of queries, matchers no simple value satisfies).
    """
    title, cases, interval = _cases(signal)
    if signal.group_by:
        return [Scenario(title, tuple(cases), interval)]
    # Without labels to tell them apart each case runs alone; a quiet one is still checked at
    # every minute the others are, not only once.
    together = Scenario(title, tuple(cases), interval)
    minutes = tuple(minute for minute, _ in together.checks())
    return [
        Scenario(f"{title} ({case.name})", (_checked_at(case, minutes),), interval)
        for case in cases
    ]


def _checked_at(case: Case, minutes: Iterable[int]) -> Case:
    if case.silent_from is None:
        return case
    extra = tuple(m for m in minutes if m >= case.silent_from and m not in case.silent_at)
    return replace(case, silent_at=case.silent_at + extra)


def _cases(signal: Signal) -> tuple[str, list[Case], int]:
    condition = signal.condition
    timing = _timing(signal)
    match condition:
        case Threshold():
            return "crosses the threshold and recovers", _threshold(condition, signal, timing), 1
        case Baseline():
            cases, interval = _baseline(condition, signal, timing)
            return "rises above its baseline and recovers", cases, interval
        case Trend():
            return "rises and levels off", _trend(condition, signal, timing), 1
        case NewEvents():
            title = "new events, and series that are not new"
            return title, _new_events(condition, signal, timing), 1
        case NoData():
            return "data stops and resumes", _no_data(condition, signal, timing), 1
        case RawPromQL():
            raise Unsupported(
                "raw PromQL: the compiler cannot tell what data makes it fire; describe a drill"
            )
        case _:
            assert_never(condition)


@dataclass(frozen=True)
class _Timing:
    """A signal's for and clear_after in whole minutes."""

    hold: int
    keep: int


def _timing(signal: Signal) -> _Timing:
    return _Timing(_minutes(signal.for_), _minutes(signal.clear_after))


def _minutes(duration: Duration | None) -> int:
    if duration is None:
        return 0
    if duration.seconds % 60:
        raise Unsupported(f"{duration} is not whole minutes; the tests evaluate every minute")
    return duration.seconds // 60


def _group(signal: Signal, name: str) -> dict[str, str]:
    return {label: name for label in signal.group_by}


def _case(
    signal: Signal,
    name: str,
    series: Iterable[SyntheticSeries],
    *,
    firing_at: tuple[int, ...] = (),
    silent_at: tuple[int, ...] = (),
    silent_from: int | None = None,
) -> Case:
    labels = tuple(sorted(_group(signal, name).items()))
    return Case(name, labels, tuple(series), firing_at, silent_at, silent_from)


# --- thresholds -----------------------------------------------------------------------------


def _threshold(condition: Threshold, signal: Signal, timing: _Timing) -> list[Case]:
    measure, window = condition.measure, _window_minutes(condition.window)
    fire, quiet = _threshold_levels(measure, condition.op, condition.value)
    # Everything starts on the quiet side; a rate over a window still filling up reads low,
    # so a "below" signal may fire briefly at the start: begin once that has passed.
    start = window + timing.hold + timing.keep + 2
    # A gauge's new value counts at once; a windowed value is certain once the window holds
    # only the new data, and cannot have crossed at the step itself.
    crossed = start + window + timing.hold
    recover = crossed + 2
    traffic = _traffic(condition.min_events, condition.window)
    cases = [
        _measure_case(
            signal,
            FIRING,
            measure,
            [(0, quiet), (start, fire), (recover, quiet)],
            traffic,
            silent_at=(start - 1, start + timing.hold - (0 if window else 1)),
            firing_at=(crossed, recover - (0 if window else 1) + timing.keep),
            silent_from=recover + window + timing.keep,
        ),
        _measure_case(signal, QUIET, measure, [(0, quiet)], traffic, silent_from=start - 1),
    ]
    if condition.min_events:
        cases.append(
            _low_traffic(signal, condition.min_events, condition.window, [(0, fire)], start - 1)
        )
    return cases


def _measure_case(
    signal: Signal,
    name: str,
    measure: Measure,
    levels: Sequence[tuple[int, Level]],
    traffic: float,
    **expected: Any,
) -> Case:
    """A case whose measure follows ``levels`` (see :func:`_measure_series`)."""
    series = _measure_series(measure, _group(signal, name), levels, traffic)
    return _case(signal, name, series, **expected)


def _low_traffic(
    signal: Signal,
    min_events: int,
    window: Duration | None,
    levels: Sequence[tuple[int, Level]],
    settled: int,
) -> Case:
    """Levels that would fire, at half the events the low-traffic guard asks for."""
    assert window is not None and isinstance(signal.condition, Threshold | Baseline)
    traffic = min_events / (2 * window.seconds)
    measure = signal.condition.measure
    return _measure_case(signal, "low-traffic", measure, levels, traffic, silent_from=settled)


def _threshold_levels(measure: Measure, op: str, value: Decimal) -> tuple[Level, Level]:
    """(firing level, quiet level) of a threshold's measure."""
    theta = float(value)
    if isinstance(measure, QuantileMeasure):
        return _quantile_levels(measure, op, theta)
    if isinstance(measure, RatioMeasure):
        high = min(2 * theta, (1 + theta) / 2) if op == ">" else (1 + theta) / 2
        low = theta / 2
        return (high, low) if op == ">" else (low, high)
    if op == ">":
        return (2 * theta, theta / 2) if theta > 0 else (theta + 1, theta - 1)
    return (theta / 2, 2 * theta) if theta > 0 else (theta - 1, theta + 1)


def _quantile_levels(measure: QuantileMeasure, op: str, theta: float) -> tuple[Spread, Spread]:
    """Observations whose quantile crosses ``theta``, with just enough of them on the far
    side that a lower quantile (``above``) or a higher one (``below``) would not cross."""
    q = float(measure.quantile)
    bounds = sorted(measure.buckets)
    lowers = [0.0, *bounds]
    alone = _bucket_quantiles(measure)  # the quantile when all observations share a bucket
    last = len(bounds)  # the +Inf bucket
    if op == ">":
        far = [j for j in range(last + 1) if lowers[j] >= theta and (j < last or lowers[j] > theta)]
        near = [j for j in range(last + 1) if alone[j] < theta]
        share = 2 * (1 - q) if q >= 0.5 else 1 - q / 2
    else:
        far = [j for j in range(last) if bounds[j] <= theta]
        near = [j for j in range(last + 1) if alone[j] > theta]
        share = (1 + q) / 2
    if not far or not near:
        raise Unsupported(f"no buckets of {measure.histogram.metric} on both sides of {theta:g}")
    if op == ">":
        return Spread(near[-1], far[0], share), Spread.only(near[-1])
    return Spread(far[-1], near[0], 1 - share), Spread.only(near[0])


def _traffic(min_events: int, window: Duration | None) -> float:
    """Events per second that satisfy a low-traffic guard twice over (at least one)."""
    if not min_events or window is None:
        return 1.0
    return max(1.0, 2 * min_events / window.seconds)


def _window_minutes(window: Duration | None) -> int:
    return 0 if window is None else math.ceil(window.seconds / 60)


# --- baselines ------------------------------------------------------------------------------


def _baseline(condition: Baseline, signal: Signal, timing: _Timing) -> tuple[list[Case], int]:
    """Cases of a baseline signal, and the evaluation interval (minutes) they are laid out on.

    A baseline a week back makes the data a week long; evaluating every minute of it is
    slow (every rule of the file runs at each step), so such scenarios use hourly
    evaluations, with every checked minute on that grid.
    """
    measure = condition.measure
    window = _window_minutes(condition.window)
    reach = _window_minutes(condition.baseline_window)
    offset = _window_minutes(condition.baseline_offset)
    grid = _HOURLY if offset >= _LONG_OFFSET and window <= _HOURLY else 1
    # The change starts so that the window ending at `start` holds only changed data (a
    # gauge: changes at `start`); `lead` earlier the window holds only calm data.
    lead = grid * math.ceil(window / grid) if window else grid
    start = grid * math.ceil((offset + reach + lead) / grid)
    change = start - window
    fires = start + grid * math.ceil(timing.hold / grid)
    last_true = fires + grid
    calm_again = last_true if window else last_true + 1
    # keep_firing_for counts from the first evaluation without the condition.
    keep = grid * math.ceil(timing.keep / grid)
    kept = last_true + keep
    cleared = grid * math.ceil((calm_again + window) / grid) + keep
    if offset and offset <= cleared - change:
        raise Unsupported("baseline_offset too short to hold the scenario's whole change")
    spiked = last_true - change + (0 if window else 1)  # changed part of a rolling baseline
    traffic = _traffic(condition.min_events, condition.window)
    spike, calm = _baseline_levels(condition, measure, spiked, floor_case=False)
    # The condition may hold as soon as the window holds some changed data (a gauge: at the
    # change), so the alert is certainly silent only until `for` after that.
    earliest = change + timing.hold - (0 if window else 1)
    silent = (start - lead, grid * (earliest // grid))
    cases = [
        _measure_case(
            signal,
            FIRING,
            measure,
            [(0, calm), (change, spike), (calm_again, calm)],
            traffic,
            silent_at=silent,
            firing_at=(fires, kept),
            silent_from=cleared,
        ),
        _measure_case(signal, QUIET, measure, [(0, calm)], traffic, silent_from=start - lead),
    ]
    if condition.floor > 0:
        try:
            low_spike, low = _baseline_levels(condition, measure, spiked, floor_case=True)
        except Unsupported:
            pass  # no data shows the floor at work (e.g. no bucket between); the rest holds
        else:
            below = [(0, low), (change, low_spike)]
            cases.append(
                _measure_case(
                    signal, "below-floor", measure, below, traffic, silent_from=start - lead
                )
            )
    if condition.min_events:
        spiking = [(0, calm), (change, spike)]
        cases.append(
            _low_traffic(signal, condition.min_events, condition.window, spiking, start - lead)
        )
    return cases, grid


def _baseline_levels(
    condition: Baseline, measure: Measure, spiked: int, *, floor_case: bool
) -> tuple[Level, Level]:
    """(spike, calm) levels: the spike exceeds factor x the baseline while the scenario
    expects the alert to fire, and the floor too unless ``floor_case`` (then it stays below
    the floor). ``spiked`` is how many minutes (a gauge: samples) of a rolling baseline's
    window the spike fills at the last minute the alert is expected to fire."""
    factor, floor = float(condition.factor), float(condition.floor)
    if isinstance(measure, QuantileMeasure):
        if condition.baseline_offset is None:
            raise Unsupported("a rolling quantile baseline mixes both levels in one histogram")
        values = _bucket_quantiles(measure)  # the calm level is the lowest bucket, index 0
        spikes = [
            i
            for i, v in enumerate(values)
            if v > factor * values[0] and ((v <= floor) if floor_case else (v > floor))
        ]
        if not spikes:
            raise Unsupported("no bucket is far enough above the lowest one")
        return Spread.only(spikes[0]), Spread.only(0)
    if isinstance(measure, RatioMeasure):
        spike = floor / 2 if floor_case else (1 + floor) / 2
    else:
        spike = floor / 2 if floor_case else 2 * max(floor, 1.0)
    total = float(_window_minutes(condition.baseline_window))
    if condition.baseline_offset is not None:
        total, spiked = 1.0, 0
    elif isinstance(measure, GaugeMeasure):  # a gauge's average counts samples, ends included
        total += 1
    if total <= factor * spiked:
        raise Unsupported("the rolling baseline catches up before the alert can fire")
    # Baseline = (calm * (total - spiked) + spike * spiked) / total; half of what fires.
    calm = spike * (total - factor * spiked) / (2 * factor * (total - spiked))
    return spike, calm


# --- trends ---------------------------------------------------------------------------------


def _trend(condition: Trend, signal: Signal, timing: _Timing) -> list[Case]:
    window = _window_minutes(condition.window)
    # Twice the slope that counts as rising (a unit per second if any rise counts).
    slope = 2 * float(condition.rising_faster_than) / condition.scale or 1.0
    per_minute = slope * 60
    above = float(condition.above) if condition.above is not None else 0.0
    level = above + per_minute
    start = window + timing.hold + timing.keep + 2
    crossed = start + window + timing.hold
    recover = crossed + 2
    end = recover + window + timing.keep

    def rising(first: float, since: int, until: int) -> list[Point]:
        return [(m, first + per_minute * (m - since)) for m in range(since, until + 1)]

    selector = condition.gauge
    cases = [
        _case(
            signal,
            FIRING,
            [
                gauge(
                    selector.metric,
                    _labels(selector, _group(signal, FIRING)),
                    [(0, level), *rising(level, start, recover)],
                )
            ],
            silent_at=(start - 1, start + timing.hold),
            firing_at=(crossed, recover + timing.keep),
            silent_from=end,
        ),
        _case(
            signal,
            "flat",
            [gauge(selector.metric, _labels(selector, _group(signal, "flat")), [(0, level)])],
            silent_from=start - 1,
        ),
    ]
    if condition.above is not None:
        low = above - per_minute * (end + 2)
        cases.append(
            _case(
                signal,
                "rising-below",
                [
                    gauge(
                        selector.metric,
                        _labels(selector, _group(signal, "rising-below")),
                        rising(low, 0, end + 1),
                    )
                ],
                silent_from=start - 1,
            )
        )
    return cases


# --- new events -----------------------------------------------------------------------------


def _new_events(condition: NewEvents, signal: Signal, timing: _Timing) -> list[Case]:
    window = _window_minutes(condition.window)
    if timing.hold >= window:
        raise Unsupported("for is not shorter than the window: a single event never fires")
    # Series present from minute 0 look new until the window has passed (a fresh Prometheus
    # has no earlier samples); start after that.
    settled = window + timing.keep + 1
    start = settled + timing.hold + 8
    gap_ends = start - window - 7  # a gap longer than window + the 5m lookback of `offset`
    counter_ = condition.counter

    def levels(name: str, shape: Sequence[Point]) -> SyntheticSeries:
        # Counter values as levels: the first sample of a new series is its first event.
        return gauge(counter_.metric, _labels(counter_, _group(signal, name)), shape)

    firing: dict[str, list[Point]] = {
        "new-series": [(0, None), (start, 1.0)],
        "incremented": [(0, 0.0), (start, 1.0)],
        # A restart: the counter is gone for two scrapes and comes back from zero.
        "reset-after-restart": [(0, 3.0), (start - 2, None), (start, 1.0)],
    }
    restarted_long_ago = condition.lookback.seconds >= (start - window - gap_ends + 1) * 60
    if restarted_long_ago:  # gone for longer than the window: no sample before the gap in it
        firing["reset-after-long-restart"] = [(0, 3.0), (gap_ends, None), (start, 1.0)]
        firing["grown-across-gap"] = [(0, 3.0), (gap_ends, None), (start, 5.0)]
    cases = [
        _case(
            signal,
            name,
            [levels(name, shape)],
            silent_at=(start - 1,),
            firing_at=(start + timing.hold, start + window - 1 + timing.keep),
            silent_from=start + window + timing.keep,
        )
        for name, shape in firing.items()
    ]
    silent: dict[str, list[Point]] = {
        "unchanged": [(0, 5.0)],
        "new-series-at-zero": [(0, None), (start, 0.0)],
        "restarted-without-events": [(0, 3.0), (start - 2, None), (start, 0.0)],
    }
    if restarted_long_ago:
        silent["back-after-gap"] = [(0, 3.0), (gap_ends, None), (start, 3.0)]
    cases += [
        _case(signal, name, [levels(name, shape)], silent_from=settled)
        for name, shape in silent.items()
    ]
    return cases


# --- no data --------------------------------------------------------------------------------


def _no_data(condition: NoData, signal: Signal, timing: _Timing) -> list[Case]:
    window = _window_minutes(condition.window)
    start = window + 2
    fires = start + window + timing.hold
    resume = fires + 3
    if signal.group_by and condition.lookback.seconds < (resume - start + 1) * 60:
        raise Unsupported("the lookback forgets a silent label set before the data resumes")

    def sources(name: str, shape: str) -> list[SyntheticSeries]:
        group = _group(signal, name)
        stops = shape == FIRING
        found: list[SyntheticSeries] = []
        if condition.up is not None:
            up_shape: list[Point] = [(0, 1.0), (start, 0.0), (resume, 1.0)] if stops else [(0, 1.0)]
            found.append(gauge("up", _labels(condition.up, group), up_shape))
        for selector in condition.series:
            silent: list[Point] = [(0, 1.0), (start, None), (resume, 1.0)] if stops else [(0, 1.0)]
            found.append(gauge(selector.metric, _labels(selector, group), silent))
        for selector in condition.counters:
            flat: list[Point] = [(0, 1.0), (start, 0.0), (resume, 1.0)] if stops else [(0, 1.0)]
            found.append(counter(selector.metric, _labels(selector, group), flat))
        return found

    return [
        _case(
            signal,
            FIRING,
            sources(FIRING, FIRING),
            silent_at=(start - 1, fires - 1),
            firing_at=(fires, resume - 1 + timing.keep),
            # A counter counts again one sample after it resumes.
            silent_from=resume + 1 + timing.keep,
        ),
        _case(signal, QUIET, sources(QUIET, QUIET), silent_from=start - 1),
    ]


# --- series for measures --------------------------------------------------------------------


def _measure_series(
    measure: Measure, group: dict[str, str], levels: Sequence[tuple[int, Level]], traffic: float
) -> list[SyntheticSeries]:
    """Series whose measure follows ``levels`` (start minute, level), with ``traffic``
    events per second where events are counted."""
    if isinstance(measure, QuantileMeasure):
        spreads = [(m, v if isinstance(v, Spread) else Spread.only(int(v))) for m, v in levels]
        return _histogram_series(measure, group, spreads, traffic)
    values = [(m, v) for m, v in levels if not isinstance(v, Spread)]
    assert len(values) == len(levels), "only a histogram's level is a spread"
    if isinstance(measure, GaugeMeasure):
        return [gauge(measure.selector.metric, _labels(measure.selector, group), values)]
    if isinstance(measure, RateMeasure):
        selector = _selector_of(measure.events.selector)
        per_second = [(m, v / measure.scale) for m, v in values]
        return [counter(selector.metric, _labels(selector, group), per_second)]
    return _ratio_series(measure, group, values, traffic)


def _ratio_series(
    measure: RatioMeasure, group: dict[str, str], levels: Sequence[tuple[int, float]], total: float
) -> list[SyntheticSeries]:
    numerator = _selector_of(measure.numerator.selector)
    denominator = _selector_of(measure.denominator.selector)
    part = [(m, total * v) for m, v in levels]
    rest = [(m, total * (1 - v)) for m, v in levels]
    if numerator.metric != denominator.metric:
        return [
            counter(numerator.metric, _labels(numerator, group), part),
            counter(denominator.metric, _labels(denominator, group), [(0, total)]),
        ]
    extra = [m for m in numerator.matchers if m not in denominator.matchers]
    if not extra:
        raise Unsupported("the numerator counts every event of the denominator")
    both = Selector(numerator.metric, (*numerator.matchers, *denominator.matchers))
    others = _labels(denominator, group, violate=extra[0])
    return [
        counter(numerator.metric, _labels(both, group), part),
        counter(denominator.metric, others, rest),
    ]


def _histogram_series(
    measure: QuantileMeasure,
    group: dict[str, str],
    levels: Sequence[tuple[int, Spread]],
    total: float,
) -> list[SyntheticSeries]:
    labels = _labels(measure.histogram, group)
    bounds = [*(f"{b:g}" for b in measure.buckets), "+Inf"]

    def at_most(index: int, spread: Spread) -> float:
        """Observations per second at or below bucket ``index`` (a cumulative bucket)."""
        share = (1 - spread.high_share) * (spread.low <= index)
        return total * (share + spread.high_share * (spread.high <= index))

    series = [
        counter(
            measure.bucket.metric,
            {**labels, "le": bound},
            [(m, at_most(index, spread)) for m, spread in levels],
        )
        for index, bound in enumerate(bounds)
    ]
    series.append(counter(measure.count.metric, labels, [(0, total)]))
    return series


def _bucket_quantiles(measure: QuantileMeasure) -> list[float]:
    """histogram_quantile's value when every observation falls in bucket i (last: +Inf)."""
    q = float(measure.quantile)
    bounds = sorted(measure.buckets)
    values = [
        lower + (upper - lower) * q for lower, upper in zip([0.0, *bounds], bounds, strict=False)
    ]
    return [*values, bounds[-1]]  # all above the largest bound: it reports that bound


# --- labels that satisfy selectors ----------------------------------------------------------


def _selector_of(selector: Selector | None) -> Selector:
    if selector is None:
        raise Unsupported("it reads a PromQL query; the compiler cannot tell which series feed it")
    return selector


def _labels(
    selector: Selector, group: dict[str, str], violate: Matcher | None = None
) -> dict[str, str]:
    """Labels of a series that ``selector`` matches, except that ``violate`` must not match."""
    try:
        return selected_labels(selector, group, missing=violate, prefer=_preferred)
    except LabelError as exc:
        raise Unsupported(str(exc)) from exc


# What scenario series read where a matcher leaves the choice open (they are in the generated
# tests, so the order is kept as it was): the matchers' own alternatives first.
_PREFERRED_VALUES = ("200", "ok", "x", "0", "500", "other", "1", "")


def _preferred(matchers: Sequence[Matcher]) -> list[str]:
    return [*(literal for m in matchers for literal in _literals(m)), *_PREFERRED_VALUES]


def _literals(matcher: Matcher) -> list[str]:
    if matcher.op in ("=", "!="):
        return [matcher.value, matcher.value + "x"]
    # 5..|429 → 500, 429: alternatives with any-character dots as zeros.
    return [
        re.sub(r"\\(.)", r"\1", alternative.strip("^$()").replace(".", "0"))
        for alternative in matcher.value.split("|")
    ]

"""The arithmetic of error budgets and multi-window burn-rate alerts.

Definitions (docs/spec.md, "The math"):

- error budget ``b = 1 - objective`` (99.9% → 0.001);
- burn rate over a window = error ratio in that window / ``b``; burning at 1 for the whole
  period uses exactly the budget;
- a tier with burn factor ``f`` fires when the error ratio exceeds ``f * b`` in both its long
  and its short window; sustained, such a burn consumes ``f * long / period`` of the budget
  in one long window (its *budget share*) and the whole budget in ``period / f``.

Factors are exact decimals so that specs, rules, tests and docs print the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from functools import lru_cache

from compiler.durations import Duration

# Bad events a window must be able to hold at a tier's threshold before that tier may fire,
# when a spec does not set min_events itself. One or two failures at low traffic is noise;
# ten is a pattern (at an error ratio equal to the budget, ten or more failures in a window
# sized this way happen with a probability below one in a million).
DEFAULT_MIN_BAD_EVENTS_AT_THRESHOLD = 10

DEFAULT_PERIOD = Duration.parse("30d")
_DIGITS = Context(prec=12, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class DefaultTier:
    """One of the SRE workbook's tiers, as a budget share so that it scales with the period."""

    severity: str
    long_window: Duration
    short_window: Duration
    budget_share_percent: Decimal


# The SRE workbook's four tiers (also Sloth's and kubernetes-mixin's): 14.4x, 6x, 3x and 1x
# for a 30-day period, i.e. 2%, 5%, 10% and 10% of the budget in the long window.
DEFAULT_TIERS: tuple[DefaultTier, ...] = (
    DefaultTier("critical", Duration.parse("1h"), Duration.parse("5m"), Decimal(2)),
    DefaultTier("critical", Duration.parse("6h"), Duration.parse("30m"), Decimal(5)),
    DefaultTier("warning", Duration.parse("1d"), Duration.parse("2h"), Decimal(10)),
    DefaultTier("warning", Duration.parse("3d"), Duration.parse("6h"), Decimal(10)),
)


def error_budget(objective_percent: Decimal) -> Decimal:
    """Allowed error ratio for an objective in percent (99.9 → 0.001)."""
    return (Decimal(100) - objective_percent) / Decimal(100)


def factor_from_share(share_percent: Decimal, period: Duration, long_window: Duration) -> Decimal:
    """Burn factor at which ``long_window`` consumes ``share_percent`` of the period's budget."""
    return exact(share_percent / Decimal(100) * Decimal(period.seconds) / long_window.seconds)


def share_from_factor(factor: Decimal, period: Duration, long_window: Duration) -> Decimal:
    """Percentage of the period's budget a burn at ``factor`` consumes in ``long_window``."""
    return exact(factor * Decimal(long_window.seconds) / Decimal(period.seconds) * 100)


def threshold_ratio(factor: Decimal, budget: Decimal) -> Decimal:
    """Error ratio above which a tier with burn ``factor`` fires (exact, not rounded)."""
    return factor * budget


# Failed events in a tier's long window that page whatever the traffic (the guard's outage
# floor): far more than the handful of failures a quiet group's noise makes, few enough that
# a quiet tenant's total outage pages within its fast tier's window (docs/spec.md).
DEFAULT_OUTAGE_EVENTS = 100
# The longest window the SLO-wide floor applies to (a tier may set its own).
MAX_FLOOR_WINDOW = Duration.parse("6h")


def default_min_events(factor: Decimal, budget: Decimal) -> int:
    """Events a long window must hold so that crossing the threshold takes ten bad events."""
    return math.ceil(Decimal(DEFAULT_MIN_BAD_EVENTS_AT_THRESHOLD) / threshold_ratio(factor, budget))


def exhaustion_time(period: Duration, factor: Decimal) -> float:
    """Seconds until the whole budget is gone at a constant burn of ``factor``."""
    return float(Decimal(period.seconds) / factor)


def step_response(
    error_ratio: float, window: Duration, base: Duration, interval: Duration, elapsed: float
) -> float:
    """Error ratio the rules record over ``window``, ``elapsed`` seconds after a step.

    The step is from no errors to ``error_ratio`` at constant traffic, at an evaluation
    time. The base window's rate ramps up linearly over the base window; a longer window is
    the mean of the base rate sampled at every evaluation in ``[t - window, t]``, so it
    lags an exact sliding window by about half the base window. A step down by ``e`` is
    ``e`` minus this response (the rules are linear in the error ratio).
    """

    def base_at(seconds: float) -> float:
        return error_ratio * min(max(seconds / base.seconds, 0.0), 1.0)

    if window == base:
        return base_at(elapsed)
    samples = [
        base_at(elapsed - k * interval.seconds)
        for k in range(window.seconds // interval.seconds + 1)
    ]
    return sum(samples) / len(samples)


def first_firing(
    error_ratio: float,
    threshold: float,
    long_window: Duration,
    short_window: Duration,
    base: Duration,
    interval: Duration,
) -> float | None:
    """Seconds after a step to ``error_ratio`` until both windows exceed ``threshold``.

    Evaluations happen every ``interval``; ``None`` if the ratio never exceeds the threshold.
    Add the tier's ``for`` to get the time the alert fires.
    """
    if error_ratio <= threshold:
        return None
    limit = long_window.seconds + base.seconds + interval.seconds
    for elapsed in range(0, limit + 1, interval.seconds):
        if all(
            step_response(error_ratio, window, base, interval, elapsed) > threshold
            for window in (long_window, short_window)
        ):
            return float(elapsed)
    return None  # pragma: no cover - the long window reaches error_ratio within the limit


def last_firing_after_recovery(
    error_ratio: float,
    threshold: float,
    short_window: Duration,
    base: Duration,
    interval: Duration,
) -> float:
    """Seconds after errors stop (following a long burn) during which the short window
    still exceeds ``threshold``; the alert resolves at the next evaluation."""
    last = 0.0
    for elapsed in range(
        0, short_window.seconds + base.seconds + interval.seconds + 1, interval.seconds
    ):
        remaining = error_ratio - step_response(error_ratio, short_window, base, interval, elapsed)
        if remaining > threshold:
            last = float(elapsed)
    return last


# Both are asked for the same few values (factors, budgets, windows) for every SLO.
@lru_cache(maxsize=4096, typed=True)
def exact(value: Decimal) -> Decimal:
    """Round to 12 significant digits and drop trailing zeros (14.40 → 14.4)."""
    rounded = _DIGITS.plus(value)
    normalized = rounded.normalize()
    # normalize() turns 100 into 1E+2; quantize back to an integer exponent for printing.
    if normalized.as_tuple().exponent > 0:  # type: ignore[operator]
        return normalized.quantize(Decimal(1))
    return normalized


@lru_cache(maxsize=4096, typed=True)
def format_number(value: Decimal | float | int) -> str:
    """A number as PromQL and YAML should show it: ``14.4``, ``0.001``, ``3``."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    text = format(exact(Decimal(value)), "f")
    return text


def format_percent(ratio: Decimal) -> str:
    """A ratio as a percentage: ``0.001`` → ``0.1%``."""
    return f"{format_number(ratio * 100)}%"

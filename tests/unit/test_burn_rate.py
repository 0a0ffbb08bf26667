"""The burn-rate math, as properties (hypothesis) and as the reference numbers."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import burn_rate
from compiler.durations import MAX_SECONDS, Duration, DurationError

periods = st.sampled_from(["1d", "7d", "28d", "30d", "90d", "365d"]).map(Duration.parse)
windows = st.sampled_from(["5m", "30m", "1h", "6h", "1d"]).map(Duration.parse)
objectives = st.decimals(Decimal("90"), Decimal("99.999"), places=3, allow_nan=False)
factors = st.decimals(Decimal("0.5"), Decimal("100"), places=2, allow_nan=False)


def test_the_workbook_tiers_at_30_days() -> None:
    period = Duration.parse("30d")
    factors_30d = [
        burn_rate.factor_from_share(t.budget_share_percent, period, t.long_window)
        for t in burn_rate.DEFAULT_TIERS
    ]
    assert factors_30d == [Decimal("14.4"), Decimal(6), Decimal(3), Decimal(1)]


def test_sloth_factors_at_28_days() -> None:
    period = Duration.parse("28d")
    assert [
        burn_rate.format_number(
            burn_rate.factor_from_share(t.budget_share_percent, period, t.long_window)
        )
        for t in burn_rate.DEFAULT_TIERS
    ] == ["13.44", "5.6", "2.8", "0.933333333333"]


@given(share=st.decimals(Decimal("0.1"), Decimal(50), places=1), period=periods, window=windows)
def test_share_and_factor_are_inverse(share: Decimal, period: Duration, window: Duration) -> None:
    factor = burn_rate.factor_from_share(share, period, window)
    back = burn_rate.share_from_factor(factor, period, window)
    assert abs(back - share) <= share * Decimal("1e-10")


@given(factor=factors, objective=objectives)
def test_default_guard_needs_ten_bad_events_at_the_threshold(
    factor: Decimal, objective: Decimal
) -> None:
    budget = burn_rate.error_budget(objective)
    threshold = burn_rate.threshold_ratio(factor, budget)
    if threshold >= 1:
        return
    events = burn_rate.default_min_events(factor, budget)
    assert events * threshold >= burn_rate.DEFAULT_MIN_BAD_EVENTS_AT_THRESHOLD
    assert (events - 1) * threshold < burn_rate.DEFAULT_MIN_BAD_EVENTS_AT_THRESHOLD


@given(factor=factors, period=periods)
def test_a_burn_at_the_factor_exhausts_the_budget_in_period_over_factor(
    factor: Decimal, period: Duration
) -> None:
    assert math.isclose(burn_rate.exhaustion_time(period, factor), period.seconds / float(factor))


@settings(deadline=None)  # a 6h window is thousands of steps: slow on a loaded machine
@given(low=st.floats(0.02, 0.5), high=st.floats(0.5, 1.0), long=st.sampled_from(["1h", "6h"]))
def test_a_stronger_burn_never_fires_later(low: float, high: float, long: str) -> None:
    five = Duration.parse("5m")
    args = (0.0144, Duration.parse(long), five, five, Duration.parse("1m"))
    slow = burn_rate.first_firing(low, *args)
    fast = burn_rate.first_firing(high, *args)
    assert slow is not None and fast is not None
    assert fast <= slow


def test_below_the_threshold_never_fires() -> None:
    five, one = Duration.parse("5m"), Duration.parse("1m")
    assert burn_rate.first_firing(0.01, 0.0144, Duration.parse("1h"), five, five, one) is None


@given(st.integers(1, MAX_SECONDS))
def test_durations_print_and_parse_back(seconds: int) -> None:
    duration = Duration(seconds)
    assert Duration.parse(str(duration)) == duration


def test_durations_beyond_the_limit_are_refused() -> None:
    with pytest.raises(DurationError, match="longer than 400d"):
        Duration.parse(str(Duration(MAX_SECONDS + 1)))


@pytest.mark.parametrize("text", ["", "5", "m", "1.5h", "5m1h", "0s", "-5m", "1 h"])
def test_not_durations(text: str) -> None:
    with pytest.raises(DurationError):
        Duration.parse(text)


def test_durations_print_as_prometheus_does() -> None:
    assert str(Duration.parse("90m")) == "1h30m"
    assert str(Duration.parse("28d")) == "4w"
    assert str(Duration.parse("30d")) == "30d"
    assert str(Duration.parse("365d")) == "1y"


@given(st.decimals(Decimal("0.000001"), Decimal("1000000"), places=6))
def test_numbers_print_without_exponents_or_trailing_zeros(value: Decimal) -> None:
    text = burn_rate.format_number(value)
    assert "E" not in text and "e" not in text
    assert Decimal(text) == burn_rate.exact(value)
    assert not (("." in text) and text.endswith("0"))

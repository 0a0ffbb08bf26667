"""Synthetic series served live: a scrape continues the backfilled samples exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from compiler.synthetic.series import (
    SyntheticSeries,
    counter,
    exposition,
    gauge,
    promtool_values,
)

shapes = st.lists(
    st.tuples(st.integers(0, 120), st.one_of(st.none(), st.floats(0, 1000, allow_nan=False))),
    max_size=6,
)


@given(shapes)
def test_total_at_matches_the_backfilled_samples(shape: list[tuple[int, float | None]]) -> None:
    series = counter("x_total", {}, shape)
    for minute, value in enumerate(series.samples(120)):
        if value is not None:
            assert abs(series.total_at(minute * 60) - value) <= 1e-6 * max(1.0, value)


@given(shapes, st.floats(0, 7200, allow_nan=False))
def test_total_at_never_decreases(shape: list[tuple[int, float | None]], seconds: float) -> None:
    series = counter("x_total", {}, shape)
    assert series.total_at(seconds + 1) >= series.total_at(seconds)


@given(shapes, st.lists(st.integers(1, 120), max_size=3))
def test_a_restarted_counter_counts_from_zero(
    shape: list[tuple[int, float | None]], restarts: list[int]
) -> None:
    series = counter("x_total", {}, shape, restarts)
    samples = series.samples(120)
    for minute, value in enumerate(samples):
        if minute in restarts:
            assert value is None  # the process is down for that scrape
        elif value is not None:
            assert abs(series.total_at(minute * 60) - value) <= 1e-6 * max(1.0, value)


def test_a_restart_is_a_reset_in_promtools_notation() -> None:
    series = counter("x_total", {}, [(0, 1 / 60), (3, 0.0)], restarts=[5])
    assert promtool_values(series, 8) == "0+1x3 3 _ 0+0x2"


def test_exposition() -> None:
    series: list[SyntheticSeries] = [
        counter("req_total", {"tenant": "a", "code": "200"}, [(0, 2.0)]),
        counter("req_total", {"tenant": "b"}, [(0, 1.0), (1, None)]),  # silent from minute 1
        gauge("up", {}, [(0, 1.0)]),
    ]
    assert exposition(series, start=1000, at=1090) == (
        'req_total{code="200",tenant="a"} 180\nup 1\n'
    )

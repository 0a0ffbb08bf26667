"""Synthetic counters, as promtool expands them, never go down (a drop reads as a reset)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from compiler.synthetic.series import counter, promtool_values


def _expand(notation: str) -> list[float]:
    """promtool's expansion of ``a+bxN`` segments: b added N times, in floating point."""
    values: list[float] = []
    for segment in notation.split():
        if "+" not in segment:
            values.append(float(segment))
            continue
        start, rest = segment.split("+", 1)
        step, count = rest.split("x")
        value = float(start)
        values.append(value)
        for _ in range(int(count)):
            value += float(step)
            values.append(value)
    return values


_shapes = st.lists(
    st.tuples(st.integers(0, 300), st.floats(0, 50, allow_nan=False).map(lambda r: round(r, 4))),
    min_size=1,
    max_size=6,
)


@given(_shapes)
def test_counters_never_decrease_as_promtool_reads_them(shape: list[tuple[int, float]]) -> None:
    values = _expand(promtool_values(counter("x_total", {}, shape), 300))
    assert len(values) == 301
    assert all(b >= a for a, b in itertools.pairwise(values))


def test_a_burst_that_stops_does_not_read_as_a_reset() -> None:
    """20.16 added a hundred times is 2016.0000000000036: the flat part may not start lower."""
    values = _expand(promtool_values(counter("x_total", {}, [(0, 0), (120, 0.336), (220, 0)]), 260))
    assert values[221] >= values[220]

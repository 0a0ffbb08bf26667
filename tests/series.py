"""Synthetic counter series in promtool's input notation, built from rates over time."""

from __future__ import annotations

import itertools
from collections.abc import Sequence


def counter(rates: Sequence[tuple[float, float]], minutes: int) -> str:
    """Values of a counter sampled every minute from minute 0 to ``minutes``.

    ``rates`` lists (start minute, events per second); each rate holds until the next one
    starts. promtool's ``a+bxn`` expands to n+1 values, so every segment after the first
    starts one increment past the previous segment's last value.
    """
    increments = [round(_rate_at(rates, minute) * 60, 9) for minute in range(minutes)]
    runs = [(inc, len(list(group))) for inc, group in itertools.groupby(increments)]
    if not runs:
        return "0"
    first_increment, first_count = runs[0]
    segments = [f"0+{_num(first_increment)}x{first_count}"]
    value = first_increment * first_count
    for increment, count in runs[1:]:
        segments.append(f"{_num(value + increment)}+{_num(increment)}x{count - 1}")
        value += increment * count
    return " ".join(segments)


def _rate_at(rates: Sequence[tuple[float, float]], minute: float) -> float:
    current = 0.0
    for start, rate in sorted(rates):
        if start <= minute:
            current = rate
    return current


def _num(value: float) -> str:
    return f"{value:.12g}"

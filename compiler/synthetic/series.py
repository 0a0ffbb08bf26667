"""Synthetic metric series described in plain terms, rendered for promtool and backfill.

A series is a metric, labels, and a shape: from minute m on, a counter grows at r events per
second (or a gauge holds the value v), or the series is silent. The same description renders
to promtool's unit-test notation (``0+60x10 660+120x5``) and to OpenMetrics text for
``promtool tsdb create-blocks-from openmetrics``, so generated rule tests, drills, dashboard
previews and the release gate's test history all speak one language.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from compiler.promql import quote

Kind = Literal["counter", "gauge"]
# (start minute, value): a counter's per-second rate or a gauge's level; None = no samples.
Point = tuple[float, float | None]


@dataclass(frozen=True)
class SyntheticSeries:
    """One series and how it evolves; samples are taken every ``step`` seconds from minute 0."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    shape: tuple[Point, ...]
    kind: Kind = "counter"
    # Minutes at which a counter's process restarts: no sample then, and from zero after.
    restarts: tuple[float, ...] = ()

    @property
    def selector(self) -> str:
        """The series as PromQL/promtool writes it: ``metric{a="b"}``."""
        if not self.labels:
            return self.metric
        inner = ", ".join(f"{name}={quote(value)}" for name, value in self.labels)
        return f"{self.metric}{{{inner}}}"

    def value_at(self, minute: float) -> float | None:
        """The rate (counter) or level (gauge) in force at ``minute``."""
        current: float | None = 0.0
        for start, value in sorted(self.shape, key=lambda point: point[0]):
            if start <= minute:
                current = value
        return current

    def samples(self, minutes: float, step: int = 60) -> list[float | None]:
        """Sample values at every step from minute 0 to ``minutes`` inclusive (None = none)."""
        steps = int(minutes * 60 // step)
        points = sorted(self.shape, key=lambda point: point[0])
        starts = [start for start, _ in points]

        def at(minute: float) -> float | None:  # value_at, without sorting at every sample
            index = bisect_right(starts, minute)
            return points[index - 1][1] if index else 0.0

        if self.kind == "gauge":
            return [at(i * step / 60) for i in range(steps + 1)]
        values: list[float | None] = []
        total = 0.0
        rate = 0.0
        for i in range(steps + 1):
            if i:
                # While silent the source keeps counting at its last rate; we just see nothing.
                current = at((i - 1) * step / 60)
                rate = rate if current is None else current
                total += rate * step
                if self._restarted((i - 1) * step / 60, i * step / 60):
                    total = 0.0
                    values.append(None)  # the process is down for this scrape
                    continue
            values.append(None if at(i * step / 60) is None else round(total, 9))
        return values

    def _restarted(self, before: float, minute: float) -> bool:
        """Whether the process restarts after ``before`` and by ``minute``."""
        return any(before < restart <= minute for restart in self.restarts)

    def total_at(self, seconds: float, step: int = 60) -> float:
        """A counter's value ``seconds`` after minute 0: :meth:`samples` between its steps.

        A live exporter serves this, so that scrapes continue a backfilled history without
        a counter reset.
        """
        seconds = max(seconds, 0.0)
        restarted = [r * 60 for r in self.restarts if r * 60 <= seconds]
        if restarted:  # counted from zero since the last restart
            return self._total(seconds, step) - self._total(max(restarted), step)
        return self._total(seconds, step)

    def _total(self, seconds: float, step: int) -> float:
        last = int(seconds // step)  # the step that ``seconds`` falls in
        # The rate can only change at the first step at or after each point of the shape.
        changes = sorted({0, *(math.ceil(minute * 60 / step) for minute, _ in self.shape)})
        changes = [c for c in changes if c <= last] + [last + 1]
        total = 0.0
        rate = 0.0
        for first, following in itertools.pairwise(changes):
            current = self.value_at(first * step / 60)
            rate = rate if current is None else current  # silent: it keeps counting
            total += rate * step * (following - first)
        return total - rate * (step - (seconds - last * step))


def counter(
    metric: str,
    labels: dict[str, str],
    shape: Sequence[Point],
    restarts: Sequence[float] = (),
) -> SyntheticSeries:
    """A counter: ``shape`` lists (start minute, events per second, or None for silence);
    at each minute of ``restarts`` its process restarts (no sample, then from zero)."""
    items = tuple(sorted(labels.items()))
    return SyntheticSeries(metric, items, tuple(shape), "counter", tuple(sorted(restarts)))


def gauge(metric: str, labels: dict[str, str], shape: Sequence[Point]) -> SyntheticSeries:
    """A gauge: ``shape`` lists (start minute, value, or None for silence)."""
    return SyntheticSeries(metric, tuple(sorted(labels.items())), tuple(shape), "gauge")


def promtool_values(series: SyntheticSeries, minutes: float, step: int = 60) -> str:
    """promtool's expanding notation: each run of equal increments becomes ``start+incxN``
    (N+1 values), each run of missing samples ``_xN`` (N values)."""
    values = series.samples(minutes, step)
    segments: list[str] = []
    # promtool expands `a+bxN` by adding b N times, so its last value can exceed the next
    # segment's exact start by a rounding error: for a counter that reads as a reset.
    reached = -math.inf
    i = 0
    while i < len(values):
        first = values[i]
        j = i + 1
        if first is None:
            while j < len(values) and values[j] is None:
                j += 1
            segments.append("_" if j - i == 1 else f"_x{j - i}")
        else:
            increment: float | None = None
            previous = first
            while j < len(values) and (current := values[j]) is not None:
                difference = round(current - previous, 9)
                if increment is not None and difference != increment:
                    break
                increment, previous = difference, current
                j += 1
            rounded = abs(first - reached) <= 1e-6 * max(1.0, abs(reached))  # not a restart
            start = _num(max(first, reached) if series.kind == "counter" and rounded else first)
            step_text = _num(increment or 0.0)
            if j - i == 1:
                segments.append(start)
            else:
                segments.append(f"{start}+{step_text}x{j - i - 1}")
            # Added one at a time, as promtool does, to get its rounding exactly.
            reached, added = float(start), float(step_text)
            for _ in range(j - i - 1):
                reached += added
        i = j
    return " ".join(segments)


def promtool_input(series: Iterable[SyntheticSeries], minutes: float) -> list[dict[str, str]]:
    """``input_series`` entries of a promtool unit test."""
    return [{"series": s.selector, "values": promtool_values(s, minutes)} for s in series]


def openmetrics(
    series: Iterable[SyntheticSeries], start: int, minutes: float, step: int = 60
) -> str:
    """OpenMetrics text (timestamps in seconds from ``start``) for backfilling blocks."""
    lines = []
    for one in series:
        name = _exposed_name(one)
        for index, value in enumerate(one.samples(minutes, step)):
            if value is not None:
                lines.append(f"{name} {_num(value)} {start + index * step}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def exposition(series: Iterable[SyntheticSeries], start: int, at: float) -> str:
    """Prometheus text format of every series' value at Unix time ``at`` (a live scrape).

    Times are counted from ``start``, like :func:`openmetrics`; silent series are left out.
    """
    seconds = max(at - start, 0.0)
    lines = []
    for one in series:
        level = one.value_at(seconds / 60)
        if level is None:
            continue
        value = one.total_at(seconds) if one.kind == "counter" else level
        lines.append(f"{_exposed_name(one)} {_num(value)}")
    return "\n".join(lines) + "\n"


def _exposed_name(one: SyntheticSeries) -> str:
    # OpenMetrics allows no space between labels.
    labels = ",".join(f"{name}={quote(value)}" for name, value in one.labels)
    return f"{one.metric}{{{labels}}}" if labels else one.metric


def _num(value: float) -> str:
    text = f"{value:.12g}"
    # Never print a counter lower than it is (rounding down could read as a reset).
    return text if float(text) >= value else repr(value)

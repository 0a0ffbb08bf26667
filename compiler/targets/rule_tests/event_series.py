"""Raw series that an SLI reads as a chosen number of total and bad events.

The generated rule tests describe traffic as events per minute (total, bad) per label set
of the SLO's ``group_by``; this module turns that into the raw counters the SLI's
selectors match: label sets that satisfy (or, for the other side of a ratio, deliberately
miss) each selector's matchers, one series per kind of event:

- ``bad`` on another metric than ``total``: a total series and a bad series;
- ``bad`` on the same metric: a good series (matches total only) and a bad one (both);
- ``good``/``total`` likewise, with good events on their own series;
- latency: the histogram's ``_count`` (all events) and the threshold's ``_bucket`` (good).

Queries with ``$window`` are synthesized through the selectors they contain: the first one
carries the events, every other one gets a series that never counts, so sums and ``and``
filters see a value. Whether the rules then read what was intended is checked by the
generated tests themselves (a ``promql_expr_test`` on the base-window records).

Label values come from the one label solver, :mod:`compiler.synthetic.labels`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, assert_never

from compiler.model.slo import SLI, SLO, Events, LatencySLI, RatioSLI
from compiler.promql import Selector
from compiler.synthetic.labels import (
    LabelError,
    candidates,
    matches,
    shortest_match,
    solve,
)
from compiler.targets.prometheus.slo_rules import le_matcher

# Which events a synthetic series counts: all of them, the good ones, the bad ones, or none.
Share = Literal["total", "good", "bad", "none"]


class SynthesisError(LabelError):
    """An SLI whose selectors leave no way to tell good from bad events apart."""


@dataclass(frozen=True)
class EventSeries:
    """One raw counter: its metric, its labels (group labels added later), what it counts."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    share: Share


def _carrier(events: Events) -> tuple[Selector, list[Selector]]:
    """The selector that carries an event side's events, and the query's other selectors."""
    found = events.selectors
    if not found:
        raise SynthesisError("the query names no series to synthesize")
    return found[0], list(found[1:])


def event_series(slo: SLO) -> list[EventSeries]:
    """The raw series (without group labels) that feed the SLO's SLI, with what each counts.

    Raises :class:`SynthesisError` when the selectors leave good and bad indistinguishable.
    """
    return list(_sli_series(slo.sli))


# SLIs repeat across a large set (the same metrics in every service), and the service's
# tests and its SLOs' shapes both ask: solve each one once.
@lru_cache(maxsize=4096)
def _sli_series(sli: SLI) -> tuple[EventSeries, ...]:
    return tuple(_solved(sli))


def _solved(sli: SLI) -> list[EventSeries]:
    match sli:
        case RatioSLI():
            total, total_others = _carrier(sli.total)
            side = sli.bad if sli.bad is not None else sli.good
            assert side is not None
            kind: Share = "bad" if sli.bad is not None else "good"
            other: Share = "good" if kind == "bad" else "bad"
            part, part_others = _carrier(side)
            series = _split(total, part, kind, other)
            series.extend(_silent(total_others + part_others, series))
            return series
        case LatencySLI():
            labels = solve(sli.histogram.matchers)
            if labels is None:
                raise SynthesisError(f"no label set matches {sli.histogram}")
            bucket = le_matcher(sli.threshold)
            le = shortest_match(bucket.value) if bucket.op == "=~" else bucket.value
            assert le is not None
            return [
                EventSeries(sli.total.metric, _sorted(labels), "total"),
                EventSeries(sli.good_metric, _sorted({**labels, "le": le}), "good"),
            ]
        case _:
            assert_never(sli)


def _split(total: Selector, part: Selector, kind: Share, other: Share) -> list[EventSeries]:
    """Series for total events and for the ``kind`` (good or bad) part of them."""
    if total.metric != part.metric:
        total_labels, part_labels = solve(total.matchers), solve(part.matchers)
        if total_labels is None or part_labels is None:
            raise SynthesisError(f"no label set matches {total if total_labels is None else part}")
        return [
            EventSeries(total.metric, _sorted(total_labels), "total"),
            EventSeries(part.metric, _sorted(part_labels), kind),
        ]
    inside = solve([*total.matchers, *part.matchers])
    outside = solve(total.matchers, part.matchers)
    if inside is not None and outside is not None:
        # Nested (the usual case): total counts both; the part's selector one of them.
        return [
            EventSeries(total.metric, _sorted(inside), kind),
            EventSeries(total.metric, _sorted(outside), other),
        ]
    alone = solve(part.matchers, total.matchers)
    if outside is not None and alone is not None:
        return [
            EventSeries(total.metric, _sorted(outside), "total"),
            EventSeries(part.metric, _sorted(alone), kind),
        ]
    raise SynthesisError(
        f"every series {total} matches is also matched by {part}: good and bad events "
        "cannot be told apart"
    )


def _silent(selectors: Sequence[Selector], taken: Sequence[EventSeries]) -> list[EventSeries]:
    """A never-counting series for each further selector of a query."""
    found: list[EventSeries] = []
    seen = {(s.metric, s.labels) for s in taken}
    for selector in selectors:
        labels = solve(selector.matchers)
        if labels is None:
            continue
        key = (selector.metric, _sorted(labels))
        if key not in seen:
            seen.add(key)
            found.append(EventSeries(selector.metric, key[1], "none"))
    return found


def group_label_values(slo: SLO, lanes: int) -> list[dict[str, str]]:
    """Up to ``lanes`` distinct label sets of the SLO's group_by that its selectors accept
    (``tenant="t1"``, ``tenant="t2"``, ...)."""
    if not slo.group_by:
        return [{}]
    return [dict(labels) for labels in _group_labels(slo.sli, slo.group_by, lanes)]


@lru_cache(maxsize=4096)  # as _sli_series: asked for per scenario and per shape
def _group_labels(
    sli: SLI, group_by: tuple[str, ...], lanes: int
) -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(labels.items()) for labels in _group_values(sli, group_by, lanes))


def _group_values(sli: SLI, group_by: tuple[str, ...], lanes: int) -> list[dict[str, str]]:
    matchers = [m for selector in _selectors(sli) for m in selector.matchers]
    found: list[dict[str, str]] = []
    for index in range(lanes):
        labels: dict[str, str] = {}
        for name in group_by:
            on_label = [m for m in matchers if m.label == name]
            preferred = [f"{name[:1]}{index + 1}"]
            options = candidates(name, on_label, preferred)
            taken = {lane.get(name) for lane in found}
            value = next(
                (
                    v
                    for v in options
                    if v and all(matches(m, v) for m in on_label) and v not in taken
                ),
                None,
            )
            if value is None:
                value = next(
                    (v for v in options if v and all(matches(m, v) for m in on_label)), None
                )
            if value is None:
                return found
            labels[name] = value
        if labels in found:
            break
        found.append(labels)
    return found


def _selectors(sli: SLI) -> list[Selector]:
    match sli:
        case RatioSLI():
            selectors: list[Selector] = []
            for events in (sli.total, sli.bad, sli.good):
                if events is not None:
                    carrier, others = _carrier(events)
                    selectors.extend([carrier, *others])
            return selectors
        case LatencySLI():
            return [sli.histogram]
        case _:
            assert_never(sli)


def _sorted(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))

"""From a spec's ``scenarios:`` to drills: steps parsed, alerts and labels checked.

A drill is written the way a runbook tells it (docs/testing.md, "Drills")::

    scenarios:
      - name: agent-retry-loop
        series:
          - {counter: 'agent_requests_total{tenant="t1", agent="a1"}', rate: [5/s, 1000/s from 10m]}
        expect:
          - {alert: RateLimitHit, labels: {tenant: t1, agent: a1}, fires_within: 2m}
          - {silent: true, labels: {tenant: t2}}

Series are counters with rates (``/s``, ``/m``, ``/h``) or gauges with values, changing at
whole minutes (``from 10m``), or ``silent`` (no samples); a counter's process can
``restart from 20m`` (no sample then, and counting from zero after). Expectations must name
an alert of the service (a tier or a signal) and labels it can carry; every problem is
reported at its line.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from compiler.diagnostics import Location
from compiler.durations import Duration, DurationError
from compiler.model.drill import AlertSource, Drill, Expectation, matching_sources
from compiler.model.slo import labels_of
from compiler.promql import PromQLError, Selector, parse_selector
from compiler.synthetic.series import Point, SyntheticSeries, counter, gauge

_STEP = re.compile(
    r"^\s*(?P<value>silent|restart|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*"
    r"(?:/\s*(?P<unit>s|m|h))?\s*(?:from\s+(?P<start>\S+))?\s*$"
)


_PER_SECOND = {"s": 1, "m": 60, "h": 3600}


# Reports a problem at a path below the drill; raised errors are collected by the caller.
Report = Callable[[tuple[str | int, ...], str], None]


# Checks that a selector names declared series and labels (the spec's metric catalog).
CheckSeries = Callable[[tuple[str | int, ...], Selector, bool], object]


def build_drill(
    raw: Mapping[str, Any],
    sources: Sequence[AlertSource],
    report: Report,
    check_series: CheckSeries,
    location: Location,
) -> Drill | None:
    """A drill from its schema-valid spec, or None after reporting what is wrong."""
    problems: list[tuple[tuple[str | int, ...], str]] = []

    def error(path: tuple[str | int, ...], message: str) -> None:
        problems.append((path, message))
        report(path, message)

    series: list[SyntheticSeries] = []
    changes: list[int] = []
    for index, entry in enumerate(raw["series"]):
        built = _series(entry, ("series", index), error, check_series, changes)
        if built is not None:
            series.append(built)
    first_change = min((c for c in changes if c > 0), default=None)
    expectations = []
    for index, entry in enumerate(raw["expect"]):
        built_expectation = _expectation(entry, ("expect", index), sources, error, first_change)
        if built_expectation is not None:
            expectations.append(built_expectation)
    last = max(
        [
            *(
                e.fires_after + e.fires_within
                for e in expectations
                if e.fires_after is not None and e.fires_within is not None
            ),
            *(
                e.clears_after + e.clears_within
                for e in expectations
                if e.clears_after is not None and e.clears_within is not None
            ),
            *changes,
        ],
        default=0,
    )
    minutes = int(raw.get("minutes", last + 5))
    if minutes < last:
        error(("minutes",), f"the drill must run at least until minute {last}, its last check")
    if problems:
        return None
    return Drill(
        name=raw["name"],
        description=str(raw.get("description", "")).strip(),
        series=tuple(series),
        expectations=tuple(expectations),
        minutes=minutes,
        runbook=str(raw.get("runbook", "")),
        location=location,
    )


def _series(
    entry: Mapping[str, Any],
    path: tuple[str | int, ...],
    error: Report,
    check_series: CheckSeries,
    changes: list[int],
) -> SyntheticSeries | None:
    is_counter = "counter" in entry
    if is_counter == ("gauge" in entry):
        error(path, "give either `counter` (with `rate`) or `gauge` (with `value`)")
        return None
    key, steps_key = ("counter", "rate") if is_counter else ("gauge", "value")
    wrong = "value" if is_counter else "rate"
    if wrong in entry:
        error((*path, wrong), f"a {key} takes `{steps_key}`, not `{wrong}`")
        return None
    if steps_key not in entry:
        error(path, f"a {key} needs `{steps_key}`")
        return None
    try:
        selector = parse_selector(entry[key])
    except PromQLError as exc:
        error((*path, key), str(exc))
        return None
    if any(m.op != "=" for m in selector.matchers):
        error((*path, key), "a drill's series names its labels with = only")
        return None
    check_series((*path, key), selector, is_counter)
    steps = _steps(entry[steps_key], (*path, steps_key), error, is_counter)
    if steps is None:
        return None
    shape, restarts = steps
    changes.extend(int(start) for start, _ in shape)
    changes.extend(int(minute) for minute in restarts)
    labels = {m.label: m.value for m in selector.matchers}
    if is_counter:
        return counter(selector.metric, labels, shape, restarts)
    return gauge(selector.metric, labels, shape)


def _steps(
    raw: Any, path: tuple[str | int, ...], error: Report, is_counter: bool
) -> tuple[list[Point], list[float]] | None:
    """The shape of a series, and the minutes its process restarts (counters)."""
    items = raw if isinstance(raw, list) else [raw]
    shape: list[Point] = []
    restarts: list[float] = []
    for index, item in enumerate(items):
        where = (*path, index) if isinstance(raw, list) else path
        match = _STEP.match(str(item))
        if match is None:
            example = "1000/s from 10m" if is_counter else "0 from 10m"
            error(where, f"{item!r} is not a step like {example!r} or 'silent from 25m'")
            return None
        text, unit, start_text = match.group("value", "unit", "start")
        start = 0
        if start_text is not None:
            try:
                duration = Duration.parse(start_text)
            except DurationError as exc:
                error(where, str(exc))
                return None
            if duration.seconds % 60:
                error(where, f"steps change at whole minutes, not at {start_text}")
                return None
            start = duration.seconds // 60
        elif index:
            error(where, "every step after the first says when: '... from 10m'")
            return None
        # A rate may begin at the minute of a restart: the process comes back with it.
        latest = max([-1.0, *(minute for minute, _ in shape)])
        if start <= latest or (restarts and start < restarts[-1]):
            error(where, "steps must be in time order")
            return None
        value: float | None
        if text == "restart":
            if restarts and start <= restarts[-1]:
                error(where, "steps must be in time order")
                return None
            if not is_counter or not index or unit is not None:
                error(where, "'restart from 20m' restarts a counter's process: after a rate")
                return None
            restarts.append(start)  # the rate in force goes on, counted from zero
            continue
        if text == "silent":
            value = None
        elif is_counter:
            if unit is None:
                error(where, f"a rate needs a unit: '{text}/s', '{text}/m' or '{text}/h'")
                return None
            value = float(text) / _PER_SECOND[unit]
            if value < 0:
                error(where, "a counter's rate cannot be negative")
                return None
        else:
            if unit is not None:
                error(where, "a gauge's value has no unit")
                return None
            value = float(text)
        shape.append((start, value))
    return shape, restarts


def _expectation(
    entry: Mapping[str, Any],
    path: tuple[str | int, ...],
    sources: Sequence[AlertSource],
    error: Report,
    first_change: int | None,
) -> Expectation | None:
    labels = dict(entry.get("labels", {}))
    alert = entry.get("alert")
    if entry.get("silent"):
        timing = [
            k for k in ("fires_within", "after", "clears_within", "cleared_after") if k in entry
        ]
        if timing:
            error((*path, timing[0]), "a silent expectation has no timing")
            return None
        if not labels:
            error(path, "say for which labels nothing fires, e.g. labels: {tenant: t2}")
            return None
        if alert is not None and not _known(alert, sources, (*path, "alert"), error):
            return None
        return Expectation(labels_of(labels), alert, silent=True)
    if alert is None or "fires_within" not in entry:
        error(path, "give `alert` and `fires_within`, or `silent: true` with `labels`")
        return None
    if not _known(alert, sources, (*path, "alert"), error):
        return None
    matching = matching_sources(sources, alert, labels)
    if not matching:
        error((*path, "labels"), f"no tier of {alert} has these labels")
        return None
    if len(matching) > 1:
        tiers = "; ".join(
            ", ".join(f"{k}={v}" for k, v in s.tier_labels().items()) for s in matching
        )
        error(
            (*path, "labels"),
            f"{alert} names {len(matching)} tiers; add labels to choose one ({tiers})",
        )
        return None
    source = matching[0]
    group = {k: v for k, v in labels.items() if k not in source.tier_labels()}
    if set(group) != set(source.group_by):
        expected = ", ".join(source.group_by) or "none"
        error((*path, "labels"), f"{alert} is split by {expected}: give exactly those labels")
        return None
    minutes = {}
    for key in ("fires_within", "after", "clears_within", "cleared_after"):
        if key in entry:
            duration = Duration.parse(entry[key])
            if duration.seconds % 60:
                error((*path, key), "drill times are whole minutes")
                return None
            minutes[key] = duration.seconds // 60
    if ("clears_within" in minutes) != ("cleared_after" in minutes):
        error(path, "`clears_within` and `cleared_after` go together")
        return None
    after = minutes.get("after", first_change)
    if after is None:
        error(path, "no series changes: say when the incident starts with `after`")
        return None
    if "cleared_after" in minutes and minutes["cleared_after"] < after + minutes["fires_within"]:
        error((*path, "cleared_after"), "the incident must end after the alert has fired")
        return None
    return Expectation(
        labels_of(labels),
        alert,
        fires_after=after,
        fires_within=minutes["fires_within"],
        clears_after=minutes.get("cleared_after"),
        clears_within=minutes.get("clears_within"),
    )


def _known(
    alert: str, sources: Sequence[AlertSource], path: tuple[str | int, ...], error: Report
) -> bool:
    names = sorted({s.name for s in sources})
    if alert in names:
        return True
    close = difflib.get_close_matches(alert, names, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    error(path, f"the service has no alert '{alert}'{hint}")
    return False

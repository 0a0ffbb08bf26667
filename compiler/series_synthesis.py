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

Regular expressions are matched the way Prometheus does (anchored at both ends); a value for
one is built from Python's own parse of the pattern and checked with ``re.fullmatch``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from compiler.model import SLO, Events, LatencySLI, RatioSLI
from compiler.promql import Matcher, Selector
from compiler.targets.prometheus import le_matcher

try:  # Python 3.11+: the regular-expression parser behind `re`
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layout
    import sre_parse as _sre_parse

# Which events a synthetic series counts: all of them, the good ones, the bad ones, or none.
Share = Literal["total", "good", "bad", "none"]

# Values tried for a label when the matchers do not name one outright; the empty value
# (label absent) comes last because it reads worst, but is what `label=""` needs.
_FALLBACK_VALUES = ("synthetic", "200", "0", "a", "x", "other", "")


class SynthesisError(ValueError):
    """An SLI whose selectors leave no way to tell good from bad events apart."""


@dataclass(frozen=True)
class EventSeries:
    """One raw counter: its metric, its labels (group labels added later), what it counts."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    share: Share


def matches(matcher: Matcher, value: str) -> bool:
    """Whether a label value (``""`` for an absent label) satisfies ``matcher``."""
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    try:
        found = re.fullmatch(matcher.value, value) is not None
    except re.error:
        return False
    return found if matcher.op == "=~" else not found


def shortest_match(pattern: str) -> str | None:
    """The shortest string ``pattern`` fully matches, or None if none can be built."""
    try:
        parsed = _sre_parse.parse(pattern)
        text = _shortest(list(parsed))
    except (re.error, _Unsupported, RecursionError):
        return None
    try:
        return text if re.fullmatch(pattern, text) else None
    except re.error:  # pragma: no cover - it parsed above
        return None


class _Unsupported(Exception):
    pass


def _shortest(items: Sequence[tuple[Any, Any]]) -> str:
    text = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            text.append(chr(arg))
        elif name == "ANY":
            text.append("0")
        elif name == "IN":
            text.append(_class_member(arg))
        elif name == "BRANCH":
            options = [_shortest(list(branch)) for branch in arg[1]]
            text.append(min(options, key=lambda o: (len(o), o)))
        elif name == "SUBPATTERN":
            text.append(_shortest(list(arg[-1])))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _, body = arg
            text.append(_shortest(list(body)) * low)
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # anchors and lookarounds add no characters (fullmatch checks them)
        elif name == "NOT_LITERAL":
            text.append("a" if arg != ord("a") else "b")
        else:
            raise _Unsupported(name)
    return "".join(text)


def _class_member(items: Sequence[tuple[Any, Any]]) -> str:
    if items and str(items[0][0]) == "NEGATE":
        excluded = items[1:]
        for candidate in "a0xZ_-":
            if not any(_in_class_item(item, candidate) for item in excluded):
                return candidate
        raise _Unsupported("negated class")
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            category = str(arg)
            if "NOT" in category:
                continue
            return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " "}.get(category, "a")
    raise _Unsupported("class")


def _in_class_item(item: tuple[Any, Any], char: str) -> bool:
    op, arg = str(item[0]), item[1]
    if op == "LITERAL":
        return char == chr(arg)
    if op == "RANGE":
        return bool(arg[0] <= ord(char) <= arg[1])
    if op == "CATEGORY":
        category = str(arg)
        tests = {
            "CATEGORY_DIGIT": char.isdigit(),
            "CATEGORY_NOT_DIGIT": not char.isdigit(),
            "CATEGORY_SPACE": char.isspace(),
            "CATEGORY_NOT_SPACE": not char.isspace(),
            "CATEGORY_WORD": char.isalnum() or char == "_",
            "CATEGORY_NOT_WORD": not (char.isalnum() or char == "_"),
        }
        return tests.get(category, True)
    return True


def candidates(label: str, matchers: Iterable[Matcher], preferred: Sequence[str] = ()) -> list[str]:
    """Values worth trying for ``label``: preferred ones, those the matchers name, fallbacks."""
    values = list(preferred)
    for matcher in matchers:
        if matcher.label != label:
            continue
        if matcher.op == "=":
            values.append(matcher.value)
        elif matcher.op in ("=~", "!~"):
            shortest = shortest_match(matcher.value)
            if shortest and matcher.op == "=~":
                values.append(shortest)
            if shortest:
                # Near misses read naturally: code!~"5.." gets "200" beside "500".
                values.extend(c + shortest[1:] for c in "21x")
            values.extend(
                option
                for option in matcher.value.split("|")
                if option and re.fullmatch(r"[\w.:/-]+", option)
            )
    values.extend(_FALLBACK_VALUES)
    return list(dict.fromkeys(values))


def solve(
    positive: Sequence[Matcher],
    negative: Sequence[Matcher] = (),
    fixed: Mapping[str, str] | None = None,
) -> dict[str, str] | None:
    """Labels (non-empty values only) that satisfy every ``positive`` matcher and, when
    ``negative`` is given, fail at least one of those; None if there are none."""
    fixed = dict(fixed or {})
    if not negative:
        return _assign(list(positive), fixed)
    for missed in negative:
        flipped = Matcher(missed.label, _NEGATION[missed.op], missed.value)
        found = _assign([*positive, flipped], fixed)
        if found is not None:
            return found
    return None


_NEGATION = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}


def _assign(constraints: list[Matcher], fixed: dict[str, str]) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    names = list(dict.fromkeys([*fixed, *(m.label for m in constraints)]))
    for name in names:
        if name.startswith("__"):
            continue
        on_label = [m for m in constraints if m.label == name]
        options = [fixed[name]] if name in fixed else candidates(name, on_label)
        value = next((v for v in options if all(matches(m, v) for m in on_label)), None)
        if value is None:
            return None
        if value:
            labels[name] = value
    return labels


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
    sli = slo.sli
    if isinstance(sli, LatencySLI):
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
    assert isinstance(sli, RatioSLI)
    total, total_others = _carrier(sli.total)
    side = sli.bad if sli.bad is not None else sli.good
    assert side is not None
    kind: Share = "bad" if sli.bad is not None else "good"
    other: Share = "good" if kind == "bad" else "bad"
    part, part_others = _carrier(side)
    series = _split(total, part, kind, other)
    series.extend(_silent(total_others + part_others, series))
    return series


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
    matchers = [m for selector in _selectors(slo) for m in selector.matchers]
    found: list[dict[str, str]] = []
    for index in range(lanes):
        labels: dict[str, str] = {}
        for name in slo.group_by:
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


def _selectors(slo: SLO) -> list[Selector]:
    sli = slo.sli
    if isinstance(sli, LatencySLI):
        return [sli.histogram]
    selectors: list[Selector] = []
    for events in (sli.total, sli.bad, sli.good):
        if events is None:
            continue
        carrier, others = _carrier(events)
        selectors.extend([carrier, *others])
    return selectors


def _sorted(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))

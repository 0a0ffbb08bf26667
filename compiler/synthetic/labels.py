"""Label values that PromQL matchers accept or refuse: one matcher and one value picker.

Every synthetic series needs labels that the selectors reading it match (or, for the other
side of a ratio, deliberately miss): SLI event series and signal scenarios in the generated
rule tests, drills, and the incident ``slo preview`` draws. All of them ask here.

Regular expressions are matched the way Prometheus does (anchored at both ends) with Python's
``re``; a value for one is built from Python's own parse of the pattern and checked with
``re.fullmatch``. A pattern Python cannot read raises :class:`LabelError`, like a matcher no
candidate value satisfies: no caller guesses on a pattern it cannot evaluate.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from compiler.promql import Matcher, Selector

try:  # Python 3.11+: the regular-expression parser behind `re`
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older layout
    import sre_parse as _sre_parse

# Values tried for a label when the matchers do not name one outright; the empty value
# (label absent) comes last because it reads worst, but is what `label=""` needs.
FALLBACK_VALUES = ("synthetic", "200", "0", "a", "x", "other", "")
NEGATION = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}


class LabelError(ValueError):
    """No label value satisfies the matchers, or a pattern Python's ``re`` cannot read."""


def matches(matcher: Matcher, value: str) -> bool:
    """Whether a label value (``""`` for an absent label) satisfies ``matcher``."""
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    try:
        found = re.fullmatch(matcher.value, value) is not None
    except re.error as exc:
        raise LabelError(f"regular expression {matcher.value!r}: {exc}") from exc
    return found if matcher.op == "=~" else not found


def selects(selector: Selector, metric: str, labels: Mapping[str, str]) -> bool:
    """Whether the series ``metric{labels}`` is one ``selector`` selects."""
    return selector.metric == metric and all(
        matches(m, labels.get(m.label, "")) for m in selector.matchers
    )


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


def candidates(label: str, matchers: Iterable[Matcher], preferred: Sequence[str] = ()) -> list[str]:
    """Values worth trying for ``label``: preferred ones, those the matchers name, fallbacks."""
    values = list(preferred)
    for matcher in matchers:
        if matcher.label != label:
            continue
        if matcher.op in ("=", "!="):  # the value itself: what `!=` refuses, or a near miss
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
    values.extend(FALLBACK_VALUES)
    return list(dict.fromkeys(values))


def pick(
    options: Iterable[str], required: Sequence[Matcher], forbidden: Sequence[Matcher] = ()
) -> str | None:
    """The first of ``options`` every ``required`` matcher accepts and no ``forbidden`` one
    does, or None."""
    for value in options:
        if all(matches(m, value) for m in required) and not any(
            matches(m, value) for m in forbidden
        ):
            return value
    return None


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
        flipped = Matcher(missed.label, NEGATION[missed.op], missed.value)
        found = _assign([*positive, flipped], fixed)
        if found is not None:
            return found
    return None


def selected_labels(
    selector: Selector,
    fixed: Mapping[str, str],
    defaults: Mapping[str, str] | None = None,
    missing: Matcher | None = None,
    prefer: Callable[[Sequence[Matcher]], Sequence[str]] | None = None,
) -> dict[str, str]:
    """Labels of a series ``selector`` selects, except that the ``missing`` matcher (one of
    the selector's) must refuse them: ``fixed`` as given, ``defaults`` where the matchers
    accept them, elsewhere the first value that fits of ``prefer(matchers)`` (default:
    :func:`candidates`). :class:`LabelError` if there is none."""
    labels = {**(defaults or {}), **fixed}
    names = [m.label for m in selector.matchers] + ([missing.label] if missing else [])
    for name in sorted(set(names)):
        if name.startswith("__"):
            continue
        required = [m for m in selector.matchers if m.label == name and m != missing]
        forbidden = [missing] if missing is not None and missing.label == name else []
        if name in labels and pick([labels[name]], required, forbidden) is not None:
            continue
        if name in fixed:
            raise LabelError(f"label {name}={fixed[name]!r} conflicts with {selector}")
        options = prefer(required) if prefer else candidates(name, [*required, *forbidden])
        value = pick(options, required, forbidden)
        if value is None:
            raise LabelError(f"no value of '{name}' satisfies {selector}")
        if value:
            labels[name] = value
        else:
            labels.pop(name, None)
    return labels


def _assign(constraints: list[Matcher], fixed: dict[str, str]) -> dict[str, str] | None:
    labels: dict[str, str] = {}
    names = list(dict.fromkeys([*fixed, *(m.label for m in constraints)]))
    for name in names:
        if name.startswith("__"):
            continue
        on_label = [m for m in constraints if m.label == name]
        options = [fixed[name]] if name in fixed else candidates(name, on_label)
        value = pick(options, on_label)
        if value is None:
            return None
        if value:
            labels[name] = value
    return labels


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

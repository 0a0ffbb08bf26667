"""The one label solver: values that PromQL matchers accept or refuse, matched as Prometheus
matches them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.promql import Matcher, parse_selector
from compiler.synthetic.labels import (
    LabelError,
    candidates,
    matches,
    pick,
    selected_labels,
    selects,
    shortest_match,
    solve,
)

_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
PATTERNS = ["5..", "2..|3..", ".*/api", "(GET|POST)", "[a-c]+_x", "\\d{3}", "x?y+", "[^5].*", ".+"]


matcher_strategy = st.builds(
    Matcher,
    label=st.sampled_from(["code", "route", "method"]),
    op=st.sampled_from(["=", "!=", "=~", "!~"]),
    value=st.sampled_from([*PATTERNS, "500", "/api", "", "GET"]),
)


def _holds(matcher: Matcher, labels: dict[str, str]) -> bool:
    """Prometheus's matching, written out: an absent label has the empty value; regexes
    are anchored at both ends."""
    value = labels.get(matcher.label, "")
    if matcher.op in ("=", "!="):
        return (value == matcher.value) == (matcher.op == "=")
    return (re.fullmatch(f"(?:{matcher.value})", value) is not None) == (matcher.op == "=~")


@given(
    positive=st.lists(matcher_strategy, max_size=4),
    negative=st.lists(matcher_strategy, max_size=3),
)
def test_synthesized_labels_satisfy_and_miss_as_asked(
    positive: list[Matcher], negative: list[Matcher]
) -> None:
    """Labels built for a selector match every matcher it has, and labels built to stay out
    of another selector fail at least one of its matchers."""
    found = solve(positive, negative)
    if found is None:
        return
    assert all(_holds(m, found) for m in positive), found
    if negative:
        assert not all(_holds(m, found) for m in negative), found
    assert all(value for value in found.values())  # absent, never an empty label


@given(st.sampled_from(PATTERNS))
def test_shortest_match_is_a_match(pattern: str) -> None:
    text = shortest_match(pattern)
    assert text is not None and re.fullmatch(pattern, text)


@pytest.mark.parametrize(
    ("pattern", "value"),
    [("5..", "500"), ("[45]\\d\\d", "400"), ("error|timeout", "error"), (".+", "0"),
     ("ALLOW", "ALLOW"), ("(?:GET|POST)", "GET"), ("(4|5)..", "400")],
)  # fmt: skip
def test_shortest_match_examples(pattern: str, value: str) -> None:
    assert shortest_match(pattern) == value


@given(st.lists(_WORDS, min_size=1, max_size=4))
def test_an_alternation_of_words_gives_one_of_them(words: list[str]) -> None:
    pattern = "|".join(re.escape(w) for w in words)
    assert shortest_match(pattern) in words


def test_a_pattern_the_parser_cannot_follow_has_no_match() -> None:
    assert shortest_match("(a)\\1") is None  # a back-reference


def test_a_pattern_python_cannot_read_is_an_error_not_a_mismatch() -> None:
    """Every caller sees the same thing on a bad pattern: LabelError, never False."""
    with pytest.raises(LabelError, match="regular expression"):
        matches(Matcher("code", "=~", "(unclosed"), "500")


@pytest.mark.parametrize(
    "text",
    ['m{code=~"5..", route!="/healthz"}', 'm{code!~"2..|3..", tenant="t1"}', "m", 'm{le=""}'],
)
def test_selected_labels_are_selected(text: str) -> None:
    selector = parse_selector(text)
    labels = selected_labels(selector, {}, {"route": "route-a", "tenant": "tenant-a"})
    assert selects(selector, "m", labels)
    assert labels.get("route") in (None, "route-a")  # a default that fits is kept


def test_selected_labels_can_miss_one_matcher() -> None:
    selector = parse_selector('m{code=~"5..", tenant="t1"}')
    labels = selected_labels(selector, {}, missing=selector.matchers[0])
    assert labels["tenant"] == "t1" and not matches(selector.matchers[0], labels["code"])


def test_fixed_labels_that_conflict_are_an_error() -> None:
    with pytest.raises(LabelError, match="tenant"):
        selected_labels(parse_selector('m{tenant="t1"}'), {"tenant": "t2"})


def test_a_preference_decides_among_fitting_values() -> None:
    selector = parse_selector('m{code!="500"}')
    labels = selected_labels(selector, {}, prefer=lambda _: ["500", "429"])
    assert labels == {"code": "429"}


def test_a_value_to_miss_a_not_equal_matcher_is_its_own_value() -> None:
    matcher = Matcher("env", "!=", "canary")
    assert pick(candidates("env", [matcher]), (), (matcher,)) == "canary"

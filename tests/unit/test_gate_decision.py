"""The gate's pure rules: verdicts, episodes, sign-offs, times, workflow-command escaping."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.diagnostics import escape_data, escape_property
from compiler.durations import Duration
from compiler.gate.decision import (
    Episode,
    Firing,
    Reason,
    SignOff,
    Verdict,
    latest_episode,
    overall,
    runs,
    signoff_problems,
    verdict_of,
)
from compiler.gate.times import format_span, format_time, parse_rfc3339

HOUR = 3600
FAST = Duration.parse("1h")
SLOW = Duration.parse("6h")


def firing(start: float, end: float, window: Duration = FAST, name: str = "Fast") -> Firing:
    """An alert series firing at every minute from ``start`` to ``end`` (seconds)."""
    return Firing(name, window, tuple(float(t) for t in range(int(start), int(end) + 1, 60)))


def test_verdict_precedence() -> None:
    block = Reason(Verdict.BLOCK, "alert-firing", "m")
    unknown = Reason(Verdict.UNKNOWN, "gap", "m")
    ok = Reason(Verdict.PASS, "no-episode", "m")
    assert verdict_of([ok, unknown, block]) is Verdict.BLOCK
    assert verdict_of([ok, unknown]) is Verdict.UNKNOWN
    assert verdict_of([ok]) is Verdict.PASS
    assert verdict_of([]) is Verdict.UNKNOWN  # no evidence is never a pass
    assert overall([]) is Verdict.UNKNOWN
    assert overall([Verdict.PASS, Verdict.UNKNOWN, Verdict.BLOCK]) is Verdict.BLOCK
    assert [v.exit_code for v in Verdict] == [0, 1, 3]


def test_reason_codes_carry_one_decision() -> None:
    with pytest.raises(ValueError, match="does not carry PASS"):
        Reason(Verdict.PASS, "gap", "a gap is never a pass")
    with pytest.raises(ValueError):
        Reason(Verdict.BLOCK, "made-up", "undocumented codes are refused")


@given(st.lists(st.integers(0, 10_000), max_size=60), st.integers(1, 500))
def test_runs_split_exactly_at_long_gaps(stamps: list[int], max_gap: int) -> None:
    found = runs(stamps, max_gap)
    assert sum(1 for t in stamps for a, b in found if a <= t <= b) == len(stamps)
    for (_, end), (start, _) in itertools.pairwise(found):
        assert start - end > max_gap
    for a, b in found:
        inside = sorted(t for t in stamps if a <= t <= b)
        assert all(y - x <= max_gap for x, y in itertools.pairwise(inside))


def test_no_firing_no_episode() -> None:
    assert latest_episode([], 2, 180) is None


def test_clear_period_is_per_tier() -> None:
    episode = latest_episode(
        [firing(0, 3600, FAST, "Fast"), firing(1800, 7200, SLOW, "Slow")], 2, 180
    )
    assert episode is not None
    assert (episode.began, episode.last_firing) == (0, 7200)
    assert episode.clear_until == 7200 + 12 * HOUR
    assert episode.clear_after == "2 x 6h after Slow"


def test_the_fast_tier_can_set_the_end_if_it_fired_last() -> None:
    episode = latest_episode(
        [firing(0, 3600, SLOW, "Slow"), firing(12 * HOUR, 12 * HOUR + 600, FAST, "Fast")], 2, 180
    )
    assert episode is not None
    # The fast tier fired again before the slow one's 12h were over: one episode.
    assert episode.began == 0
    assert episode.clear_until == 12 * HOUR + 600 + 2 * HOUR


def test_an_episode_that_cleared_long_enough_is_not_joined_to_the_next() -> None:
    episode = latest_episode([firing(0, 600), firing(3 * HOUR, 3 * HOUR + 600)], 2, 180)
    assert episode is not None
    assert episode.began == 3 * HOUR


def test_flapping_stays_one_episode() -> None:
    episode = latest_episode([firing(0, 600), firing(1200, 1800), firing(2400, 3000)], 2, 180)
    assert episode is not None
    assert (episode.began, episode.last_firing) == (0, 3000)
    assert episode.clear_until == 3000 + 2 * HOUR


def test_holes_in_alerts_do_not_split_an_episode() -> None:
    # A restarted Prometheus writes no ALERTS until it has restored alert state.
    series = Firing("Fast", FAST, (0.0, 60.0, 600.0, 660.0))
    episode = latest_episode([series], 2, 180)
    assert episode is not None
    assert (episode.began, episode.last_firing) == (0, 660)


@given(
    st.lists(
        st.tuples(st.integers(0, 50_000), st.integers(0, 3_000), st.sampled_from([FAST, SLOW])),
        min_size=1,
        max_size=8,
    )
)
def test_episode_properties(spans: list[tuple[int, int, Duration]]) -> None:
    firings = [firing(start, start + length, window) for start, length, window in spans]
    episode = latest_episode(firings, 2, 180)
    assert episode is not None
    pieces = [(f.stamps[0], f.stamps[-1], f.long_window.seconds) for f in firings]
    # Nothing fired after the episode's last firing; the clear period follows every run.
    assert episode.last_firing == max(end for _, end, _ in pieces)
    assert episode.clear_until == max(end + 2 * window for _, end, window in pieces)
    # Whatever fired before the episode began was clear long enough before it began.
    assert all(
        end + 2 * window <= episode.began for start, end, window in pieces if start < episode.began
    )


def _signoff(owner: str = "team", signed_at: float = 5000) -> SignOff:
    return SignOff("signoffs/a.yaml", 1, "INC-1", "svc", None, owner, signed_at, "rolled back")


EPISODE = Episode(
    began=1000,
    last_firing=4500,
    clear_until=4500 + 2 * HOUR,
    clear_after="2 x 1h after Fast",
    alerts=("Fast",),
)


@pytest.mark.parametrize(
    ("signoff", "codes"),
    [
        (_signoff(), []),
        (_signoff(signed_at=2000), []),  # while the alerts still fired: mitigated
        (_signoff(owner="bob"), ["signoff-wrong-owner"]),
        (_signoff(signed_at=1000), ["signoff-before-episode"]),
        (_signoff(signed_at=900), ["signoff-before-episode"]),
        (_signoff(signed_at=99_999), ["signoff-in-future"]),
        (_signoff(owner="bob", signed_at=900), ["signoff-wrong-owner", "signoff-before-episode"]),
    ],
)
def test_signoff_problems(signoff: SignOff, codes: list[str]) -> None:
    found = signoff_problems(signoff, "team", EPISODE, now=10_000)
    assert [code for code, _ in found] == codes


def test_signoff_messages_say_which_rule() -> None:
    (wrong,) = signoff_problems(_signoff(owner="bob"), "team", EPISODE, now=10_000)
    assert wrong[1] == "signed by 'bob', but the spec's owner of service 'svc' is 'team'"
    (early,) = signoff_problems(_signoff(signed_at=900), "team", EPISODE, now=10_000)
    assert early[1] == (
        "signed at 1970-01-01T00:15:00Z, before the episode began at 1970-01-01T00:16:40Z"
    )


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)))
def test_times_round_trip(moment: datetime) -> None:
    seconds = moment.replace(microsecond=0, tzinfo=UTC).timestamp()
    assert parse_rfc3339(format_time(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2026-11-22T10:05:00Z", 1795341900.0),
        ("2026-11-22T11:05:00+01:00", 1795341900.0),
        ("2026-11-22t10:05:00z", 1795341900.0),
        ("2026-11-22T10:05:00.123456789Z", 1795341900.123456789),  # Prometheus's precision
    ],
)
def test_parse_rfc3339(text: str, seconds: float) -> None:
    assert parse_rfc3339(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["2026-11-22T10:05:00", "2026-11-22", "yesterday", ""])
def test_parse_rfc3339_needs_date_time_and_zone(text: str) -> None:
    with pytest.raises(ValueError, match="not an RFC 3339 time"):
        parse_rfc3339(text)


def test_format_span() -> None:
    assert [format_span(s) for s in (45, 60, 5400, 86400 + 3660)] == [
        "45s",
        "1m",
        "1h30m",
        "1d1h1m",
    ]


def _unescape(text: str) -> str:
    codes = {"%25": "%", "%0D": "\r", "%0A": "\n", "%3A": ":", "%2C": ","}
    return re.sub("%25|%0D|%0A|%3A|%2C", lambda m: codes[m.group()], text)


@given(st.text())
def test_workflow_command_escaping(text: str) -> None:
    data, prop = escape_data(text), escape_property(text)
    assert "\n" not in data and "\r" not in data
    assert not set(":,\n\r") & set(prop)
    assert _unescape(data) == text
    assert _unescape(prop) == text


def test_workflow_command_escaping_examples() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("gate: a,b 50%") == "gate%3A a%2Cb 50%25"


def test_a_time_beyond_year_9999_in_utc_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the years 1 to 9999 in UTC"):
        parse_rfc3339("9999-12-31T23:59:59-23:59")


def test_a_time_out_of_range_is_shown_not_raised() -> None:
    assert format_time(1e300) == "(a time out of range: 1e+300)"

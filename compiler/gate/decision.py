"""The gate's rules as pure functions: reasons, verdicts, episodes, sign-offs.

Nothing here talks to a server. An SLO's verdict is BLOCK if any reason blocks (evidence
that promotion must wait beats missing evidence), else UNKNOWN if any reason is unknown,
else PASS, and PASS needs at least one reason that says what evidence it rests on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from compiler.durations import Duration
from compiler.gate.times import format_span, format_time


class Verdict(Enum):
    """A decision and the exit status it maps to."""

    PASS = "PASS"
    BLOCK = "BLOCK"
    UNKNOWN = "UNKNOWN"

    @property
    def exit_code(self) -> int:
        """0 PASS, 1 BLOCK, 3 UNKNOWN (2 is the command line's usage error)."""
        return {Verdict.PASS: 0, Verdict.BLOCK: 1, Verdict.UNKNOWN: 3}[self]


# Every reason the gate gives, with the decision it carries (docs/gate.md, "Reasons").
REASONS: dict[str, Verdict] = {
    **dict.fromkeys(("no-episode", "episode-cleared"), Verdict.PASS),
    **dict.fromkeys(
        (
            "alert-firing",
            "alert-pending",
            "alert-active",
            "burning-now",
            "clear-too-short",
            "no-signoff",
            "signoff-wrong-owner",
            "signoff-before-episode",
            "signoff-in-future",
            "budget-freeze",
        ),
        Verdict.BLOCK,
    ),
    **dict.fromkeys(
        (
            "unreachable",
            "timeout",
            "http-error",
            "bad-response",
            "warnings",
            "query-error",
            "rules-missing",
            "rules-differ",
            "clock-skew",
            "rules-unhealthy",
            "rules-stale",
            "no-data",
            "nan",
            "gap",
            "short-history",
            "not-in-specs",
            "invalid-specs",
            "nothing-selected",
            "alerting-disabled",
            "internal-error",
        ),
        Verdict.UNKNOWN,
    ),
}


@dataclass(frozen=True)
class Reason:
    """One finding behind a decision; ``code`` is stable for scripts (see docs/gate.md)."""

    verdict: Verdict
    code: str
    message: str
    since: float | None = None  # Unix seconds: when the condition began
    until: float | None = None  # Unix seconds: when it ends (e.g. the clear period)

    def __post_init__(self) -> None:
        if REASONS.get(self.code) is not self.verdict:
            raise ValueError(f"reason code {self.code!r} does not carry {self.verdict.value}")


def verdict_of(reasons: Iterable[Reason]) -> Verdict:
    """BLOCK beats UNKNOWN beats PASS; no reasons at all is UNKNOWN, never PASS."""
    return overall([reason.verdict for reason in reasons])


def overall(verdicts: Sequence[Verdict]) -> Verdict:
    """The run's decision: PASS only if there was something to decide and all of it passed."""
    if Verdict.BLOCK in verdicts:
        return Verdict.BLOCK
    if Verdict.UNKNOWN in verdicts or not verdicts:
        return Verdict.UNKNOWN
    return Verdict.PASS


@dataclass(frozen=True)
class Firing:
    """The firing samples of one alert series within the lookback."""

    alert: str  # for messages: "Name (critical, 1h/5m)"
    long_window: Duration
    stamps: tuple[float, ...]


@dataclass(frozen=True)
class Episode:
    """Firings close enough together that the gate never reopened between them."""

    began: float  # first firing sample
    last_firing: float  # last firing sample
    clear_until: float  # when the last tier to fire has been clear long enough
    clear_after: str  # the alert whose clear period ends last, e.g. "2 x 2h after X (...)"
    alerts: tuple[str, ...]  # the alerts that fired, for messages


def runs(stamps: Iterable[float], max_gap: float) -> list[tuple[float, float]]:
    """Consecutive samples (no more than ``max_gap`` apart) as (first, last) pairs."""
    result: list[tuple[float, float]] = []
    for stamp in sorted(stamps):
        if result and stamp - result[-1][1] <= max_gap:
            result[-1] = (result[-1][0], stamp)
        else:
            result.append((stamp, stamp))
    return result


def latest_episode(firings: Sequence[Firing], clear_windows: int, max_gap: float) -> Episode | None:
    """The most recent episode, or None if nothing fired.

    Every run of firing samples must be followed by ``clear_windows`` long windows of its
    tier without firing. A run (of any of the SLO's alert series) that starts before every
    earlier run is clear long enough belongs to the same episode: the gate never reopened
    in between. Holes in ``ALERTS`` (a restarted Prometheus writes none until it has
    restored alert state) therefore never split an episode.
    """
    pieces = sorted(
        (
            (start, end, end + clear_windows * firing.long_window.seconds, firing)
            for firing in firings
            for start, end in runs(firing.stamps, max_gap)
        ),
        key=lambda piece: piece[:3],
    )
    if not pieces:
        return None
    began = pieces[0][0]
    clear_so_far = float("-inf")
    for start, _, clear, _ in pieces:
        if start >= clear_so_far:  # everything before was clear long enough: a new episode
            began = start
        clear_so_far = max(clear_so_far, clear)
    mine = [piece for piece in pieces if piece[0] >= began]
    *_, last = max(mine, key=lambda piece: piece[2])
    return Episode(
        began=began,
        last_firing=max(piece[1] for piece in mine),
        clear_until=clear_so_far,
        clear_after=f"{clear_windows} x {last.long_window} after {last.alert}",
        alerts=tuple(sorted({piece[3].alert for piece in mine})),
    )


@dataclass(frozen=True)
class SignOff:
    """An incident owner's statement that an episode's mitigation holds (a sign-off file)."""

    file: str
    line: int
    incident: str
    service: str
    slo: str | None  # None: every SLO of the service
    owner: str
    signed_at: float
    mitigation: str
    owner_line: int = 0  # where ``owner`` is written, for reports on the file itself

    def covers(self, service: str, slo: str) -> bool:
        """Whether the sign-off is about this SLO."""
        return self.service == service and self.slo in (None, slo)

    @property
    def where(self) -> str:
        """``signoffs/inc.yaml:1 (INC-2041)``."""
        return f"{self.file}:{self.line} ({self.incident})"


def signoff_problems(
    signoff: SignOff, owner: str, episode: Episode, now: float
) -> list[tuple[str, str]]:
    """Why a sign-off does not count for ``episode``, as (code, message); empty: it counts."""
    problems = []
    if signoff.owner != owner:
        problems.append(
            (
                "signoff-wrong-owner",
                f"signed by '{signoff.owner}', but the spec's owner of service "
                f"'{signoff.service}' is '{owner}'",
            )
        )
    signed = format_time(signoff.signed_at)
    if signoff.signed_at > now:
        problems.append(
            (
                "signoff-in-future",
                f"signed_at {signed} is after the server's time {format_time(now)}",
            )
        )
    if signoff.signed_at <= episode.began:
        problems.append(
            (
                "signoff-before-episode",
                f"signed at {signed}, before the episode began at {format_time(episode.began)}",
            )
        )
    return problems


def clear_message(episode: Episode, now: float) -> str:
    """How long the alerts have been clear, and how long they must be."""
    return (
        f"alerts last fired at {format_time(episode.last_firing)} "
        f"({format_span(now - episode.last_firing)} ago); they must stay clear until "
        f"{format_time(episode.clear_until)} ({episode.clear_after})"
    )

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


@dataclass(frozen=True)
class Reason:
    """One finding behind a decision; ``code`` is stable for scripts (see docs/gate.md)."""

    verdict: Verdict
    code: str
    message: str
    since: float | None = None  # Unix seconds: when the condition began
    until: float | None = None  # Unix seconds: when it ends (e.g. the clear period)


def verdict_of(reasons: Iterable[Reason]) -> Verdict:
    """BLOCK beats UNKNOWN beats PASS; no reasons at all is UNKNOWN, never PASS."""
    found = {reason.verdict for reason in reasons}
    if Verdict.BLOCK in found:
        return Verdict.BLOCK
    if Verdict.UNKNOWN in found or not found:
        return Verdict.UNKNOWN
    return Verdict.PASS


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
    last_start: float  # start of the last stretch of firing (after a clear moment)
    last_firing: float  # last firing sample
    clear_until: float  # when the last tier to fire has been clear long enough
    clear_after: str  # the alert whose clear period ends last, e.g. "2 x 2h after X (...)"
    alerts: tuple[str, ...]  # the alerts that fired, for messages
    stretches: int  # separate stretches of firing (more than one: the alerts came back)


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
    tier without firing. Runs of all of the SLO's alert series are joined into stretches
    of "some alert firing"; a stretch that starts before every earlier run is clear long
    enough belongs to the same episode.
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
    began = last_start = pieces[0][0]
    stretch_end = clear_so_far = float("-inf")
    stretches = 0
    for start, end, clear, _ in pieces:
        if start > stretch_end + max_gap:  # nothing was firing just before: a new stretch
            if start >= clear_so_far:  # and everything before was clear long enough
                began, stretches = start, 0
            last_start = start
            stretches += 1
        stretch_end = max(stretch_end, end)
        clear_so_far = max(clear_so_far, clear)
    mine = [piece for piece in pieces if piece[0] >= began]
    *_, last = max(mine, key=lambda piece: piece[2])
    return Episode(
        began=began,
        last_start=last_start,
        last_firing=max(piece[1] for piece in mine),
        clear_until=clear_so_far,
        clear_after=f"{clear_windows} x {last.long_window} after {last.alert}",
        alerts=tuple(sorted({piece[3].alert for piece in mine})),
        stretches=stretches,
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
    elif signoff.signed_at < episode.last_start:
        problems.append(
            (
                "signoff-before-refiring",
                f"signed at {signed}, but the alerts fired again at "
                f"{format_time(episode.last_start)}, after it",
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

"""Prometheus-style durations (``5m``, ``1h30m``, ``30d``) as whole seconds.

Specs, rule labels and PromQL ranges all use the same notation, so a duration is kept as
seconds and printed back in Prometheus's canonical form (largest units first, ``1h30m``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, total_ordering

_UNITS: tuple[tuple[str, int], ...] = (
    ("y", 365 * 24 * 3600),
    ("w", 7 * 24 * 3600),
    ("d", 24 * 3600),
    ("h", 3600),
    ("m", 60),
    ("s", 1),
)
_PATTERN = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


# The longest duration a spec, a drill or a gate policy may give (the longest period a
# Prometheus commonly keeps).
MAX_SECONDS = 400 * 86400


class DurationError(ValueError):
    """Raised when a string is not a Prometheus duration."""


@total_ordering
@dataclass(frozen=True)
class Duration:
    """A positive whole number of seconds, printed the way Prometheus prints durations."""

    seconds: int

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise DurationError(f"duration must be positive, got {self.seconds}s")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse ``1h30m``-style text; units y, w, d, h, m, s, largest first, each once."""
        match = _PATTERN.match(text.strip()) if text else None
        if not match or not any(match.groups()):
            raise DurationError(f"{text!r} is not a duration like 5m, 1h or 30d")
        seconds = sum(
            int(value) * size
            for value, (_, size) in zip(match.groups(), _UNITS, strict=True)
            if value
        )
        if seconds == 0:
            raise DurationError(f"{text!r} is zero; a duration must be positive")
        if seconds > MAX_SECONDS:
            # Longer ones only make rule tests, histories and drills that never end.
            raise DurationError(f"{text!r} is longer than 400d, the longest duration taken")
        return cls(seconds)

    def __str__(self) -> str:
        return _text(self.seconds)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Duration):
            return NotImplemented
        return self.seconds < other.seconds

    @property
    def minutes(self) -> float:
        """The duration in minutes (for messages and test arithmetic)."""
        return self.seconds / 60


@lru_cache(maxsize=1024)  # a few durations recur in every rule and test of a large set
def _text(seconds: int) -> str:
    """Prometheus's notation of ``seconds`` (``1h30m``)."""
    rest = seconds
    parts = []
    for unit, size in _UNITS:
        # Prometheus prints years only for exact multiples; 90d stays 90d, not 12w6d.
        if unit in ("y", "w") and rest % size:
            continue
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)

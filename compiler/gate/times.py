"""RFC 3339 times as the gate reads them (sign-offs, Prometheus) and writes them (reports)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# A date, a time and a zone are all required: a sign-off without a zone would mean
# different instants on the CI runner and on the owner's laptop.
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: str) -> float:
    """Unix seconds of an RFC 3339 time (``2026-11-22T10:05:00Z``); nanoseconds allowed.

    Raises ``ValueError`` for anything else, including times without a zone.
    """
    match = _RFC3339.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an RFC 3339 time such as 2026-11-22T10:05:00Z")
    date, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    parsed = datetime.fromisoformat(f"{date}T{clock}{zone}")
    try:
        parsed.astimezone(UTC)  # 9999-12-31T23:59:59-23:59 is in the year 10000 in UTC
    except OverflowError as exc:
        raise ValueError(f"{text!r} is outside the years 1 to 9999 in UTC") from exc
    return parsed.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)


def format_time(seconds: float) -> str:
    """``2026-11-22T10:05:00Z``: UTC, whole seconds (evidence is never finer than that)."""
    try:
        return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (ValueError, OverflowError, OSError):  # what a hostile server may send
        return f"(a time out of range: {seconds:g})"


def format_span(seconds: float) -> str:
    """A duration for people: ``2h``, ``1h28m``, ``45s``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    days, rest = divmod(whole // 60, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{days}d" if days else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
    ]
    return "".join(parts)

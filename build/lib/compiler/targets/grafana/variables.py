"""Grafana's variable syntax in queries, expanded the way Grafana expands it for Prometheus.

The lint rules parse queries after expansion, the query checks and ``slo preview`` run
them; all three use this one implementation. ``$name``, ``${name}``, ``${name:format}``
and ``[[name]]`` are dashboard variables; ``$__range``, ``$__interval``,
``$__rate_interval`` and ``${__from:date:seconds}`` come from the time range. Names that
are not variables (``$1`` in ``label_replace``) are left alone, as Grafana leaves them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_VARIABLE = re.compile(r"\$(\w+)|\$\{(\w+)(?::([^}]+))?\}|\[\[(\w+)(?::(\w+))?\]\]")
_REGEX_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}])")
# Samples of synthetic history are a minute apart; Grafana's $__rate_interval is at least
# four scrape intervals, and at least one step plus one scrape interval.
SCRAPE_SECONDS = 60


@dataclass(frozen=True)
class TimeRange:
    """What a panel shows: from ``start`` to ``end`` (Unix seconds), a point every ``step``."""

    start: int
    end: int
    step: int = 60

    @property
    def rate_interval(self) -> int:
        """Grafana's ``$__rate_interval`` in seconds."""
        return max(self.step + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS)


# Each variable's text as it goes into a query: a value, a regex of values, or the "All"
# value (e.g. ``.*``, written as it is).
Values = Mapping[str, str]


def regex_value(values: Sequence[str]) -> str:
    """A multi-value selection as Grafana writes it into a Prometheus regex: ``(a|b)``."""
    escaped = [_REGEX_SPECIAL.sub(r"\\\1", value) for value in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def _global(name: str, fmt: str | None, time_range: TimeRange) -> str | None:
    span = time_range.end - time_range.start
    if name in ("__from", "__to"):
        seconds = time_range.start if name == "__from" else time_range.end
        return str(seconds) if fmt == "date:seconds" else str(seconds * 1000)
    simple = {
        "__range": f"{span}s",
        "__range_s": str(span),
        "__range_ms": str(span * 1000),
        "__interval": f"{time_range.step}s",
        "__interval_ms": str(time_range.step * 1000),
        "__rate_interval": f"{time_range.rate_interval}s",
    }
    return simple.get(name)


def interpolate(text: str, values: Values, time_range: TimeRange) -> str:
    """``text`` with every known variable replaced by its value (see :data:`Values`)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(5)
        if name.startswith("__"):
            found = _global(name, fmt, time_range)
            return match.group(0) if found is None else found
        if name not in values:
            return match.group(0)
        return values[name]

    return _VARIABLE.sub(replace, text)


def referenced(text: str) -> set[str]:
    """Names of the variables ``text`` refers to (globals included)."""
    return {m.group(1) or m.group(2) or m.group(4) for m in _VARIABLE.finditer(text)}

"""PromQL in specs: parsing (with a real parser) and writing selectors back out.

Specs name series as selectors (``http_requests_total{code=~"5.."}``) or give whole
queries. Both are parsed here before any rule is written; the generated rules themselves
are checked again by ``promtool check rules`` in the test suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import promql_parser

WINDOW_PLACEHOLDER = "$window"
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _op(matcher: Any) -> str:
    # The enum's repr is stable ("MatchOp.Re") while its attributes differ between node
    # objects handed out by parse() and by walk().
    return _OPS[str(matcher.op).rsplit(".", 1)[-1]]


class PromQLError(ValueError):
    """A query or selector that does not parse, or is not of the expected shape."""


@dataclass(frozen=True)
class Matcher:
    """One label matcher, e.g. ``code=~"5.."``."""

    label: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.label}{self.op}{quote(self.value)}"


@dataclass(frozen=True)
class Selector:
    """An instant-vector selector: a metric name and label matchers."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    def __str__(self) -> str:
        if not self.matchers:
            return self.metric
        return f"{self.metric}{{{', '.join(str(m) for m in self.matchers)}}}"

    def renamed(self, metric: str, *extra: Matcher) -> Selector:
        """The same matchers on another series (``x`` → ``x_bucket{le="0.25"}``)."""
        return Selector(metric, (*self.matchers, *extra))

    @property
    def label_names(self) -> frozenset[str]:
        """Labels this selector filters on."""
        return frozenset(m.label for m in self.matchers)


def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


# Expressions nest a few levels; the parser recurses (deep enough input crashes the
# process), and its walks are slow on deep trees.
MAX_DEPTH = 64
MAX_LENGTH = 64 * 1024


def parse(expr: str) -> Any:
    """Parse a PromQL expression; raise :class:`PromQLError` with the parser's message (also
    for expressions longer than :data:`MAX_LENGTH` or nested deeper than :data:`MAX_DEPTH`)."""
    if len(expr) > MAX_LENGTH:
        raise PromQLError(f"longer than {MAX_LENGTH} characters")
    if _depth(expr) > MAX_DEPTH:
        raise PromQLError(f"nested more than {MAX_DEPTH} levels deep")
    try:
        return promql_parser.parse(expr)
    except (ValueError, TypeError) as exc:  # the parser reports syntax errors as ValueError
        raise PromQLError(str(exc) or "does not parse") from exc
    except BaseException as exc:  # pragma: no cover - a Rust panic surfaces as PanicException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise PromQLError(f"the PromQL parser failed: {exc}") from exc


def _depth(expr: str) -> int:
    """The deepest nesting of brackets outside string literals."""
    depth = deepest = 0
    quote_char = ""
    escaped = False
    for char in expr:
        if quote_char:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote_char:
                quote_char = ""
        elif char in "\"'`":
            quote_char = char
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def normalized(expr: str) -> str:
    """``expr`` printed in one form whatever its spacing, number forms and the order of each
    selector's matchers (Prometheus prints them sorted): for comparing expressions."""
    printed = str(parse(expr))
    return re.sub(
        r"\{([^{}]*)\}", lambda m: "{" + ",".join(sorted(_items(m.group(1)))) + "}", printed
    )


def _items(matchers: str) -> list[str]:
    """Comma-separated matchers, commas inside quoted values kept."""
    items, current, quote_char, escaped = [], "", "", False
    for char in matchers:
        if quote_char:
            current += char
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote_char:
                quote_char = ""
        elif char in "\"'`":
            quote_char = char
            current += char
        elif char == ",":
            items.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current.strip())
    return items


def parse_selector(text: str) -> Selector:
    """Parse ``metric{matchers}``; ranges, offsets, ``@`` and ``or`` matchers are refused."""
    node = parse(text)
    if type(node).__name__ != "VectorSelector":
        raise PromQLError('expected a series selector such as metric_name{label="value"}')
    if node.offset is not None or node.at is not None:
        raise PromQLError("a selector here may not use offset or @")
    if node.matchers.or_matchers:
        raise PromQLError("'or' inside a selector is not supported here")
    matchers = []
    metric = node.name
    for m in node.matchers.matchers:
        if m.name == "__name__" and _op(m) == "=" and metric is None:
            metric = m.value
            continue
        matchers.append(Matcher(m.name, _op(m), m.value))
    if not metric or not _NAME.match(metric):
        raise PromQLError("a selector needs a metric name")
    return Selector(metric, tuple(matchers))


def substitute_window(query: str, window: str) -> str:
    """Replace the window placeholder with a range such as ``5m``."""
    return query.replace(WINDOW_PLACEHOLDER, window)


def metric_names(expr: Any) -> set[str]:
    """Every metric name an expression reads."""
    names: set[str] = set()

    def visit(node: Any) -> bool:
        if type(node).__name__ == "VectorSelector":
            if node.name:
                names.add(node.name)
            names.update(
                m.value for m in node.matchers.matchers if m.name == "__name__" and _op(m) == "="
            )
        return True

    promql_parser.walk(expr, visit)
    return names


def selectors_in(expr: Any) -> list[Selector]:
    """Every named series selector in an expression (unnamed ones are skipped)."""
    found: list[Selector] = []

    def visit(node: Any) -> bool:
        if type(node).__name__ == "VectorSelector" and node.name:
            found.append(
                Selector(
                    node.name,
                    tuple(Matcher(m.name, _op(m), m.value) for m in node.matchers.matchers),
                )
            )
        return True

    promql_parser.walk(expr, visit)
    return found


def by_clause(labels: Iterable[str]) -> str:
    """``by (a, b)`` for an aggregation; an empty ``by ()`` aggregates everything away."""
    return f"by ({', '.join(labels)})"

"""PromQL in specs: parsing (with a real parser) and writing selectors back out.

Specs name series as selectors (``http_requests_total{code=~"5.."}``) or give whole
queries. Both are parsed here before any rule is written; the generated rules themselves
are checked again by ``promtool check rules`` in the test suite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
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


@lru_cache(maxsize=65536)  # label values (services, SLOs, windows) recur in every rule and test
def quote(value: str) -> str:
    """A PromQL double-quoted string literal."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


# Expressions nest a few levels and combine a few terms; the parser recurses (deep enough
# input crashes the process) and its memory grows with the square of a chain's length (a
# sum of 1,000 terms took 400 MB), so both are bounded before it runs.
MAX_DEPTH = 64
MAX_LENGTH = 64 * 1024
MAX_OPERATORS = 200
_SYMBOLS = frozenset("+-*/%^<>")
_WORDS = frozenset({"and", "or", "unless", "atan2"})


def parse(expr: str) -> Any:
    """Parse a PromQL expression; raise :class:`PromQLError` with the parser's message (also
    for expressions longer than :data:`MAX_LENGTH`, nested deeper than :data:`MAX_DEPTH` or
    with more than :data:`MAX_OPERATORS` binary operators)."""
    if len(expr) > MAX_LENGTH:
        raise PromQLError(f"longer than {MAX_LENGTH} characters")
    depth, operators = _shape(expr)
    if depth > MAX_DEPTH:
        raise PromQLError(f"nested more than {MAX_DEPTH} levels deep")
    if operators > MAX_OPERATORS:
        raise PromQLError(
            f"more than {MAX_OPERATORS} operators: split the query into recording rules"
        )
    try:
        return promql_parser.parse(expr)
    except (ValueError, TypeError) as exc:  # the parser reports syntax errors as ValueError
        raise PromQLError(str(exc) or "does not parse") from exc
    except BaseException as exc:  # pragma: no cover - a Rust panic surfaces as PanicException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise PromQLError(f"the PromQL parser failed: {exc}") from exc


def _shape(expr: str) -> tuple[int, int]:
    """The deepest nesting of brackets, and about how many binary operators there are
    (symbols and keywords outside string literals and label matchers; a unary minus or an
    exponent's sign counts too, which only makes the bound a little stricter)."""
    depth = deepest = operators = braces = 0
    quote_char = ""
    escaped = False
    word = previous = ""
    for char in expr + " ":
        if quote_char:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote_char:
                quote_char = ""
            continue
        if char.isalnum() or char in "_:":
            word += char
            continue
        if word.lower() in _WORDS and not braces:
            operators += 1
        word = ""
        if char in "\"'`":
            quote_char = char
        elif char in "([{":
            depth += 1
            deepest = max(deepest, depth)
            braces += char == "{"
        elif char in ")]}":
            depth -= 1
            braces -= char == "}" and braces > 0
        elif not braces and (char in _SYMBOLS or char == "!" or (char == "=" == previous)):
            operators += 1  # "==" counts at its second "=", "<=" at its "<"
        previous = char
    return deepest, operators


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


# A string literal (double, single or back quotes) or the placeholder, whichever comes first.
_LITERAL_OR_PLACEHOLDER = re.compile(
    r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`|' + re.escape(WINDOW_PLACEHOLDER)
)


def substitute_window(query: str, window: str) -> str:
    """Replace the window placeholder with a range such as ``5m``; inside a string literal
    (``path="/x/$window"``) it is text and stays."""
    return _LITERAL_OR_PLACEHOLDER.sub(
        lambda m: window if m.group(0) == WINDOW_PLACEHOLDER else m.group(0), query
    )


def has_window(query: str) -> bool:
    """Whether the query has the window placeholder outside its string literals."""
    return any(m.group(0) == WINDOW_PLACEHOLDER for m in _LITERAL_OR_PLACEHOLDER.finditer(query))


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

    walk(expr, visit)
    return names


# The attributes that hold a node's operands, in the order the expression reads.
_OPERANDS = {
    "BinaryExpr": ("lhs", "rhs"),
    "UnaryExpr": ("expr",),
    "ParenExpr": ("expr",),
    "AggregateExpr": ("param", "expr"),
    "SubqueryExpr": ("expr",),
    "MatrixSelector": ("vector_selector",),
    "Call": ("args",),
}


def walk(expr: Any, visit: Callable[[Any], bool]) -> None:
    """Call ``visit`` on every node of a parsed expression, operands in reading order;
    a node's operands are skipped when it returns False.

    The parser's own walk copies each subtree into Python at every node it passes, which
    costs the square of the expression's size (a 300-term sum took 13 s); reading the
    operands costs its size.
    """
    pending = [expr]
    while pending:
        node = pending.pop()
        if not visit(node):
            continue
        operands: list[Any] = []
        for name in _OPERANDS.get(type(node).__name__, ()):
            value = getattr(node, name)
            if isinstance(value, list):
                operands.extend(value)
            elif value is not None:
                operands.append(value)
        pending.extend(reversed(operands))


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

    walk(expr, visit)
    return found


def by_clause(labels: Iterable[str]) -> str:
    """``by (a, b)`` for an aggregation; an empty ``by ()`` aggregates everything away."""
    return f"by ({', '.join(labels)})"

"""What every foreign format needs translated: names, labels, window templates, queries.

Sloth and OpenSLO write queries with Go template placeholders (``{{.window}}``), allow names
our files and rule groups cannot carry, and put labels on alerts that the compiler sets
itself. The translations here are shared by the adapters so both read the same way.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from compiler import conventions
from compiler.formats.draft import Findings
from compiler.load.loader import Document, PathKey
from compiler.promql import WINDOW_PLACEHOLDER, PromQLError, parse, substitute_window
from compiler.promql import has_window as has_placeholder

# Sloth's placeholder as its validator accepts it: `{{.window}}`, spaces allowed inside.
_GO_WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
_GO_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_NATIVE_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

SLOTH_WINDOW = "{{.window}}"


class QueryError(ValueError):
    """A foreign query the compiler cannot use, with a message for the person who wrote it."""


def has_window(query: str) -> bool:
    """Whether ``query`` contains Sloth's ``{{.window}}`` placeholder."""
    return bool(_GO_WINDOW.search(query))


def window_query(query: str) -> str:
    """``rate(x[{{.window}}])`` → ``rate(x[$window])``, checked to parse as PromQL.

    Any other template action is refused: Sloth would fail on it too (its data holds only
    the window).
    """
    text = _GO_WINDOW.sub(WINDOW_PLACEHOLDER, query.strip())
    other = _GO_ACTION.search(text)
    if other:
        raise QueryError(f"unsupported template {other.group(0)!r}: only {SLOTH_WINDOW} is known")
    if not has_placeholder(text):
        raise QueryError(f"the query must contain {SLOTH_WINDOW} where the range goes")
    try:
        parse(substitute_window(text, "5m"))
    except PromQLError as exc:
        raise QueryError(f"PromQL does not parse: {exc}") from exc
    return text


def result_labels(query: str) -> tuple[str, ...] | None:
    """Labels the series of a query's result carry, when its outer shape says so.

    ``sum by (route) (...)`` keeps ``route``; ``sum(...)`` keeps none; arithmetic between
    two such expressions (or with a number) keeps what both keep. ``None`` when the shape
    does not tell (a bare ``rate()``, ``without``, a function call).
    """
    try:
        node = parse(substitute_window(_GO_WINDOW.sub(WINDOW_PLACEHOLDER, query), "5m"))
    except PromQLError:
        return None
    return _labels_of(node)


def _labels_of(node: Any) -> tuple[str, ...] | None:
    kind = type(node).__name__
    if kind == "ParenExpr":
        return _labels_of(node.expr)
    if kind == "AggregateExpr":
        if node.modifier is None:
            return ()
        if str(node.modifier.type).endswith("By"):
            return tuple(sorted(node.modifier.labels))
        return None
    if kind == "BinaryExpr":
        sides = [s for s in (node.lhs, node.rhs) if type(s).__name__ != "NumberLiteral"]
        found = [_labels_of(side) for side in sides]
        if found and all(f is not None and f == found[0] for f in found):
            return found[0]
        return None
    return None


def native_name(text: str) -> str:
    """A foreign name in the native pattern: lower case, dashes for anything else.

    ``my_Service.v2`` → ``my-service-v2``. An empty result stays empty (and is reported by
    the schema check as the invalid name it is).
    """
    lowered = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return lowered[:63].rstrip("-")


def is_native_name(text: str) -> bool:
    """Whether ``text`` is already a valid native name."""
    return bool(_NATIVE_NAME.match(text)) and len(text) <= 63


def label_name(text: str) -> str:
    """A foreign label key as a Prometheus label name (``app.kubernetes.io/name`` →
    ``app_kubernetes_io_name``)."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", text)
    return name if _LABEL_NAME.match(name) else f"_{name}"


def is_reserved_label(name: str) -> bool:
    """Whether the compiler sets this label itself, so a converted spec may not."""
    return name in conventions.RESERVED_LABELS or name.startswith("__")


def plain_number(value: Decimal) -> int | float:
    """A decimal as the int or float YAML and the native schema expect (2, 12.5, 99.9)."""
    return int(value) if value == value.to_integral_value() else float(value)


def label_value(value: Any) -> str:
    """A foreign label value as text (OpenSLO allows lists: joined with commas)."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def converted_query(found: Findings, document: Document, path: PathKey, text: str) -> str:
    """:func:`window_query`, reporting a problem at ``path`` instead of raising."""
    try:
        return window_query(text)
    except QueryError as exc:
        found.error(document, path, str(exc))
        return text


def error_ratio_sli(query: str) -> dict[str, Any]:
    """A native ratio SLI for a query (with ``$window``) that returns an error ratio, 0 to 1.

    Each evaluation counts as one event whose badness is the ratio, so longer windows hold
    the mean of the ratio. NaN (no traffic) is dropped rather than recorded, so one quiet
    minute does not blind every window it falls in; the ratio is capped at 1.
    """
    ratio = f"clamp_max(({query}) >= 0, 1)"
    return {"ratio": {"bad": ratio, "total": f"{ratio} * 0 + 1"}}


def group_by_of(found: Findings, queries: list[tuple[Document, PathKey, str]]) -> tuple[str, ...]:
    """The labels an SLO is split by: those its (native) queries keep, as Sloth alerts per
    series. A plain selector is summed into one series, as the native format does."""
    kept = [
        (document, path, result_labels(text) if has_placeholder(text) else ())
        for document, path, text in queries
    ]
    known = [labels for _, _, labels in kept if labels is not None]
    if len(known) == len(kept):
        if all(labels == known[0] for labels in known):
            return known[0]
        document, path, _ = kept[-1]
        shown = " and ".join(f"({', '.join(labels)})" for labels in known)
        found.error(
            document,
            path,
            f"the queries keep different labels, {shown}: their ratio is taken series by "
            "series, so they must keep the same ones",
        )
        return ()
    document, path, _ = next(entry for entry in kept if entry[2] is None)
    found.warn(
        document,
        path,
        "cannot tell which labels this query's result keeps, so the SLO sums it into one "
        "series (Sloth alerts per series); wrap it in sum by (...) to keep labels",
    )
    return ()


def renamed(found: Findings, document: Document, path: PathKey, text: str, what: str) -> str:
    """:func:`native_name` of a foreign name, with a warning when it had to change."""
    name = native_name(text)
    if name != text and is_native_name(name):
        found.warn(
            document,
            path,
            f"{what} name '{text}' becomes '{name}' (names files and rule groups: lower-case "
            "letters, digits and dashes)",
        )
    return name

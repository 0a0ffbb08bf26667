"""Grafana's dashboard-linter rules, re-checked in Python, plus this project's conventions.

dashboard-linter (github.com/grafana/dashboard-linter) is a Go tool; its rules that apply
to Prometheus dashboards are implemented here over the dashboard JSON, stricter where the
issue asks for more (every data panel, not only some types, needs a description and a
unit). Left out, with the reason: template-job/instance and target-job/instance (SLO
series are aggregated over job and instance by design), and the LogQL rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from compiler import conventions
from compiler.model.dashboard import GRAFANA_UNITS
from compiler.promql import PromQLError, parse
from compiler.targets.grafana import sdk
from compiler.targets.grafana.variables import TimeRange, interpolate

MIN_SCHEMA_VERSION = 39
PANEL_TYPES = frozenset({"timeseries", "stat", "table", "state-timeline", "gauge", "bargauge"})
DATASOURCE_UIDS = frozenset({"$datasource", "${datasource}"})
_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")
_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<expr>.+),\s*)?(?P<label>[a-zA-Z_]\w*)\)$", re.S)
_QUERY_RESULT = re.compile(r"^query_result\((?P<expr>.+)\)$", re.S)
# A duration no dashboard writes, standing in for $__rate_interval while parsing.
_RATE_INTERVAL_MARK = 7777
_LINT_RANGE = TimeRange(start=1_700_000_000, end=1_700_086_400, step=60)


@dataclass(frozen=True)
class Problem:
    """One rule broken by one dashboard (and panel)."""

    rule: str
    dashboard: str
    message: str

    def __str__(self) -> str:
        return f"{self.dashboard}: {self.rule}: {self.message}"


Board = dict[str, Any]
Rule = Callable[[Board], Iterator[str]]


def panels(board: Board) -> Iterator[dict[str, Any]]:
    """Every panel but rows, including panels inside collapsed rows."""
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def _name(panel: dict[str, Any]) -> str:
    return f"panel {panel.get('id')} '{panel.get('title', '')}'"


def _variables(board: Board) -> list[dict[str, Any]]:
    variables: list[dict[str, Any]] = board.get("templating", {}).get("list", [])
    return variables


def _lint_values(board: Board) -> dict[str, str]:
    """A plausible value for every dashboard variable, for parsing queries."""
    return {v["name"]: f"lint_{v['name']}" for v in _variables(board)}


def expand(board: Board, text: str) -> str:
    """``text`` with variables expanded as for parsing (``$__rate_interval`` marked)."""
    marked = text.replace("$__rate_interval", f"{_RATE_INTERVAL_MARK}s").replace(
        "${__rate_interval}", f"{_RATE_INTERVAL_MARK}s"
    )
    return interpolate(marked, _lint_values(board), _LINT_RANGE)


def template_datasource(board: Board) -> Iterator[str]:
    """One data source variable, named datasource, labelled "Data source", for Prometheus."""
    found = [v for v in _variables(board) if v.get("type") == "datasource"]
    if len(found) != 1:
        yield f"expected one data source variable, found {len(found)}"
        return
    variable = found[0]
    if variable.get("name") != sdk.DATASOURCE_VARIABLE:
        yield f"the data source variable is called '{variable.get('name')}', not 'datasource'"
    if variable.get("label") != "Data source":
        yield f"the data source variable is labelled '{variable.get('label')}', not 'Data source'"
    if variable.get("query") != "prometheus":
        yield f"the data source variable selects '{variable.get('query')}', not prometheus"


def template_queries(board: Board) -> Iterator[str]:
    """Query variables: label_values/query_result over PromQL that parses, on ${datasource},
    refreshed when the time range changes."""
    for variable in _variables(board):
        if variable.get("type") != "query":
            continue
        name = variable.get("name")
        if (variable.get("datasource") or {}).get("uid") not in DATASOURCE_UIDS:
            yield f"variable '{name}' does not use ${{datasource}}"
        if variable.get("refresh") != 2:
            yield f"variable '{name}' is not refreshed on time range change (refresh: 2)"
        query = variable.get("query")
        if not isinstance(query, str):
            yield f"variable '{name}': query must be a string"
            continue
        match = _LABEL_VALUES.match(query.strip()) or _QUERY_RESULT.match(query.strip())
        if match is None:
            yield f"variable '{name}': '{query}' is not label_values(...) or query_result(...)"
            continue
        expr = match.groupdict().get("expr")
        if expr:
            try:
                parse(expand(board, expr))
            except PromQLError as exc:
                yield f"variable '{name}': PromQL does not parse: {exc}"


def panel_datasource(board: Board) -> Iterator[str]:
    """Every panel and every target queries ${datasource}."""
    for panel in panels(board):
        if (panel.get("datasource") or {}).get("uid") not in DATASOURCE_UIDS:
            yield f"{_name(panel)} does not use ${{datasource}}"
        for target in panel.get("targets", []):
            if (target.get("datasource") or {}).get("uid") not in DATASOURCE_UIDS:
                yield f"{_name(panel)} target {target.get('refId')} does not use ${{datasource}}"


def panel_title_description(board: Board) -> Iterator[str]:
    """Every panel has a title and a description that says how to read it."""
    for panel in panels(board):
        if not str(panel.get("title", "")).strip():
            yield f"{_name(panel)} has no title"
        if not str(panel.get("description", "")).strip():
            yield f"{_name(panel)} has no description"


def panel_units(board: Board) -> Iterator[str]:
    """Every data panel has a known Grafana unit."""
    for panel in panels(board):
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if unit not in GRAFANA_UNITS:
            yield f"{_name(panel)} has no known unit ({unit!r})"


def panel_targets(board: Board) -> Iterator[str]:
    """Every data panel has queries, each with its own refId."""
    for panel in panels(board):
        targets = panel.get("targets") or []
        if not targets:
            yield f"{_name(panel)} has no targets"
        refs = [t.get("refId") for t in targets]
        if any(not ref for ref in refs) or len(set(refs)) != len(refs):
            yield f"{_name(panel)} needs a distinct refId per target, has {refs}"


def _children(node: Any) -> list[Any]:
    kind = type(node).__name__
    fields = {
        "BinaryExpr": ("lhs", "rhs"),
        "AggregateExpr": ("expr", "param"),
        "MatrixSelector": ("vector_selector",),
        "SubqueryExpr": ("expr",),
        "ParenExpr": ("expr",),
        "UnaryExpr": ("expr",),
    }.get(kind, ())
    found = [getattr(node, name) for name in fields if getattr(node, name, None) is not None]
    if kind == "Call":
        found.extend(node.args)
    return found


def _walk(node: Any, parents: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    yield node, parents
    for child in _children(node):
        yield from _walk(child, (*parents, node))


def _function(node: Any) -> str | None:
    return str(node.func.name) if type(node).__name__ == "Call" else None


def _expressions(board: Board) -> Iterator[tuple[str, str]]:
    """(where, PromQL text) of every target and annotation."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            yield f"{_name(panel)} target {target.get('refId')}", target.get("expr", "")
    for annotation in board.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            yield f"annotation '{annotation.get('name')}'", annotation["expr"]


def target_promql(board: Board) -> Iterator[str]:
    """Every query parses once the variables are expanded; rate/irate use $__rate_interval;
    counters (``*_total``) are only read through rate, irate or increase."""
    for where, text in _expressions(board):
        try:
            tree = parse(expand(board, text))
        except PromQLError as exc:
            yield f"{where}: PromQL does not parse: {exc}"
            continue
        for node, parents in _walk(tree):
            name = _function(node)
            if name in ("rate", "irate"):
                window = node.args[0]
                if getattr(window, "range", None) != timedelta(seconds=_RATE_INTERVAL_MARK):
                    yield f"{where}: {name}() should use [$__rate_interval]"
            if type(node).__name__ == "VectorSelector" and str(node.name or "").endswith("_total"):
                ok = (
                    len(parents) >= 2
                    and type(parents[-1]).__name__ == "MatrixSelector"
                    and _function(parents[-2]) in ("rate", "irate", "increase")
                )
                if not ok:
                    yield f"{where}: counter {node.name} must be read with rate() or increase()"


def uneditable(board: Board) -> Iterator[str]:
    """Generated dashboards are read-only: an edit in the UI would be lost."""
    if board.get("editable") is not False:
        yield "editable must be false"


def provisioning_ready(board: Board) -> Iterator[str]:
    """No ``__inputs`` (file provisioning substitutes nothing), schemaVersion 39+, and
    only current panel types."""
    for key in ("__inputs", "__requires", "__elements"):
        if key in board:
            yield f"'{key}' breaks file provisioning"
    if int(board.get("schemaVersion", 0)) < MIN_SCHEMA_VERSION:
        yield f"schemaVersion {board.get('schemaVersion')} is below {MIN_SCHEMA_VERSION}"
    for panel in panels(board):
        if panel.get("type") not in PANEL_TYPES:
            yield f"{_name(panel)} has type '{panel.get('type')}' (removed or not allowed)"


def uid(board: Board) -> Iterator[str]:
    """A uid Grafana accepts: 1 to 40 of ``[a-zA-Z0-9_-]``."""
    value = board.get("uid")
    if not isinstance(value, str) or not _UID.match(value):
        yield f"uid {value!r} is not 1-40 characters of [a-zA-Z0-9_-]"
    if value is not None and len(str(value)) > conventions.GRAFANA_UID_MAX:
        yield f"uid {value!r} is longer than {conventions.GRAFANA_UID_MAX} characters"


RULES: dict[str, Rule] = {
    "template-datasource-rule": template_datasource,
    "template-label-promql-rule": template_queries,
    "panel-datasource-rule": panel_datasource,
    "panel-title-description-rule": panel_title_description,
    "panel-units-rule": panel_units,
    "panel-no-targets-rule": panel_targets,
    "target-promql-rule": target_promql,
    "uneditable-dashboard-rule": uneditable,
    "provisioning-rule": provisioning_ready,
    "uid-rule": uid,
}


def lint(board: Board) -> list[Problem]:
    """Every rule every dashboard breaks."""
    title = str(board.get("title", board.get("uid", "?")))
    return [
        Problem(rule, title, message) for rule, check in RULES.items() for message in check(board)
    ]


def unique_uids(boards: list[Board]) -> list[str]:
    """uids used by more than one dashboard."""
    seen: dict[str, int] = {}
    for board in boards:
        seen[str(board.get("uid"))] = seen.get(str(board.get("uid")), 0) + 1
    return sorted(uid for uid, count in seen.items() if count > 1)

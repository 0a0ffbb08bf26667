"""A dashboard's queries as Grafana would run them, against a real Prometheus.

Variables are resolved the way Grafana resolves them: each query variable's
``label_values(selector, label)`` asks the server for the label's values, after the
variables before it are substituted; multi-value variables select "All". Rows that repeat
per variable value are expanded into one set of panels per value. The suite runs every
query this yields (and expects data); ``slo preview`` draws the results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from compiler.synthetic.local_prometheus import LocalPrometheus
from compiler.targets.grafana.variables import TimeRange, interpolate, regex_value

_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<match>.+),\s*)?(?P<label>[a-zA-Z_]\w*)\)$", re.S)


@dataclass(frozen=True)
class PanelQuery:
    """One target of one panel, with its variables substituted."""

    panel: dict[str, Any]
    ref: str
    expr: str
    legend: str
    instant: bool
    repeat: str | None = None  # the value of the row's repeat variable, if repeated


def label_values(server: LocalPrometheus, query: str, time_range: TimeRange) -> list[str]:
    """Values of ``label_values([selector,] label)`` over the time range, sorted."""
    match = _LABEL_VALUES.match(query.strip())
    if match is None:
        raise ValueError(f"not a label_values(...) query: {query}")
    params = {"start": str(time_range.start), "end": str(time_range.end)}
    if match.group("match"):
        params["match[]"] = match.group("match")
    values: list[str] = server.get(f"/api/v1/label/{match.group('label')}/values", **params)
    return sorted(values)


def resolve_variables(
    board: dict[str, Any], server: LocalPrometheus, time_range: TimeRange
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Each variable's options and its selection as substituted into queries."""
    options: dict[str, list[str]] = {}
    selected: dict[str, str] = {}
    for variable in board.get("templating", {}).get("list", []):
        name = variable["name"]
        if variable["type"] == "datasource":
            continue
        query = interpolate(variable["query"], selected, time_range)
        options[name] = label_values(server, query, time_range)
        current = (variable.get("current") or {}).get("value")
        if variable.get("includeAll"):
            selected[name] = variable.get("allValue") or regex_value(options[name])
        elif current in options[name]:
            selected[name] = regex_value([current])
        elif options[name]:
            selected[name] = regex_value(options[name][:1])
    return options, selected


def sections(
    board: dict[str, Any],
) -> Iterator[tuple[dict[str, Any] | None, list[dict[str, Any]]]]:
    """(row or None, the panels it holds) in dashboard order."""
    row: dict[str, Any] | None = None
    held: list[dict[str, Any]] = []
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            if row is not None or held:
                yield row, held
            row, held = panel, list(panel.get("panels", []))
        else:
            held.append(panel)
    if row is not None or held:
        yield row, held


def panel_queries(
    board: dict[str, Any], server: LocalPrometheus, time_range: TimeRange
) -> list[PanelQuery]:
    """Every target of every panel, rows repeated per value, ready to run."""
    options, selected = resolve_variables(board, server, time_range)
    queries = []
    for row, held in sections(board):
        repeat = (row or {}).get("repeat")
        repeated: list[str | None] = list(options.get(repeat, [])) if repeat else [None]
        for value in repeated:
            values = dict(selected)
            if repeat and value is not None:
                values[repeat] = regex_value([value])
            for panel in held:
                for target in panel.get("targets", []):
                    queries.append(
                        PanelQuery(
                            panel=panel,
                            ref=target["refId"],
                            expr=interpolate(target["expr"], values, time_range),
                            legend=target.get("legendFormat", ""),
                            instant=bool(target.get("instant")),
                            repeat=value,
                        )
                    )
    return queries


def annotation_queries(
    board: dict[str, Any], server: LocalPrometheus, time_range: TimeRange
) -> list[str]:
    """The annotation queries, with variables substituted."""
    _, selected = resolve_variables(board, server, time_range)
    return [
        interpolate(annotation["expr"], selected, time_range)
        for annotation in board.get("annotations", {}).get("list", [])
        if "expr" in annotation
    ]


def run(server: LocalPrometheus, query: PanelQuery, time_range: TimeRange) -> list[dict[str, Any]]:
    """The query's result: instant at the end of the range, or over the range."""
    if query.instant:
        return server.query(query.expr, at=time_range.end)
    result: list[dict[str, Any]] = server.get(
        "/api/v1/query_range",
        query=query.expr,
        start=str(time_range.start),
        end=str(time_range.end),
        step=str(time_range.step),
    )["result"]
    return result

"""Every lint rule catches what it is for: each case breaks one thing in a good dashboard."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from compiler.targets.grafana import lint
from tests.support.dashboard_files import load
from tests.support.paths import ROOT

GOOD = load(ROOT / "dashboards" / "slo-enforcement-gate.json")
Board = dict[str, Any]


def _first_panel(board: Board) -> dict[str, Any]:
    return next(lint.panels(board))


def _variable(board: Board, name: str) -> dict[str, Any]:
    return next(v for v in board["templating"]["list"] if v["name"] == name)


def _set_expr(expr: str) -> Callable[[Board], None]:
    def change(board: Board) -> None:
        _first_panel(board)["targets"][0]["expr"] = expr

    return change


CASES: dict[str, tuple[str, Callable[[Board], None]]] = {
    "datasource variable renamed": (
        "template-datasource-rule",
        lambda b: _variable(b, "datasource").update(name="ds"),
    ),
    "datasource variable labelled otherwise": (
        "template-datasource-rule",
        lambda b: _variable(b, "datasource").update(label="Prometheus"),
    ),
    "variable query does not parse": (
        "template-label-promql-rule",
        lambda b: _variable(b, "slo").update(query="label_values(slo:info{service=, slo)"),
    ),
    "variable query not label_values": (
        "template-label-promql-rule",
        lambda b: _variable(b, "slo").update(query="slo:info"),
    ),
    "variable not refreshed on time change": (
        "template-label-promql-rule",
        lambda b: _variable(b, "slo").update(refresh=1),
    ),
    "variable on a fixed data source": (
        "template-label-promql-rule",
        lambda b: _variable(b, "slo").update(datasource={"type": "prometheus", "uid": "abc"}),
    ),
    "panel on a fixed data source": (
        "panel-datasource-rule",
        lambda b: _first_panel(b).update(datasource={"type": "prometheus", "uid": "abc"}),
    ),
    "target on a fixed data source": (
        "panel-datasource-rule",
        lambda b: _first_panel(b)["targets"][0].update(datasource={"uid": "abc"}),
    ),
    "no description": (
        "panel-title-description-rule",
        lambda b: _first_panel(b).update(description=""),
    ),
    "no title": ("panel-title-description-rule", lambda b: _first_panel(b).pop("title")),
    "unknown unit": (
        "panel-units-rule",
        lambda b: _first_panel(b)["fieldConfig"]["defaults"].update(unit="furlongs"),
    ),
    "no unit": (
        "panel-units-rule",
        lambda b: _first_panel(b)["fieldConfig"]["defaults"].pop("unit"),
    ),
    "no targets": ("panel-no-targets-rule", lambda b: _first_panel(b).update(targets=[])),
    "aggregation over a range (Pyrra's detail dashboard)": (
        "target-promql-rule",
        _set_expr('sum(slo:events_total:rate{slo="$slo"}[$__rate_interval])'),
    ),
    "rate over a fixed range": (
        "target-promql-rule",
        _set_expr("rate(http_requests_total[5m])"),
    ),
    "counter read without rate": ("target-promql-rule", _set_expr("sum(http_requests_total)")),
    "annotation does not parse": (
        "target-promql-rule",
        lambda b: b["annotations"]["list"][0].update(expr="ALERTS{"),
    ),
    "editable": ("uneditable-dashboard-rule", lambda b: b.update(editable=True)),
    "__inputs": ("provisioning-rule", lambda b: b.update(__inputs=[{"name": "DS_PROMETHEUS"}])),
    "old schemaVersion": ("provisioning-rule", lambda b: b.update(schemaVersion=36)),
    "removed panel type": ("provisioning-rule", lambda b: _first_panel(b).update(type="graph")),
    "uid too long": ("uid-rule", lambda b: b.update(uid="x" * 41)),
    "uid with a space": ("uid-rule", lambda b: b.update(uid="slo enforcement")),
}


def test_the_good_dashboard_passes() -> None:
    assert lint.lint(GOOD) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_rule_catches(case: str) -> None:
    rule, change = CASES[case]
    board = copy.deepcopy(GOOD)
    change(board)
    assert {p.rule for p in lint.lint(board)} == {rule}


def test_every_rule_has_a_failing_case() -> None:
    assert {rule for rule, _ in CASES.values()} == set(lint.RULES)


def test_variables_expand_before_parsing() -> None:
    board = copy.deepcopy(GOOD)
    _set_expr('avg_over_time(x{a=~"$tenant|"}[$__range:$__interval]) * ${__from:date:seconds}')(
        board
    )
    assert lint.lint(board) == []


def test_duplicate_uids_are_found() -> None:
    assert lint.unique_uids([GOOD, copy.deepcopy(GOOD)]) == [GOOD["uid"]]

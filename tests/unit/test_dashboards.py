"""The generated dashboards, checked without a server: Grafana's schema, the linter's
rules, the series they name, uids, provisioning, and the SDK parsing them back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.prometheus import Dataquery

from compiler import burn_rate, conventions, pipeline, promql
from compiler.targets.grafana import lint
from tests.support import grafana_schema
from tests.support.dashboard_files import (
    ALL,
    CHECKED_IN,
    label,
    load,
    rule_files_for,
    spec_paths_for,
)
from tests.support.paths import GENERATED, ROOT

DASHBOARD_IDS = [label(p) for p in ALL]
BUILT_IN_SERIES = {"ALERTS"}  # written by Prometheus itself for alerting rules
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


def _expressions(board: dict[str, Any]) -> list[str]:
    """Every PromQL text a dashboard runs: targets, annotations, variable selectors."""
    found = [target["expr"] for panel in lint.panels(board) for target in panel.get("targets", [])]
    found += [a["expr"] for a in board.get("annotations", {}).get("list", []) if "expr" in a]
    for variable in board.get("templating", {}).get("list", []):
        match = re.match(r"^label_values\((.+),\s*\w+\)$", variable.get("query", ""), re.S)
        if variable.get("type") == "query" and match:
            found.append(match.group(1))
    return found


@pytest.mark.parametrize("path", ALL, ids=DASHBOARD_IDS)
def test_validates_against_grafanas_schema(path: Path) -> None:
    board = load(path)
    assert grafana_schema.dashboard_errors(board) == []
    assert grafana_schema.panel_errors(board) == []


@pytest.mark.parametrize("path", ALL, ids=DASHBOARD_IDS)
def test_passes_the_linter_rules(path: Path) -> None:
    assert [str(p) for p in lint.lint(load(path))] == []


@pytest.mark.parametrize("path", ALL, ids=DASHBOARD_IDS)
def test_names_only_recorded_rules_and_declared_series(path: Path) -> None:
    board = load(path)
    records = {
        rule["record"]
        for file in rule_files_for(path)
        for group in yaml.safe_load(file.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    result = pipeline.compile_specs(spec_paths_for(path))
    declared = {m.name for spec in result.specs.services for m in spec.metrics}
    problems = []
    for expr in _expressions(board):
        for name in promql.metric_names(promql.parse(lint.expand(board, expr))):
            base = next(
                (name.removesuffix(s) for s in _HISTOGRAM_SUFFIXES if name.endswith(s)), name
            )
            if name.startswith("slo:") and name not in records:
                problems.append(f"{name}: no such recording rule in {rule_files_for(path)}")
            elif not name.startswith("slo:") and {name, base}.isdisjoint(
                declared | BUILT_IN_SERIES
            ):
                problems.append(f"{name}: not declared by any spec")
    assert problems == []


@pytest.mark.parametrize("path", ALL, ids=DASHBOARD_IDS)
def test_no_window_or_objective_is_hard_coded(path: Path) -> None:
    """Windows and objectives come from labels or recorded series, never from the query."""
    specs = pipeline.compile_specs(spec_paths_for(path)).specs
    numbers = {
        burn_rate.format_number(value)
        for slo in specs.slos
        for value in (slo.objective, slo.objective_ratio, slo.error_budget)
    } | {burn_rate.format_number(t.burn_factor) for slo in specs.slos for t in slo.tiers}
    numbers -= {"0", "1", "2", "100"}  # arithmetic, not settings: 1 - x, 0 * x, percent
    for expr in _expressions(load(path)):
        assert not re.search(r"\bwindow\s*!?=~?\s*\"", expr), expr
        assert not re.search(r"\[\d+[smhdwy]", expr), expr  # ranges are Grafana variables
        assert not set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])", expr)) & numbers, expr


@pytest.mark.parametrize("path", ALL, ids=DASHBOARD_IDS)
def test_parses_back_with_the_sdk(path: Path) -> None:
    register_default_plugins()
    board = load(path)
    parsed = dm.Dashboard.from_json(board)
    assert parsed.uid == board["uid"] and parsed.schema_version == board["schemaVersion"]
    assert len(parsed.panels or []) == len(board["panels"])
    targets = [t for p in parsed.panels or [] if isinstance(p, dm.Panel) for t in p.targets or []]
    assert targets and all(isinstance(t, Dataquery) for t in targets)


def test_uids_are_unique_and_name_the_files() -> None:
    boards = [load(p) for p in CHECKED_IN]
    assert lint.unique_uids(boards) == []
    for path, board in zip(CHECKED_IN, boards, strict=True):
        assert path.name == conventions.dashboard_path(board["uid"])


def test_one_dashboard_per_service_the_overview_and_declared_ones(
    reference_specs: Any,
) -> None:
    expected = {conventions.OVERVIEW_DASHBOARD_UID}
    for spec in reference_specs.services:
        if spec.slos:
            expected.add(conventions.slo_dashboard_uid(spec.service.name))
        expected.update(
            conventions.declared_dashboard_uid(spec.service.name, d.name) for d in spec.dashboards
        )
    assert {load(p)["uid"] for p in CHECKED_IN} == expected


def test_service_dashboard_shows_every_part_of_an_slo() -> None:
    board = load(ROOT / "dashboards" / "slo-enforcement-gate.json")
    rows = [p for p in board["panels"] if p["type"] == "row"]
    assert [r.get("repeat") for r in rows] == ["slo"]  # one row per SLO, from the variable
    titles = [p["title"] for p in lint.panels(board)]
    assert titles == [
        "Error budget remaining",
        "Burn rate, fastest tier",
        "Alert state per tier",
        "SLI against its objective",
        "Error budget consumed since the start of the range",
        "Burn rate per tier window",
        "Events per tier window against the low-traffic guard",
    ]
    variables = [v["name"] for v in board["templating"]["list"]]
    assert variables == ["datasource", "service", "slo", "tenant"]
    assert board["annotations"]["list"][0]["expr"].startswith('ALERTS{alertstate="firing"')
    stats = [p for p in lint.panels(board) if p["type"] == "stat"]
    for panel in stats:  # a number with a target is coloured by it
        assert len(panel["fieldConfig"]["defaults"]["thresholds"]["steps"]) >= 2


def test_overview_lists_every_slo_sorted_by_budget_with_links() -> None:
    board = load(ROOT / "dashboards" / f"{conventions.OVERVIEW_DASHBOARD_UID}.json")
    table = next(p for p in board["panels"] if p["type"] == "table")
    assert table["options"]["sortBy"] == [{"displayName": "Budget left %", "desc": False}]
    link = table["fieldConfig"]["defaults"]["links"][0]["url"]
    assert link.startswith("/d/${__data.fields.dashboard}?var-service=${__data.fields.service}")
    assert "var-tenant=${__data.fields.tenant}" in link
    # The uid the queries build from the service label is the compiler's.
    keep = conventions.GRAFANA_UID_MAX - len(conventions.SLO_DASHBOARD_UID_PREFIX)
    name = "a-service-name-that-is-longer-than-forty-characters"
    built = conventions.SLO_DASHBOARD_UID_PREFIX + re.fullmatch(f"(.{{0,{keep}}}).*", name)[1]  # type: ignore[index]
    assert built == conventions.slo_dashboard_uid(name)
    assert f'"(.{{0,{keep}}}).*"' in table["targets"][0]["expr"]


def test_provisioning_file_points_a_file_provider_at_the_dashboards() -> None:
    provisioning = yaml.safe_load((GENERATED / conventions.GRAFANA_PROVISIONING_PATH).read_text())
    assert provisioning["apiVersion"] == 1
    (provider,) = provisioning["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == conventions.GRAFANA_DASHBOARDS_MOUNT
    assert provider["allowUiUpdates"] is False


def test_peer_dashboards_fail_the_same_checks() -> None:
    """The checks can fail: Sloth's and Pyrra's dashboards do not pass them."""
    peers = grafana_schema.schema_dir()
    sloth = load(peers / "sloth-slo-detail.json")
    assert grafana_schema.dashboard_errors(sloth)
    pyrra = load(peers / "pyrra-detail.json")
    problems = [str(p) for p in lint.lint(pyrra)]
    assert any("does not parse" in p for p in problems), problems  # sum(x[$__rate_interval])

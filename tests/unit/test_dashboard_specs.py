"""Declared dashboards (``dashboards:`` in a spec): every mistake reported with file, line
and field, nothing built; a valid one becomes the model the generator reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import pipeline
from compiler.promql import Matcher, Selector
from tests.support.specs import SERVICE_SPEC, diagnostics_of

DASHBOARDS = """\
dashboards:
  - name: quota
    title: Quota
    variables: [tenant]
    panels:
      - title: Requests
        description: Requests per second per tenant.
        kind: rate
        series: http_requests_total{code!="499"}
        by: [tenant]
        unit: reqps
      - title: Queue depth
        description: Jobs waiting.
        kind: value
        series: queue_depth
      - title: Slow requests
        description: p99.
        kind: quantile
        quantile: 0.99
        series: request_seconds
"""
SPEC = SERVICE_SPEC + DASHBOARDS
FIRST_PANEL = 31  # line of "- title: Requests"


def _with(old: str, new: str) -> str:
    assert old in SPEC, old
    return SPEC.replace(old, new, 1)


def test_a_valid_declaration_builds_the_model(tmp_path: Path) -> None:
    path = tmp_path / "checkout.yaml"
    path.write_text(SPEC)
    result = pipeline.compile_specs([path])
    assert result.ok, result.diagnostics
    (dashboard,) = result.specs.services[0].dashboards
    assert (dashboard.name, dashboard.title) == ("quota", "Quota")
    requests, queue, slow = dashboard.panels
    assert requests.series == Selector("http_requests_total", (Matcher("code", "!=", "499"),))
    assert (requests.unit, requests.filtered_by) == ("reqps", ("tenant",))
    assert (queue.unit, queue.filtered_by, queue.aggregate) == ("short", (), "max")
    assert (slow.unit, slow.display) == ("s", "timeseries")
    assert [(v.label, v.metric) for v in dashboard.variables] == [("tenant", "http_requests_total")]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "        unit: reqps",
            "        unit: reqps\n        colour: red",
            f"checkout.yaml:{FIRST_PANEL + 6}: dashboards[0].panels[0].colour: "
            "unknown field 'colour'; expected one of: aggregate, by, denominator, description, "
            "display, kind, numerator, quantile, series, thresholds, title, unit, width",
        ),
        (
            "kind: rate",
            "kind: rates",
            f"checkout.yaml:{FIRST_PANEL + 2}: dashboards[0].panels[0].kind: 'rates' is not one "
            "of rate, increase, ratio, value, quantile (did you mean 'rate'?)",
        ),
        (
            'series: http_requests_total{code!="499"}',
            "series: http_request_total",
            f"checkout.yaml:{FIRST_PANEL + 3}: dashboards[0].panels[0].series: series "
            "'http_request_total' is not declared under metrics (did you mean "
            "'http_requests_total'?)",
        ),
        (
            'series: http_requests_total{code!="499"}',
            'series: http_requests_total{cod!="499"}',
            f"checkout.yaml:{FIRST_PANEL + 3}: dashboards[0].panels[0].series: "
            "'http_requests_total' has no label 'cod' (did you mean 'code'?); declared labels: "
            "code, tenant",
        ),
        (
            "        by: [tenant]",
            "        by: [tenat]",
            f"checkout.yaml:{FIRST_PANEL + 4}: dashboards[0].panels[0].by: 'http_requests_total' "
            "has no label 'tenat' (did you mean 'tenant'?); declared labels: code, tenant",
        ),
        (
            "unit: reqps",
            "unit: reqs",
            f"checkout.yaml:{FIRST_PANEL + 5}: dashboards[0].panels[0].unit: 'reqs' is not a "
            "Grafana unit id (did you mean 'reqps'?)",
        ),
        (
            "        series: queue_depth",
            "        series: http_requests_total",
            f"checkout.yaml:{FIRST_PANEL + 9}: dashboards[0].panels[1].series: "
            "'http_requests_total' counts events: show it with kind rate or increase, not value",
        ),
        (
            "kind: rate",
            "kind: ratio",
            f"checkout.yaml:{FIRST_PANEL + 3}: dashboards[0].panels[0].series: a ratio panel "
            "reads 'numerator' and 'denominator', not series",
        ),
        (
            "        quantile: 0.99\n",
            "",
            f"checkout.yaml:{FIRST_PANEL + 10}: dashboards[0].panels[2]: a quantile panel needs "
            "'quantile'",
        ),
        (
            "        series: request_seconds",
            "        series: request_seconds_bucket",
            f"checkout.yaml:{FIRST_PANEL + 14}: dashboards[0].panels[2].series: a quantile panel "
            "reads a histogram by its base name; 'request_seconds_bucket' is not one",
        ),
        (
            "    variables: [tenant]",
            "    variables: [queue, region]",
            "checkout.yaml:29: dashboards[0].variables[1]: no series of this dashboard's panels "
            "has the label 'region'",
        ),
        (
            "        unit: reqps",
            "        unit: reqps\n        thresholds: [{color: green, from: 1}]",
            f"checkout.yaml:{FIRST_PANEL + 6}: dashboards[0].panels[0].thresholds[0].from: the "
            "first step is the base colour: leave out 'from'",
        ),
        (
            "        unit: reqps",
            "        unit: reqps\n        thresholds: [{color: green}, {color: red, from: 2},"
            " {color: blue, from: 1}]",
            f"checkout.yaml:{FIRST_PANEL + 6}: dashboards[0].panels[0].thresholds[2].from: 1 is "
            "not above the previous step's 2",
        ),
        (
            "        kind: value\n",
            "        kind: value\n        aggregate: avg\n        quantile: 0.5\n",
            f"checkout.yaml:{FIRST_PANEL + 10}: dashboards[0].panels[1].quantile: 'quantile' is "
            "for quantile panels, not value",
        ),
    ],
)
def test_mistakes_are_reported_at_their_line(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    messages = diagnostics_of(tmp_path, _with(old, new))
    assert expected in messages, messages


def test_duplicate_dashboard_names(tmp_path: Path) -> None:
    text = SPEC + DASHBOARDS.removeprefix("dashboards:\n")
    messages = diagnostics_of(tmp_path, text)
    assert (
        "checkout.yaml:46: dashboards[1].name: duplicate dashboard name 'quota' "
        "(also dashboards[0])" in messages
    )


def test_a_catalog_is_required(tmp_path: Path) -> None:
    text = """\
apiVersion: slo-compiler/v1
kind: Service
service: {name: bare, owner: me}
dashboards:
  - name: x
    title: X
    panels:
      - {title: Up, description: Up or not., kind: value, series: up}
"""
    messages = diagnostics_of(tmp_path, text, "bare.yaml")
    assert messages == [
        "bare.yaml:5: dashboards[0]: a dashboard reads declared series: declare them under metrics"
    ]


def test_uids_cut_to_40_characters_must_stay_unique(tmp_path: Path) -> None:
    long = "a-service-whose-name-is-far-too-long-for-grafana"
    for suffix in ("one", "two"):
        text = SERVICE_SPEC.replace("name: checkout", f"name: {long}-{suffix}")
        (tmp_path / f"{suffix}.yaml").write_text(text)
    result = pipeline.compile_specs([tmp_path])
    messages = [str(d) for d in result.diagnostics]
    assert any(
        "would have the Grafana uid 'slo-a-service-whose-name-is-far-too-long' of the SLO "
        f"dashboard of {long}-one"
        in m
        and "two.yaml:4" in m
        for m in messages
    ), messages

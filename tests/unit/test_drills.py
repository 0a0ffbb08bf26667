"""Tabletop drills (`scenarios:`): their format's errors, and their tests under promtool."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import pipeline
from compiler.model.drill import state
from tests.support.drills import DRILL, drill_spec
from tests.support.specs import SERVICE_SPEC, diagnostics_of


def _drill_messages(tmp_path: Path, old: str = "", new: str = "") -> list[str]:
    text = SERVICE_SPEC + DRILL
    if old:
        assert old in text, old
        text = text.replace(old, new, 1)
    return diagnostics_of(tmp_path, text)


def test_a_valid_drill(tmp_path: Path) -> None:
    assert _drill_messages(tmp_path) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "{alert: CheckoutBurnFast",
            "{alert: CheckoutBurnFats",
            "checkout.yaml:34: scenarios[0].expect[0].alert: the service has no alert "
            "'CheckoutBurnFats' (did you mean 'CheckoutBurnFast'?)",
        ),
        (
            "labels: {tenant: t1}",
            "labels: {tenant: t1, code: '500'}",
            "checkout.yaml:34: scenarios[0].expect[0].labels: CheckoutBurnFast is split by "
            "tenant: give exactly those labels",
        ),
        (
            "rate: [0/s, 50/s from 10m]",
            "rate: [0/s, 50 from 10m]",
            "checkout.yaml:30: scenarios[0].series[0].rate[1]: a rate needs a unit: '50/s', "
            "'50/m' or '50/h'",
        ),
        (
            "rate: [0/s, 50/s from 10m]",
            "rate: [0/s, 50/s from 10m, 0/s from 5m]",
            "checkout.yaml:30: scenarios[0].series[0].rate[2]: steps must be in time order",
        ),
        (
            "rate: [0/s, 50/s from 10m]",
            "rate: [0/s, 50/s from 10m, restart from 8m]",
            "checkout.yaml:30: scenarios[0].series[0].rate[2]: steps must be in time order",
        ),
        (
            "rate: [0/s, 50/s from 10m]",
            "rate: [restart, 50/s from 10m]",
            "checkout.yaml:30: scenarios[0].series[0].rate[0]: 'restart from 20m' restarts a "
            "counter's process: after a rate",
        ),
        (
            "rate: [50/s, 0/s from 10m]",
            "rate: [50/s, 0/s at 10m]",
            "checkout.yaml:31: scenarios[0].series[1].rate[1]: '0/s at 10m' is not a step like "
            "'1000/s from 10m' or 'silent from 25m'",
        ),
        (
            'counter: \'http_requests_total{tenant="t2", code="200"}\'',
            "counter: 'http_request_total{tenant=\"t2\"}'",
            "checkout.yaml:32: scenarios[0].series[2].counter: series 'http_request_total' is "
            "not declared under metrics (did you mean 'http_requests_total'?)",
        ),
        (
            'counter: \'http_requests_total{tenant="t2", code="200"}\', rate: 50/s',
            'gauge: \'http_requests_total{tenant="t2", code="200"}\', rate: 50/s',
            "checkout.yaml:32: scenarios[0].series[2].rate: a gauge takes `value`, not `rate`",
        ),
        (
            "{silent: true, labels: {tenant: t2}}",
            "{silent: true, labels: {tenant: t2}, fires_within: 2m}",
            "checkout.yaml:35: scenarios[0].expect[1].fires_within: a silent expectation has "
            "no timing",
        ),
        (
            "fires_within: 5m}",
            "fires_within: 5m, clears_within: 2m}",
            "checkout.yaml:34: scenarios[0].expect[0]: `clears_within` and `cleared_after` go "
            "together",
        ),
        (
            "    description: Every request of tenant t1 fails.\n",
            "    description: Every request of tenant t1 fails.\n    minutes: 3\n",
            "checkout.yaml:29: scenarios[0].minutes: the drill must run at least until minute "
            "15, its last check",
        ),
        (
            "    expect:\n",
            "    expects:\n",
            "checkout.yaml:33: scenarios[0].expects: unknown field 'expects' (did you mean "
            "'expect'?)",
        ),
    ],
)
def test_drill_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert expected in _drill_messages(tmp_path, old, new)


def test_duplicate_drill_names(tmp_path: Path) -> None:
    text = SERVICE_SPEC + DRILL + DRILL.replace("scenarios:\n", "")
    assert (
        "checkout.yaml:36: scenarios[1].name: duplicate drill 'tenant-outage' (also scenarios[0])"
        in diagnostics_of(tmp_path, text)
    )


def test_an_expectation_is_unknown_between_the_incident_and_its_deadline(
    tmp_path: Path,
) -> None:
    result = pipeline.compile_specs([drill_spec(tmp_path)])
    fires = result.specs.services[0].drills[0].expectations[0]
    assert [state(fires, m) for m in (9, 10, 11, 14, 15, 40)] == [
        False,
        False,
        None,
        None,
        True,
        True,
    ]


def test_a_restart_and_a_rate_may_share_their_minute(tmp_path: Path) -> None:
    new = "rate: [0/s, 50/s from 10m, restart from 12m, 5/s from 12m]"
    assert _drill_messages(tmp_path, "rate: [0/s, 50/s from 10m]", new) == []

"""Errors a person editing a spec sees: all at once, each with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import pipeline
from compiler.diagnostics import Severity
from compiler.load import discovery
from tests.support.specs import SERVICE_SPEC, diagnostics_of


def _with(old: str, new: str) -> str:
    assert old in SERVICE_SPEC, old
    return SERVICE_SPEC.replace(old, new, 1)


def test_the_reference_example_is_valid(tmp_path: Path) -> None:
    assert diagnostics_of(tmp_path, SERVICE_SPEC) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "objective: 99.9",
            "objective: 100",
            "checkout.yaml:13: slos[0].objective: 100 is not below 100",
        ),
        (
            "objective: 99.9",
            "objective: 0",
            "checkout.yaml:13: slos[0].objective: 0 is not above 0",
        ),
        (
            "objective: 99.9",
            "objectiv: 99.9",
            "checkout.yaml:13: slos[0].objectiv: unknown field 'objectiv' (did you mean "
            "'objective'?)",
        ),
        (
            "  owner: team-shop\n",
            "",
            "checkout.yaml:3: service: missing required field 'owner'",
        ),
        (
            "severity: critical",
            "severity: critcal",
            "checkout.yaml:22: slos[0].alerting.tiers[0].severity: 'critcal' is not one of "
            "critical, warning, info (did you mean 'critical'?)",
        ),
        (
            "long_window: 1h",
            "long_window: 1 hour",
            "checkout.yaml:23: slos[0].alerting.tiers[0].long_window: '1 hour' is not a "
            "duration like 5m, 1h or 30d",
        ),
        (
            "long_window: 1h",
            "long_window: 45d",
            "checkout.yaml:23: slos[0].alerting.tiers[0].long_window: long window 45d does "
            "not fit the period 30d",
        ),
        (
            "short_window: 5m",
            "short_window: 2h",
            "checkout.yaml:24: slos[0].alerting.tiers[0].short_window: short window 2h must "
            "be shorter than the long window 1h",
        ),
        (
            "burn_factor: 14.4",
            "burn_factor: 14.4\n          budget_share: 2",
            "checkout.yaml:21: slos[0].alerting.tiers[0]: give either burn_factor or budget_share",
        ),
        (
            "burn_factor: 14.4",
            "burn_factor: 1000",
            "checkout.yaml:21: slos[0].alerting.tiers[0]: can never fire: 1000x the 0.1% "
            "budget is an error ratio of 100%",
        ),
        (
            "group_by: [tenant]",
            "group_by: [tenat]",
            "checkout.yaml:17: slos[0].sli.ratio.bad: 'http_requests_total' has no label "
            "'tenat' (did you mean 'tenant'?); declared labels: code, tenant",
        ),
        (
            "group_by: [tenant]",
            "group_by: [slo]",
            "checkout.yaml:14: slos[0].group_by[0]: cannot group by 'slo': the compiler sets it",
        ),
        (
            'bad: http_requests_total{code=~"5.."}',
            'bad: http_request_total{code=~"5.."}',
            "checkout.yaml:17: slos[0].sli.ratio.bad: series 'http_request_total' is not "
            "declared under metrics (did you mean 'http_requests_total'?)",
        ),
        (
            'bad: http_requests_total{code=~"5.."}',
            "bad: queue_depth",
            "checkout.yaml:17: slos[0].sli.ratio.bad: 'queue_depth' is a gauge; counting "
            "events needs a counter",
        ),
        (
            'bad: http_requests_total{code=~"5.."}',
            "bad: sum(rate(http_requests_total{code=~'5..'}[$window])",
            "checkout.yaml:17: slos[0].sli.ratio.bad: PromQL does not parse: unclosed left "
            "parenthesis",
        ),
        (
            'bad: http_requests_total{code=~"5.."}',
            "bad: rate(http_requests_total[5m])",
            "checkout.yaml:17: slos[0].sli.ratio.bad: expected a series selector such as "
            'metric_name{label="value"}: give a counter selector, or a query of rates with '
            "$window where the range goes",
        ),
        (
            'bad: http_requests_total{code=~"5.."}',
            'good: http_requests_total{code!~"5.."}\n        bad: http_requests_total',
            "checkout.yaml:16: slos[0].sli.ratio: give either 'bad' or 'good' events, "
            "together with 'total'",
        ),
        (
            '    sli:\n      ratio:\n        bad: http_requests_total{code=~"5.."}\n'
            "        total: http_requests_total\n",
            "    sli:\n      latency:\n        histogram: request_seconds\n"
            "        threshold: 0.3\n",
            "checkout.yaml:18: slos[0].sli.latency.threshold: 0.3 is not a bucket bound of "
            "'request_seconds' (buckets: 0.1, 0.25, 1)",
        ),
        (
            "  name: checkout\n",
            "  name: Checkout_Service\n",
            "checkout.yaml:4: service.name: 'Checkout_Service' must be lower-case letters, "
            "digits and dashes",
        ),
        (
            "        - alert: CheckoutBurnFast\n",
            "        - alert: CheckoutBurnFast\n          labels: {severity: low}\n",
            "checkout.yaml:22: slos[0].alerting.tiers[0].labels.severity: label 'severity' is "
            "set by the compiler; choose another",
        ),
        (
            "apiVersion: slo-compiler/v1",
            "apiVersion: slo-compiler/v2",
            "checkout.yaml:1: apiVersion: apiVersion 'slo-compiler/v2': expected slo-compiler/v1",
        ),
        (
            "    objective: 99.9\n",
            "    objective: 99.9\n    period: 30m\n",
            "checkout.yaml:14: slos[0].period: a period must be at least 1h",
        ),
    ],
)
def test_each_problem_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert expected in diagnostics_of(tmp_path, _with(old, new))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = _with("objective: 99.9", "objective: 100").replace("owner: team-shop", "ownr: x")
    messages = diagnostics_of(tmp_path, text)
    assert "checkout.yaml:5: service.ownr: unknown field 'ownr' (did you mean 'owner'?)" in (
        messages
    )
    assert "checkout.yaml:13: slos[0].objective: 100 is not below 100" in messages


def test_duplicate_slo_names(tmp_path: Path) -> None:
    second = SERVICE_SPEC[SERVICE_SPEC.index("  - name: availability") :]
    messages = diagnostics_of(tmp_path, SERVICE_SPEC + second)
    assert messages == [
        "checkout.yaml:26: slos[1].name: duplicate SLO name 'availability' (also slos[0])"
    ]


def test_duplicate_services_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SERVICE_SPEC)
    (tmp_path / "b.yaml").write_text(SERVICE_SPEC)
    result = pipeline.compile_specs([tmp_path])
    shown = discovery.display_path(tmp_path) + "/"
    assert [str(d).replace(shown, "") for d in result.diagnostics] == [
        "b.yaml:4: service.name: service 'checkout' is also defined in a.yaml"
    ]


def test_empty_file(tmp_path: Path) -> None:
    assert diagnostics_of(tmp_path, "# nothing yet\n") == [
        "checkout.yaml:1: the file holds no spec"
    ]


def test_malformed_yaml(tmp_path: Path) -> None:
    (message,) = diagnostics_of(
        tmp_path, SERVICE_SPEC.replace("  owner: team-shop", "  owner: [team")
    )
    assert message.startswith("checkout.yaml:6: invalid YAML:")


def test_yes_no_booleans_get_a_hint(tmp_path: Path) -> None:
    messages = diagnostics_of(
        tmp_path, _with("  owner: team-shop\n", "  owner: team-shop\n  labels: {page: no}\n")
    )
    assert messages == [
        "checkout.yaml:6: service.labels.page: false is not a string (quote it: YAML reads "
        "yes/no/on/off/true/false as booleans)"
    ]


def test_a_factor_below_one_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "checkout.yaml"
    path.write_text(_with("burn_factor: 14.4", "burn_factor: 0.5"))
    result = pipeline.compile_specs([path])
    assert result.ok
    (warning,) = result.diagnostics
    assert warning.severity is Severity.WARNING
    assert "fires while the SLO is on track" in warning.message


def test_a_missing_path_is_reported(tmp_path: Path) -> None:
    result = pipeline.compile_specs([tmp_path / "nope"])
    assert [d.message for d in result.diagnostics] == ["no such file or directory"]


def test_a_directory_without_specs_is_reported(tmp_path: Path) -> None:
    result = pipeline.compile_specs([tmp_path])
    assert [d.message for d in result.diagnostics] == ["no spec files (*.yaml, *.yml) found"]

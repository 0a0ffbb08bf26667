"""Reading OpenSLO v1 and v1alpha: references across files, semantics, messages, behaviour."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import pipeline
from compiler.load import discovery
from compiler.targets.prometheus import rule_files
from tests.support.formats import compile_files
from tests.support.paths import ROOT

SPECS = ROOT / "tests" / "specs" / "openslo"


def _copy(tmp_path: Path, edits: dict[str, tuple[str, str]] | None = None) -> Path:
    """The OpenSLO example set in ``tmp_path``, with (old, new) text edits per file."""
    for source in SPECS.iterdir():
        text = source.read_text()
        old, new = (edits or {}).get(source.name, ("", ""))
        if old:
            assert old in text, old
            text = text.replace(old, new, 1)
        (tmp_path / source.name).write_text(text)
    return tmp_path


def _messages(tmp_path: Path, edits: dict[str, tuple[str, str]]) -> list[str]:
    result = pipeline.compile_specs([_copy(tmp_path, edits)])
    prefix = f"{discovery.display_path(tmp_path)}/"
    return [str(d).removeprefix(prefix) for d in result.diagnostics]


def test_the_example_set_compiles_across_files() -> None:
    result = pipeline.compile_specs([SPECS])
    assert result.ok, result.diagnostics
    checkout, search = result.specs.services
    assert (checkout.service.name, checkout.service.owner) == ("checkout", "team-shop")
    slo = checkout.slos[0]
    assert (slo.name, str(slo.objective), str(slo.period)) == (
        "checkout-availability",
        "99.9",
        "4w",
    )
    assert dict(slo.labels) == {"team": "team-shop", "tier": "1"}
    tiers = [
        (
            t.alert,
            t.severity,
            str(t.long_window),
            str(t.short_window),
            str(t.burn_factor),
            str(t.for_) if t.for_ else None,
            t.min_events,
        )
        for t in slo.tiers
    ]
    assert tiers == [
        ("FastBurn", "critical", "1h", "5m", "14.4", None, 695),
        ("SlowBurn", "warning", "1d", "2h", "3", "5m", 3334),
    ]
    # Every file that contributed is named as the source.
    assert [Path(p).name for p in checkout.source.split(", ")] == [
        "checkout-slo.yaml",
        "checkout-sli.yaml",
        "alert-policies.yaml",
    ]
    assert (search.service.owner, search.service.description) == ("team-search", "Product search.")
    latency = search.slos[0]
    assert (str(latency.objective), str(latency.period)) == ("99", "1w")
    assert latency.tiers[0].min_events == 0  # data points, not events: no guard


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            {
                "checkout-slo.yaml": (
                    "indicatorRef: checkout-errors",
                    "indicatorRef: checkout-error",
                )
            },
            "checkout-slo.yaml:13: spec.indicatorRef: no SLI named 'checkout-error' (did you "
            "mean 'checkout-errors'?)",
        ),
        (
            {"checkout-slo.yaml": ("indicatorRef:", "indicatorRf:")},
            "checkout-slo.yaml:13: spec.indicatorRf: unknown field 'indicatorRf' (did you mean "
            "'indicatorRef'?)",
        ),
        (
            {"alert-policies.yaml": ("conditionRef: burn-14x-1h", "conditionRef: burn-14x")},
            "alert-policies.yaml:11: [0].spec.conditions[0].conditionRef: no AlertCondition "
            "named 'burn-14x' (did you mean 'burn-14x-1h'?)",
        ),
        (
            {"checkout-slo.yaml": ("duration: 28d", "duration: 1M")},
            "checkout-slo.yaml:15: spec.timeWindow[0].duration: '1M': months, quarters and "
            "years have no fixed length",
        ),
        (
            {"checkout-sli.yaml": ("type: Prometheus", "type: Datadog")},
            "checkout-sli.yaml:10: spec.ratioMetric.bad.metricSource: metric source type "
            "'Datadog' is not supported",
        ),
        (
            {
                "alert-policies.yaml": (
                    "op: gt\n      threshold: 14.4",
                    "op: lt\n      threshold: 14.4",
                )
            },
            "alert-policies.yaml:40: [2].spec.condition.op: op 'lt': a burn-rate alert fires "
            "when the burn rate is above the threshold",
        ),
        (
            {"alert-policies.yaml": ("severity: ticket", "severity: sev2")},
            "alert-policies.yaml:25: [1].spec.conditions[0].spec.severity: severity 'sev2' is "
            "not known",
        ),
        (
            {"alert-policies.yaml": ("lookbackWindow: 1h", "lookbackWindow: 10m")},
            "alert-policies.yaml:42: [2].spec.condition.lookbackWindow: lookbackWindow 10m is "
            "too short",
        ),
        (
            {"checkout-slo.yaml": ("target: 0.999", "target: 0.999\n      targetPercent: 99.9")},
            "checkout-slo.yaml:19: spec.objectives[0]: give either target or targetPercent",
        ),
        (
            {"checkout-slo.yaml": ("target: 0.999", "target: 0.999\n      op: lte")},
            "checkout-slo.yaml:19: spec.objectives[0]: op and value apply to thresholdMetric "
            "SLIs only",
        ),
        (
            {"search-latency.yaml": ("    - op: lte\n      value: 0.25\n", "    - ")},
            "search-latency.yaml:31: spec.objectives[0]: a thresholdMetric objective needs op "
            "and value",
        ),
        (
            {"search-latency.yaml": ("name: search-latency\n", "name: checkout-availability\n")},
            "search-latency.yaml:14: metadata.name: SLO 'checkout-availability' is also defined "
            "in ",
        ),
    ],
)
def test_each_problem_points_at_its_openslo_file(
    tmp_path: Path, edits: dict[str, tuple[str, str]], expected: str
) -> None:
    messages = _messages(tmp_path, edits)
    assert any(m.startswith(expected) for m in messages), messages


def test_a_reference_to_a_file_not_given_is_an_error() -> None:
    result = pipeline.compile_specs([SPECS / "checkout-slo.yaml"])
    assert not result.ok
    texts = [d.message for d in result.diagnostics]
    assert "no SLI named 'checkout-errors'; no SLI object was found in the files given" in texts


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        (
            {"checkout-slo.yaml": ("isRolling: true", "isRolling: false")},
            "checkout-slo.yaml:15: spec.timeWindow[0]: warning: calendar-aligned windows are "
            "not supported: the objective is evaluated over a rolling 28d",
        ),
        (
            {"checkout-slo.yaml": ("budgetingMethod: Occurrences", "budgetingMethod: Timeslices")},
            "checkout-slo.yaml:17: spec.budgetingMethod: warning: budgetingMethod Timeslices: "
            "time slices are not supported",
        ),
        (
            {
                "alert-policies.yaml": (
                    "alertWhenBreaching: true\n    alertWhenResolved",
                    "alertWhenBreaching: false\n    alertWhenResolved",
                )
            },
            "alert-policies.yaml:8: [0].spec.alertWhenBreaching: warning: alert policy "
            "'fast-burn' alerts only on no data or resolution",
        ),
    ],
)
def test_what_rules_cannot_express_is_a_warning(
    tmp_path: Path, edits: dict[str, tuple[str, str]], expected: str
) -> None:
    messages = _messages(tmp_path, edits)
    assert expected in [m[: len(expected)] for m in messages], messages


V1ALPHA = """\
apiVersion: openslo/v1alpha
kind: SLO
metadata: {name: api-availability, displayName: API}
spec:
  service: api
  budgetingMethod: Occurrences
  timeWindows: [{unit: Week, count: 2, isRolling: true}]
  objectives:
    - target: 0.995
      ratioMetrics:
        incremental: true
        good: {source: Prometheus, queryType: query, query: 'api_requests_total{code!~"5.."}'}
        total: {source: Prometheus, queryType: query, query: api_requests_total}
"""


def test_v1alpha_takes_counter_selectors_and_week_units(tmp_path: Path) -> None:
    result, messages = compile_files(tmp_path, {"api.yaml": V1ALPHA})
    assert result.ok, messages
    slo = result.specs.slos[0]
    assert (str(slo.period), str(slo.objective), slo.tiers) == ("2w", "99.5", ())
    rules = rule_files.service_rules(result.specs.services[0])["groups"][0]["rules"]
    assert rules[0]["expr"] == "sum(rate(api_requests_total[5m]))"
    broken = V1ALPHA.replace("incremental: true", "incremental: false")
    result, messages = compile_files(tmp_path, {"api.yaml": broken})
    assert any("counter: false with a plain selector" in m for m in messages), messages
    months = V1ALPHA.replace("unit: Week", "unit: Month")
    result, messages = compile_files(tmp_path, {"api.yaml": months})
    assert any("unit 'Month': months, quarters and years" in m for m in messages), messages

"""The generated rule tests: they pass under promtool, fail on a broken rule, and their
expectations agree with the documented burn-rate math."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import burn_rate, pipeline, promtool, writer
from compiler.cli import main
from compiler.durations import Duration
from compiler.model import SpecSet
from compiler.outputs import Root
from compiler.promql import Matcher
from compiler.series_synthesis import shortest_match, solve
from compiler.signal_model import RawPromQL
from compiler.slo_timeline import SloMath, TierMath, Timeline, constant
from compiler.targets import prometheus, rule_tests
from compiler.test_scenarios import Scenario
from tests.conftest import GENERATED, ROOT

GOLDEN_SPECS = ROOT / "tests" / "specs"


def _slo_test(*args: str, cwd: Path = ROOT) -> Result:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["test", *args])
    finally:
        os.chdir(old)


def test_every_generated_test_passes_under_promtool(
    reference_specs: SpecSet, promtool_path: str
) -> None:
    """`slo test` over the checked-in tests: every SLO of slos/ passes, reported by name."""
    result = _slo_test()
    assert result.exit_code == 0, result.output
    subjects = [f"slo {slo.name}" for slo in reference_specs.slos]
    subjects += [f"drill {d.name}" for spec in reference_specs.services for d in spec.drills]
    subjects += [
        f"signal {s.name}"
        for s in reference_specs.signals
        if not isinstance(s.condition, RawPromQL)
    ]
    for name in subjects:
        assert re.search(rf"^PASS {name} \(", result.output, re.MULTILINE), name
    assert " 0 failed (" in result.output


def test_slos_carry_the_runbook_drills(reference_specs: SpecSet) -> None:
    """Runbook 000's three tabletop scenarios, and runbook 002's scenarios that have a
    signal (1: abuse spike, 4: reservation drift; 2 and 3 have none), are drills in slos/."""
    drills = {
        spec.service.name: {drill.name for drill in spec.drills}
        for spec in reference_specs.services
        if spec.drills
    }
    assert drills == {
        "control-plane": {"policy-breach", "agent-retry-loop"},
        # With the drills of the collector's own signals (issue 8, docs/otel.md).
        "telemetry": {
            "collector-down",
            "collector-gone",
            "ingest-stops-without-type-suffix",
            "export-and-enqueue-failures",
            "queue-fills",
            "memory-limit-reached",
        },
        "enforcement-gate": {"abuse-spike", "reservation-drift-surge"},
    }


@pytest.mark.parametrize("factor", ["13", "16"])
def test_a_broken_factor_makes_the_generated_tests_fail(
    tmp_path: Path, factor: str, promtool_path: str
) -> None:
    """Done-when of issue 3: change one factor in the rules and the tests catch it, whether
    the threshold moves down (the just-below scenario fires) or up (just-above stays quiet)."""
    generated = tmp_path / "generated"
    shutil.copytree(GENERATED, generated)
    rules = generated / "prometheus" / "enforcement-gate.rules.yml"
    text = rules.read_text()
    fast = 'slo:burn_rate:ratio{service="enforcement-gate", slo="gate-reliability", window="1h"}'
    assert text.count(f"{fast} > 14.4") == 1
    rules.write_text(text.replace(f"{fast} > 14.4", f"{fast} > {factor}"))
    scope = "slo gate-reliability: tier 1h/5m"
    broken = _slo_test("--generated", str(generated), "--match", scope)
    assert broken.exit_code == 1, broken.output
    assert "FAIL slo gate-reliability" in broken.output
    assert "exp:" in broken.output and "got:" in broken.output  # promtool's own diff
    # The unbroken rules pass the same scenarios.
    rules.write_text(text)
    assert _slo_test("--generated", str(generated), "--match", scope).exit_code == 0


def test_slo_test_reports_what_matches_nothing(tmp_path: Path) -> None:
    result = _slo_test("--match", "no such scenario")
    assert result.exit_code == 1
    assert "no tests matching 'no such scenario' found" in result.output


def _scenarios(specs: SpecSet) -> list[tuple[str, Scenario]]:
    return [
        (f"{slo.service}/{slo.name}", scenario)
        for slo in specs.slos
        for scenario in rule_tests.slo_scenarios(slo)
    ]


@pytest.fixture(scope="module")
def golden_specs() -> SpecSet:
    result = pipeline.compile_specs([GOLDEN_SPECS])
    assert result.ok, result.diagnostics
    return result.specs


def test_scenarios_cover_what_issue_3_lists(
    reference_specs: SpecSet, golden_specs: SpecSet
) -> None:
    for specs in (reference_specs, golden_specs):
        for slo in specs.slos:
            kinds = [s.kind for s in rule_tests.slo_scenarios(slo)]
            assert kinds.count("zero") == 1
            if not slo.tiers:
                assert kinds.count("healthy") == 1
                continue
            assert kinds.count("above") == kinds.count("below") == len(slo.tiers)
            assert kinds.count("outage") == 1
            if any(t.min_events or t.min_bad_events for t in slo.tiers):
                assert kinds.count("guard") in (1, 2)


def test_above_scenarios_fire_when_burn_rate_says(
    reference_specs: SpecSet, golden_specs: SpecSet
) -> None:
    """With full history the exact model is the documented step response: the tier under
    test fires exactly when compiler.burn_rate.first_firing says, and clears within its
    short window plus `for` after the errors stop."""
    checked = 0
    for specs in (reference_specs, golden_specs):
        for slo in specs.slos:
            math = SloMath.of(slo)
            above = [s for s in rule_tests.slo_scenarios(slo) if s.kind == "above"]
            for index, (tier, scenario) in enumerate(zip(slo.tiers, above, strict=True)):
                healthy, burn, recovery = scenario.lanes[0]
                step = scenario.interval
                n = healthy.total
                threshold = math.tiers[index].threshold
                base, _, _ = prometheus.windows(slo)
                predicted = burn_rate.first_firing(
                    float((burn.bad - healthy.bad) / n),
                    float(threshold - healthy.bad / n),
                    tier.long_window,
                    tier.short_window,
                    base,
                    Duration(step * 60),
                )
                assert predicted is not None
                hold = tier.for_.seconds if tier.for_ else 0
                expected_minute = burn.start + -(-(int(predicted) + hold) // (step * 60)) * step
                fired = _first(scenario, index, after=burn.start, firing=True)
                assert fired == expected_minute, (slo.name, tier.alert, tier.long_window)
                cleared = _first(scenario, index, after=recovery.start, firing=False)
                assert cleared - recovery.start <= (tier.short_window.seconds + hold) / 60
                checked += 1
    assert checked >= 10


def _first(scenario: Scenario, tier: int, after: int, firing: bool) -> int:
    return min(
        c.minute
        for c in scenario.alert_checks
        if c.minute > after and ((0, tier) in c.firing) == firing
    )


def test_outage_detection_is_within_the_documented_bound(reference_specs: SpecSet) -> None:
    for slo in reference_specs.slos:
        outage = next(s for s in rule_tests.slo_scenarios(slo) if s.kind == "outage")
        start = outage.lanes[0][1].start
        base, _, _ = prometheus.windows(slo)
        bounds = [
            burn_rate.first_firing(
                1.0, float(slo.threshold(t)), t.long_window, t.short_window, base, Duration(60)
            )
            for t in slo.tiers
        ]
        fastest = min(b for b in bounds if b is not None)
        first = min(c.minute for c in outage.alert_checks if c.firing)
        assert first - start == fastest / 60, slo.name


windows = st.sampled_from([(60, 5), (30, 2), (10, 1), (360, 30), (120, 10)])


@settings(max_examples=60, deadline=None)
@given(
    window=windows,
    factor=st.decimals("1", "40", places=1),
    budget=st.sampled_from([Fraction(1, 1000), Fraction(1, 100), Fraction(5, 1000)]),
    step=st.floats(1.05, 3.0),
    baseline=st.floats(0, 0.9),
)
def test_the_exact_model_is_the_documented_step_response(
    window: tuple[int, int], factor: object, budget: Fraction, step: float, baseline: float
) -> None:
    """The planner's model (compiler.slo_timeline) and compiler.burn_rate agree on when a
    step in the error ratio fires a tier, whatever the windows, threshold and baseline."""
    long, short = window
    threshold = Fraction(str(factor)) * budget
    if threshold >= Fraction(1, 2):
        return
    base = min(5, short)
    n = 60_000
    healthy = int(baseline * threshold * n)
    burn = min(n, int(step * threshold * n) + 1)
    math = SloMath(budget, base * 60, (TierMath(long * 60, short * 60, threshold),))
    start = long + base
    timeline = Timeline(
        math, [(constant(n, healthy), constant(n, burn, start))], 60, (start + long + 30) * 60
    )
    fired = timeline.first_change(0, 0, start, True)
    predicted = burn_rate.first_firing(
        float(Fraction(burn - healthy, n)),
        float(threshold - Fraction(healthy, n)),
        Duration(long * 60),
        Duration(short * 60),
        Duration(base * 60),
        Duration(60),
    )
    assert predicted is not None and fired is not None
    if timeline.robust():  # burn_rate works in floats: a tie at the threshold may go either way
        assert fired - start == predicted / 60


def test_every_sli_form_reaches_its_records(
    golden_specs: SpecSet, tmp_path: Path, promtool_path: str
) -> None:
    """The series synthesized for each SLI form (bad or good selectors, $window queries,
    latency histograms, group_by) are read by the rules as exactly the intended events."""
    spec = next(s for s in golden_specs.services if s.service.name == "kitchen-sink")
    groups = []
    for slo in spec.slos:
        healthy = next(s for s in rule_tests.slo_scenarios(slo) if s.kind in ("above", "healthy"))
        base, _, _ = prometheus.windows(slo)
        # Traffic is steady from minute 0: one full base window later the records show it.
        check = replace(healthy.record_checks[0], minute=base.seconds // 60 + 1)
        short = Scenario(
            kind="healthy",
            title="synthetic series reach the records",
            interval=1,
            end=check.minute,
            lanes=healthy.lanes,
            record_checks=(check,),
        )
        groups.append(rule_tests.test_group(spec, slo, short))
    rules = tmp_path / "rules.yml"
    rules.write_text(writer.to_yaml(prometheus.service_rules(spec)))
    test_file = tmp_path / "forms.test.yml"
    test_file.write_text(
        writer.to_yaml({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": groups})
    )
    document = yaml.safe_load(test_file.read_text())
    assert len(document["tests"]) == len(spec.slos) == 5
    result = promtool.test_rules([test_file])
    assert result.ok, result.output


TEMPLATED = """
apiVersion: slo-compiler/v1
kind: Service
service: {name: templated, owner: team-test, runbook_base_url: https://runbooks.example/}
metrics:
  jobs_total: {type: counter, labels: [queue]}
  jobs_failed_total: {type: counter, labels: [queue]}
slos:
  - name: jobs
    objective: 99
    period: 1d
    group_by: [queue]
    sli: {ratio: {bad: jobs_failed_total, total: jobs_total}}
    alerting:
      annotations: {value: "burning at {{ $value | humanize }}x on {{ $labels.queue }}"}
      tiers:
        - {alert: JobsBurn, severity: critical, long_window: 10m, short_window: 1m,
           burn_factor: 10, for: 2m}
"""


def test_texts_with_value_templates_are_checked_through_alerts(
    tmp_path: Path, promtool_path: str
) -> None:
    """An annotation promtool cannot be told in advance ($value) makes the generated checks
    compare the ALERTS series (labels) instead, and those pass too."""
    spec_file = tmp_path / "templated.yaml"
    spec_file.write_text(TEMPLATED)
    result = pipeline.compile_specs([spec_file])
    assert result.ok, result.diagnostics
    roots = {Root.GENERATED: tmp_path / "generated", Root.DASHBOARDS: tmp_path / "dashboards"}
    writer.write(writer.plan(pipeline.outputs(result.specs), roots))
    document = yaml.safe_load((tmp_path / "generated" / "tests" / "templated.test.yml").read_text())
    groups = document["tests"]
    assert all("alert_rule_test" not in group for group in groups)
    assert any(
        test["expr"].startswith('ALERTS{alertname="JobsBurn"') and test["exp_samples"]
        for group in groups
        for test in group.get("promql_expr_test", [])
    )
    tested = _slo_test("--generated", str(tmp_path / "generated"))
    assert tested.exit_code == 0, tested.output
    assert "PASS slo jobs" in tested.output


PATTERNS = ["5..", "2..|3..", ".*/api", "(GET|POST)", "[a-c]+_x", "\\d{3}", "x?y+", "[^5].*", ".+"]
matcher_strategy = st.builds(
    Matcher,
    label=st.sampled_from(["code", "route", "method"]),
    op=st.sampled_from(["=", "!=", "=~", "!~"]),
    value=st.sampled_from([*PATTERNS, "500", "/api", "", "GET"]),
)


def _holds(matcher: Matcher, labels: dict[str, str]) -> bool:
    """Prometheus's matching, written out: an absent label has the empty value; regexes
    are anchored at both ends."""
    value = labels.get(matcher.label, "")
    if matcher.op in ("=", "!="):
        return (value == matcher.value) == (matcher.op == "=")
    return (re.fullmatch(f"(?:{matcher.value})", value) is not None) == (matcher.op == "=~")


@given(
    positive=st.lists(matcher_strategy, max_size=4),
    negative=st.lists(matcher_strategy, max_size=3),
)
def test_synthesized_labels_satisfy_and_miss_as_asked(
    positive: list[Matcher], negative: list[Matcher]
) -> None:
    """Labels built for a selector match every matcher it has, and labels built to stay out
    of another selector fail at least one of its matchers."""
    found = solve(positive, negative)
    if found is None:
        return
    assert all(_holds(m, found) for m in positive), found
    if negative:
        assert not all(_holds(m, found) for m in negative), found
    assert all(value for value in found.values())  # absent, never an empty label


@given(st.sampled_from(PATTERNS))
def test_shortest_match_is_a_match(pattern: str) -> None:
    text = shortest_match(pattern)
    assert text is not None and re.fullmatch(pattern, text)

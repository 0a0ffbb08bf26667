"""The generated rule tests: they pass under promtool, fail on a broken rule, and their
expectations agree with the documented burn-rate math."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import burn_rate
from compiler.durations import Duration
from compiler.model.service import SpecSet
from compiler.targets.prometheus import slo_rules
from compiler.targets.rule_tests import promtool_files
from compiler.targets.rule_tests.slo_scenarios import Scenario
from compiler.targets.rule_tests.timeline import SloMath, TierMath, Timeline, constant
from tests.support.rule_tests import slo_test


def test_slos_carry_the_runbook_drills(reference_specs: SpecSet) -> None:
    """Runbook 000's three tabletop scenarios (the policy breach also across a restart),
    runbook 002's scenarios that have a signal (1: abuse spike, 4: reservation drift; 2 and 3
    have none), and the log-based signals of runbooks 001 and 004 are drills in slos/."""
    drills = {
        spec.service.name: {drill.name for drill in spec.drills}
        for spec in reference_specs.services
        if spec.drills
    }
    assert drills == {
        "control-plane": {
            "policy-breach",
            "policy-breach-after-restart",
            "agent-retry-loop",
            # Counters made from the kill switch's log records (issue 16, docs/otel.md).
            "kill-switch-chaos-drill",
            "kill-switch-after-collector-restart",
        },
        # Runbook 004 section 2.5 from the API's log records (issue 16).
        "agent-api": {
            "tenant-isolation-violation",
            "tenant-isolation-violation-after-collector-restart",
        },
        # With the drills of the collector's own signals (issue 8, docs/otel.md).
        "telemetry": {
            "collector-down",
            "collector-gone",
            "ingest-stops-without-type-suffix",
            "export-and-enqueue-failures",
            "queue-fills",
            "memory-limit-reached",
            # Logs and traces delivery (issue 16).
            "log-and-trace-export-failures",
            "logs-and-spans-refused",
        },
        "enforcement-gate": {"abuse-spike", "reservation-drift-surge"},
    }


def test_slo_test_reports_what_matches_nothing(tmp_path: Path) -> None:
    result = slo_test("--match", "no such scenario")
    assert result.exit_code == 1
    assert "no scenario matches 'no such scenario' in generated/tests (subjects: " in result.output


def _scenarios(specs: SpecSet) -> list[tuple[str, Scenario]]:
    return [
        (f"{slo.service}/{slo.name}", scenario)
        for slo in specs.slos
        for scenario in promtool_files.slo_scenarios(slo)
    ]


def test_scenarios_cover_what_issue_3_lists(
    reference_specs: SpecSet, golden_specs: SpecSet
) -> None:
    for specs in (reference_specs, golden_specs):
        for slo in specs.slos:
            kinds = [s.kind for s in promtool_files.slo_scenarios(slo)]
            assert kinds.count("zero") == 1
            if not slo.tiers:
                assert kinds.count("healthy") == 1
                continue
            assert kinds.count("above") == kinds.count("below") == len(slo.tiers)
            assert kinds.count("outage") == 1
            if any(t.min_events or t.min_bad_events for t in slo.tiers):
                assert kinds.count("guard") in (1, 2)
            # A quiet group's total outage fires once the floor is reached (where a tier's
            # floor leaves room below its guard: a quarter of it always does).
            roomy = any(t.outage_floor and 4 * t.outage_floor <= t.min_events for t in slo.tiers)
            assert kinds.count("floor") == 1 if roomy else kinds.count("floor") <= 1
            if (slo.service, slo.name) == ("enforcement-gate", "gate-reliability"):
                assert kinds.count("floor") == 1


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
            above = [s for s in promtool_files.slo_scenarios(slo) if s.kind == "above"]
            for index, (tier, scenario) in enumerate(zip(slo.tiers, above, strict=True)):
                healthy, burn, recovery = scenario.lanes[0]
                step = scenario.interval
                n = healthy.total
                threshold = math.tiers[index].threshold
                base, _, _ = slo_rules.windows(slo)
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
        outage = next(s for s in promtool_files.slo_scenarios(slo) if s.kind == "outage")
        start = outage.lanes[0][1].start
        base, _, _ = slo_rules.windows(slo)
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
    """The planner's model (compiler.targets.rule_tests.timeline) and compiler.burn_rate agree
    on when a step in the error ratio fires a tier, whatever the windows, threshold and
    baseline."""
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

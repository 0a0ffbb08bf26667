"""`slo explain` and the alerting math behind it (compiler/review/alerting.py).

The times are checked against Prometheus's engine in tests/integration/test_explain_timing.py;
here they are checked against the SRE workbook's formulas (docs/review.md), which they must
follow within the base window's ramp, and the command end to end.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import pipeline
from compiler.cli import main
from compiler.model.service import SpecSet
from compiler.model.slo import SLO
from compiler.review import alerting, explain
from tests.support.specs import SERVICE_SPEC

INTERVAL = alerting.EVALUATION_INTERVAL


def _specs(tmp_path: Path, text: str) -> SpecSet:
    spec = tmp_path / "checkout.yaml"
    spec.write_text(text)
    result = pipeline.compile_specs([spec])
    assert result.ok, result.diagnostics
    return result.specs


def _workbook_time(slo: SLO, index: int, ratio: Fraction) -> tuple[float, float]:
    """The workbook's detection time of the long and of the short window."""
    tier = slo.tiers[index]
    threshold = Fraction(slo.threshold(tier))
    return (
        float(tier.long_window.seconds * threshold / ratio),
        float(tier.short_window.seconds * threshold / ratio),
    )


@pytest.mark.parametrize("ratio", [Fraction(1), Fraction(1, 2), Fraction(1, 20)])
def test_times_follow_the_workbook_within_the_base_window(
    reference_specs: SpecSet, ratio: Fraction
) -> None:
    for slo in reference_specs.slos:
        base = alerting.base_window(slo)
        for index, tier in enumerate(slo.tiers):
            if Fraction(slo.threshold(tier)) >= ratio:
                assert alerting.time_to_fire(slo, tier, ratio) is None
                continue
            fires = alerting.time_to_fire(slo, tier, ratio)
            assert fires is not None
            hold = tier.for_.seconds if tier.for_ else 0
            long, short = _workbook_time(slo, index, ratio)
            earliest = max(long, short)
            assert earliest <= fires - hold <= earliest + base + INTERVAL, (slo.name, tier)


def test_reset_is_the_short_window_clearing(reference_specs: SpecSet) -> None:
    for slo in reference_specs.slos:
        base = alerting.base_window(slo)
        for tier in slo.tiers:
            reset = alerting.reset_time(slo, tier)
            assert reset is not None
            short = tier.short_window.seconds
            workbook = short * (1 - float(slo.threshold(tier)))
            assert workbook - INTERVAL <= reset <= workbook + base + INTERVAL, (slo.name, tier)


def test_for_delays_firing_by_its_length_and_not_the_reset(tmp_path: Path) -> None:
    without = _specs(tmp_path, SERVICE_SPEC).slos[0]
    held = _specs(
        tmp_path, SERVICE_SPEC.replace("burn_factor: 14.4", "burn_factor: 14.4\n          for: 5m")
    ).slos[0]
    fires = alerting.time_to_fire(without, without.tiers[0], Fraction(1))
    fires_held = alerting.time_to_fire(held, held.tiers[0], Fraction(1))
    assert fires is not None and fires_held == fires + 300
    assert alerting.reset_time(held, held.tiers[0]) == alerting.reset_time(
        without, without.tiers[0]
    )


def test_the_guard_decides_at_low_traffic(tmp_path: Path) -> None:
    text = SERVICE_SPEC.replace(
        "burn_factor: 14.4", "burn_factor: 14.4\n      low_traffic: {min_events: 600}"
    )
    slo = _specs(tmp_path, text).slos[0]
    tier = slo.tiers[0]
    assert alerting.min_traffic(tier) == Fraction(600, 3600)  # events per second, 1h window
    # 9 events a minute is 540 an hour: below the guard, a full outage pages only once the
    # outage floor's 100 failed events are in the window (after 100 / 9 minutes and the
    # base window's ramp); without the floor, never.
    fired = alerting.time_to_fire(slo, tier, Fraction(1), Fraction(9))
    assert fired is not None and 100 / 9 * 60 <= fired <= (100 / 9 + 6) * 60
    no_floor = dataclasses.replace(tier, outage_events=0)
    unfloored = dataclasses.replace(slo, tiers=(no_floor, *slo.tiers[1:]))
    assert alerting.time_to_fire(unfloored, no_floor, Fraction(1), Fraction(9)) is None
    assert alerting.time_to_fire(slo, tier, Fraction(1), Fraction(11)) is not None


def test_budget_numbers(reference_specs: SpecSet) -> None:
    _, slo = explain.find(reference_specs, "enforcement-gate/gate-reliability")
    assert alerting.budget_in_time(slo) == 2592  # 0.1 % of 30 days: 43m12s
    assert alerting.budget_in_events(slo, 100) == pytest.approx(259_200)
    fast = alerting.tier_report(slo, slo.tiers[0])
    # At its factor a tier spends its budget share (2 %), plus the base window's ramp.
    assert fast.budget_share == Decimal("0.02")
    assert fast.at_factor.budget_spent is not None
    assert 0.02 < fast.at_factor.budget_spent < 0.02 * (3600 + 300 + 60) / 3600


def test_explain_command(reference_specs: SpecSet) -> None:
    result = CliRunner().invoke(main, ["explain", "enforcement-gate/gate-reliability"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    fast = next(
        line
        for line in lines
        if line.lstrip().startswith("ValdricsEnforcementErrorBudgetBurnFast ")
    )
    assert fast.split() == [
        "ValdricsEnforcementErrorBudgetBurnFast",
        "critical",
        "1h/5m",
        "-",
        "1.44%",
        "(14.4x)",
        "3m",
        "(6.94%",
        "budget)",
        "1h5m",
        "(2.17%",
        "budget)",
        "5m",
        ">=1000",
        "events",
        "|",
        ">=100",
        "failed",
    ]
    assert "43m12s of full outage per 30d" in result.output
    assert "1000 events in 1h, i.e. at least 0.278 events/s per group" in result.output
    assert "route       critical -> enforcement-pager" in result.output  # the team's
    assert "rules       prometheus/enforcement-gate.rules.yml: group" in result.output


def test_explain_unknown_slo_names_the_known_ones() -> None:
    result = CliRunner().invoke(main, ["explain", "enforcement-gate/nope"])
    assert result.exit_code == 2
    assert "known: agent-api/availability" in result.output


def test_plot_draws_each_tier_falling_with_the_error_ratio(
    reference_specs: SpecSet, tmp_path: Path
) -> None:
    from compiler.review import plot

    found = explain.explain(reference_specs, "enforcement-gate/gate-reliability")
    for index in range(len(found.tiers)):
        points = plot.curve(found, index)
        assert len(points) == plot.POINTS
        times = [minutes for _, minutes in points]
        assert times == sorted(times, reverse=True) and times[-1] == 3 + 2 * index
    picture = tmp_path / "explain.png"
    result = CliRunner().invoke(
        main, ["explain", "enforcement-gate/gate-reliability", "--plot", str(picture)]
    )
    assert result.exit_code == 0, result.output
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_explain_at_the_declared_traffic(tmp_path: Path) -> None:
    text = SERVICE_SPEC.replace(
        "burn_factor: 14.4",
        "burn_factor: 14.4\n      low_traffic: {min_events: 600, expected_events_per_second: 0.1}",
    )
    specs = _specs(tmp_path, text)
    from compiler.review import text as rendering

    shown = rendering.explanation(explain.explain(specs, "checkout/availability"))
    assert "a group: 0.1 events/s expected, 259 bad events per 30d at that rate" in shown
    assert "CheckoutBurnFast 1h/5m at the expected traffic:" in shown
    assert "a group (0.1/s): NOT met: a full outage would not page" in shown

"""The enforcement gate's generated rules on synthetic series, evaluated by promtool.

Expected firing times come from the documented math (compiler.burn_rate); promtool, i.e.
Prometheus's own rule engine, decides whether the rules agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import burn_rate, pipeline, writer
from compiler.durations import Duration
from compiler.model.service import SpecSet
from compiler.model.slo import SLO, Tier
from compiler.synthetic.series import Point, counter, promtool_input
from compiler.targets.prometheus import rule_files, slo_rules
from compiler.targets.rule_tests.promtool_files import expected_alert as firing
from tests.support.paths import GENERATED
from tests.support.promtool_run import run_promtool

RULES = GENERATED / "prometheus" / "enforcement-gate.rules.yml"
INTERVAL = Duration.parse("1m")
BASE = Duration.parse("5m")
DECISIONS = "valdrics_ops_enforcement_gate_decisions_total"
FAILURES = "valdrics_ops_enforcement_gate_failures_total"
FAST = "ValdricsEnforcementErrorBudgetBurnFast"
SLOW = "ValdricsEnforcementErrorBudgetBurnSlow"
BUSY = 100.0  # decisions per second; production runs 20-200
START = 60  # minute an incident starts, after an hour of healthy history
LONG_START = 360  # the 6h tier's prediction needs six hours of history before the burn


def _rule(specs: SpecSet, slo: SLO, tier: Tier) -> dict[str, Any]:
    spec = next(s for s in specs.services if s.service.name == slo.service)
    return slo_rules.alert_rule(spec.service, slo, tier, slo_rules.SloSeries(slo))


def _traffic(
    tenant: str, rate: float, error_ratios: list[Point], minutes: int
) -> list[dict[str, str]]:
    """Decisions at ``rate`` per second, failing at each (start minute, ratio) in turn."""
    labels = {"tenant": tenant, "source": "api"}
    failures = [(start, rate * (ratio or 0.0)) for start, ratio in error_ratios]
    return promtool_input(
        [
            counter(DECISIONS, {**labels, "decision": "ALLOW"}, [(0, rate)]),
            counter(FAILURES, {**labels, "reason": "timeout"}, failures),
        ],
        minutes,
    )


def _check(alert: str, minute: float, expected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": f"{int(minute)}m", "alertname": alert, "exp_alerts": expected}


def _fires_after(slo: SLO, tier: Tier, error_ratio: float) -> float:
    """Minutes from a step to ``error_ratio`` until the tier fires, by the documented math."""
    base, _, _ = slo_rules.windows(slo)
    threshold = float(slo.threshold(tier))
    seconds = burn_rate.first_firing(
        error_ratio, threshold, tier.long_window, tier.short_window, base, INTERVAL
    )
    assert seconds is not None
    return seconds / 60 + (tier.for_.minutes if tier.for_ else 0)


def _still_firing_after_recovery(slo: SLO, tier: Tier, error_ratio: float) -> float:
    threshold = float(slo.threshold(tier))
    seconds = burn_rate.last_firing_after_recovery(
        error_ratio, threshold, tier.short_window, BASE, INTERVAL
    )
    return seconds / 60


@pytest.fixture(scope="module")
def gate(reference_specs: SpecSet) -> SLO:
    return next(s for s in reference_specs.slos if s.name == "gate-reliability")


def test_rules_are_current(reference_specs: SpecSet) -> None:
    """The scenarios below run against the checked-in rules; those must match the specs."""
    spec = next(s for s in reference_specs.services if s.service.name == "enforcement-gate")
    assert yaml.safe_load(RULES.read_text()) == rule_files.service_rules(spec)


def test_enforcement_gate_behaviour(
    reference_specs: SpecSet, gate: SLO, tmp_path: Path, promtool_path: str
) -> None:
    fast = next(t for t in gate.tiers if t.alert == FAST)
    slow = next(t for t in gate.tiers if t.alert == SLOW)
    t1 = {"service": "enforcement-gate", "slo": "gate-reliability", "tenant": "t1"}
    fast_alert = firing(_rule(reference_specs, gate, fast), t1)
    slow_alert = firing(_rule(reference_specs, gate, slow), t1)

    outage = _fires_after(gate, fast, 1.0)
    assert outage <= 5, f"a total outage must page within 5 minutes; the math says {outage}"
    fast_at_2pct, slow_at_2pct = _fires_after(gate, fast, 0.02), _fires_after(gate, slow, 0.02)
    assert fast_at_2pct < slow_at_2pct  # pages first, then warns
    recover = LONG_START + 240
    clear_fast = _still_firing_after_recovery(gate, fast, 0.02)
    clear_slow = _still_firing_after_recovery(gate, slow, 0.02)
    # Cleared at the next evaluation, within the short window (no `for` on these tiers).
    assert clear_fast + 1 <= fast.short_window.minutes
    assert clear_slow + 1 <= slow.short_window.minutes

    groups = [
        {
            "name": "total outage pages within 5 minutes",
            "interval": "1m",
            "input_series": _traffic("t1", BUSY, [(0, 0), (START, 1.0)], START + 30),
            "alert_rule_test": [
                _check(FAST, START + outage - 1, []),
                _check(FAST, START + outage, [fast_alert]),
                _check(FAST, START + 5, [fast_alert]),
            ],
        },
        {
            "name": "2% errors (20x) page, then warn, at the predicted times, then clear",
            "interval": "1m",
            "input_series": _traffic(
                "t1", BUSY, [(0, 0), (LONG_START, 0.02), (recover, 0)], recover + 60
            ),
            "alert_rule_test": [
                _check(FAST, LONG_START + fast_at_2pct - 1, []),
                _check(FAST, LONG_START + fast_at_2pct, [fast_alert]),
                _check(SLOW, LONG_START + slow_at_2pct - 1, []),
                _check(SLOW, LONG_START + slow_at_2pct, [slow_alert]),
                _check(FAST, recover + clear_fast, [fast_alert]),
                _check(FAST, recover + clear_fast + 1, []),
                _check(SLOW, recover + clear_slow, [slow_alert]),
                _check(SLOW, recover + clear_slow + 1, []),
            ],
        },
        {
            "name": "0.05% errors (half the budget rate) stay silent for 8 hours",
            "interval": "1m",
            "input_series": _traffic("t1", BUSY, [(0, 0.0005)], 480),
            "alert_rule_test": [
                _check(alert, minute, []) for minute in range(30, 481, 30) for alert in (FAST, SLOW)
            ],
        },
        {
            "name": "a quiet tenant with a few decisions an hour and one failure stays silent",
            "interval": "1m",
            "input_series": promtool_input(
                [
                    counter(
                        DECISIONS,
                        {"tenant": "quiet", "source": "api", "decision": "ALLOW"},
                        [(0, 3 / 3600)],
                    ),
                    counter(
                        FAILURES,
                        {"tenant": "quiet", "source": "api", "reason": "error"},
                        [(0, 0), (100, 1 / 60), (101, 0)],  # one failure in minute 100
                    ),
                ],
                480,
            ),
            "alert_rule_test": [
                _check(alert, minute, [])
                for minute in (*range(101, 140, 2), *range(150, 481, 30))
                for alert in (FAST, SLOW)
            ],
        },
    ]
    run_promtool(tmp_path, RULES, groups)


LATENCY_SPEC = """
apiVersion: slo-compiler/v1
kind: Service
service: {name: latency-check, owner: team-test}
metrics:
  gate_duration_seconds: {type: histogram, labels: [tenant], buckets: [0.1, 0.25, 1]}
slos:
  - name: fast-decisions
    objective: 99
    sli: {latency: {histogram: gate_duration_seconds, threshold: 0.25}}
    alerting:
      tiers:
        - {alert: SlowDecisions, severity: critical, long_window: 1h, short_window: 5m,
           burn_factor: 14.4}
"""


def test_latency_sli_pages_on_slow_decisions(tmp_path: Path, promtool_path: str) -> None:
    """Bad events of a latency SLI are the observations above the threshold's bucket."""
    spec_file = tmp_path / "latency.yaml"
    spec_file.write_text(LATENCY_SPEC)
    result = pipeline.compile_specs([spec_file])
    assert result.ok, result.diagnostics
    spec = result.specs.services[0]
    rules = tmp_path / "latency.rules.yml"
    rules.write_text(writer.to_yaml(rule_files.service_rules(spec)))
    slo = spec.slos[0]
    page = slo.tiers[0]
    expected = firing(
        slo_rules.alert_rule(spec.service, slo, page, slo_rules.SloSeries(slo)),
        {"service": "latency-check", "slo": "fast-decisions"},
    )
    slow_share = 0.2  # 20% of decisions slower than 250 ms: 20x the 1% budget
    fires = _fires_after(slo, page, slow_share)
    histogram = "gate_duration_seconds"
    groups = [
        {
            "name": "20% of decisions slower than 250 ms pages",
            "interval": "1m",
            "input_series": promtool_input(
                [
                    counter(f"{histogram}_count", {"tenant": "t1"}, [(0, BUSY)]),
                    # The threshold's bucket counts the fast observations only.
                    counter(
                        f"{histogram}_bucket",
                        {"tenant": "t1", "le": "0.25"},
                        [(0, BUSY), (START, BUSY * (1 - slow_share))],
                    ),
                    counter(f"{histogram}_bucket", {"tenant": "t1", "le": "1"}, [(0, BUSY)]),
                ],
                240,
            ),
            "alert_rule_test": [
                _check(page.alert, START + fires - 1, []),
                _check(page.alert, START + fires, [expected]),
            ],
        }
    ]
    run_promtool(tmp_path, rules, groups)

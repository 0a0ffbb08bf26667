"""The collector goes down in the middle of an incident (runbook 000, scenario 3).

Data through the collector stops at once for every service; the collector's own `up` turns
0. What must happen, evaluated by promtool on the generated rules of four services:

- TelemetryIngestDown fires "on No Data", within the 5 minutes of its window;
- no SLO alert starts firing because data stopped: the gate's slow tier, on its way to fire
  at the burn in progress, never does, and the healthy tenant and the API stay silent;
- the page that was firing ends within the base window (its short window needs data);
- when data returns (the application kept counting: counters jump), nothing fires for the
  gap: no burn from the jump, no "new" policy violation for a series that was only hidden.

While TelemetryIngestDown fires, Alertmanager holds back the alerts labelled
telemetry="otel-collector" (tests/unit/test_alertmanager.py checks that on a real Alertmanager).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compiler import burn_rate, conventions
from compiler.durations import Duration
from compiler.model.service import SpecSet
from compiler.model.signal import NoData
from compiler.model.slo import SLO
from compiler.synthetic.series import SyntheticSeries, counter, gauge, promtool_input
from compiler.targets.prometheus import rule_files, signal_rules, slo_rules
from compiler.targets.rule_tests.promtool_files import expected_alert as firing
from tests.support.paths import GENERATED
from tests.support.promtool_run import run_promtool

BURN = 360  # the gate's tenant t1 starts failing 2% of decisions (after 6h of history)
STOP = 420  # the collector goes down: nothing through it arrives any more
RESUME = 480  # the collector is back
END = 600
SERVICES = ("enforcement-gate", "telemetry", "control-plane", "agent-api")
FAST = "ValdricsEnforcementErrorBudgetBurnFast"
SLOW = "ValdricsEnforcementErrorBudgetBurnSlow"
DOWN = "TelemetryIngestDown"
VIOLATION = "SecurityPolicyViolation"


def _series() -> list[SyntheticSeries]:
    gate = {"source": "api"}
    decisions = "valdrics_ops_enforcement_gate_decisions_total"
    failures = "valdrics_ops_enforcement_gate_failures_total"
    api = "http_server_request_duration_seconds"
    return [
        counter(decisions, {**gate, "tenant": "t1", "decision": "ALLOW"}, _cut([(0, 100.0)])),
        counter(
            failures,
            {**gate, "tenant": "t1", "reason": "timeout"},
            [(0, 0.0), (BURN, 2.0), (STOP, None), (RESUME, 0.0)],
        ),
        counter(decisions, {**gate, "tenant": "t2", "decision": "ALLOW"}, _cut([(0, 100.0)])),
        # The API answers 50 requests per second, all fast, none failing.
        counter(f"{api}_count", {"http_response_status_code": "200"}, _cut([(0, 50.0)])),
        counter(
            f"{api}_bucket", {"http_response_status_code": "200", "le": "0.5"}, _cut([(0, 50.0)])
        ),
        counter(
            f"{api}_bucket", {"http_response_status_code": "200", "le": "+Inf"}, _cut([(0, 50.0)])
        ),
        # An old policy violation: its series is hidden during the outage, then back unchanged.
        gauge(
            "policy_violations_total",
            {"tenant": "t1", "agent": "a1", "policy": "rbac/forbidden_access"},
            _cut([(0, 2.0)]),
        ),
        # The collector itself: scraped directly, so `up` says 0 rather than nothing.
        gauge("up", {"job": "otel-collector"}, [(0, 1.0), (STOP, 0.0), (RESUME, 1.0)]),
        counter(
            "otelcol_receiver_accepted_metric_points_total",
            {"receiver": "otlp", "transport": "grpc"},
            _cut([(0, 1000.0)]),
        ),
    ]


def _cut(shape: list[tuple[float, float | None]]) -> list[tuple[float, float | None]]:
    """No samples while the collector is down; afterwards the source goes on as before."""
    return [*shape, (STOP, None), (RESUME, shape[-1][1])]


def _alerts(specs: SpecSet) -> dict[str, dict[str, Any]]:
    """Every alerting rule of the four services, by alert name."""
    rules = {}
    for spec in specs.services:
        if spec.service.name not in SERVICES:
            continue
        for group in rule_files.service_rules(spec)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    rules[rule["alert"]] = rule
    return rules


def _check(alert: str, minute: int, expected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": expected}


def _gate(specs: SpecSet) -> SLO:
    return next(s for s in specs.slos if s.name == "gate-reliability")


def test_collector_outage_during_an_incident(
    reference_specs: SpecSet, tmp_path: Path, promtool_path: str
) -> None:
    gate = _gate(reference_specs)
    slow = next(t for t in gate.tiers if t.alert == SLOW)
    base, _, _ = slo_rules.windows(gate)
    interval = Duration.parse("1m")
    would_fire = burn_rate.first_firing(
        0.02, float(gate.threshold(slow)), slow.long_window, slow.short_window, base, interval
    )
    assert would_fire is not None
    # Without the outage the slow tier would fire within the checked span: its silence
    # below is the outage's doing, not the burn's.
    assert STOP < BURN + would_fire / 60 < END

    rules = _alerts(reference_specs)
    t1 = {conventions.SERVICE_LABEL: "enforcement-gate", conventions.SLO_LABEL: gate.name}
    page = firing(rules[FAST], {**t1, "tenant": "t1"})
    down = firing(rules[DOWN], {})
    # A service's own missing-data signals fire too (nothing of it arrives); Alertmanager
    # holds them back while the collector is reported down (test_alertmanager.py).
    missing = {
        signal.name
        for signal in reference_specs.signals
        if isinstance(signal.condition, NoData) and signal.name != DOWN
    }
    quiet = [name for name in rules if name not in (FAST, DOWN, *missing)]
    everything_silent = [
        _check(name, minute, []) for minute in range(STOP, END + 1, 10) for name in quiet
    ]
    groups = [
        {
            "name": "the collector goes down during a burn, then comes back",
            "interval": "1m",
            "input_series": promtool_input(_series(), END),
            "alert_rule_test": [
                _check(FAST, STOP - 1, [page]),
                # The page ends once its short (base) window holds fewer than two samples.
                _check(FAST, STOP + base.seconds // 60 - 2, [page]),
                _check(FAST, STOP + base.seconds // 60 - 1, []),
                *[_check(FAST, minute, []) for minute in range(STOP + 10, END + 1, 10)],
                # No data: the collector's `up` stays 1 until STOP, its counter grows until
                # then; a single sample in the window shows no growth, so it fires a minute
                # before the window is empty.
                _check(DOWN, STOP + 3, []),
                _check(DOWN, STOP + 4, [down]),
                _check(DOWN, RESUME, [down]),
                _check(DOWN, RESUME + 1, []),
                *everything_silent,
                # Back after the gap: the old violation series is not a new violation.
                *[_check(VIOLATION, minute, []) for minute in range(RESUME, RESUME + 10)],
            ],
        }
    ]
    rule_files = [GENERATED / "prometheus" / f"{name}.rules.yml" for name in SERVICES]
    run_promtool(tmp_path, rule_files, groups)


def test_every_alert_through_the_collector_is_labelled(reference_specs: SpecSet) -> None:
    """The inhibition matches on the telemetry label: every alert fed through the collector
    carries it, and the alerts that must stay live while it is down do not."""
    direct = {"TelemetryIngestDown", "ControlPlaneHealthCheckFailing"}
    for spec in reference_specs.services:
        for signal in spec.signals:
            labels = signal_rules.alert_labels(signal)
            expected = None if signal.name in direct else "otel-collector"
            assert labels.get(conventions.TELEMETRY_LABEL) == expected, signal.name
        for slo in spec.slos:
            for tier in slo.tiers:
                rule = slo_rules.alert_rule(spec.service, slo, tier, slo_rules.SloSeries(slo))
                assert rule["labels"][conventions.TELEMETRY_LABEL] == "otel-collector"

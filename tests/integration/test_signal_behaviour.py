"""Signals on synthetic series, evaluated by promtool: the generated tests, and what they miss.

The generated tests (signal groups of generated/tests/*.test.yml and the golden ones of
tests/specs/signals.yaml, which has every kind and option) run in one promtool call. They
must also fail when a rule is wrong: each mutation below breaks one rule and promtool must
report that alert. Raw PromQL signals get no generated tests, so theirs are written here.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from compiler import pipeline
from compiler.model.service import SpecSet
from compiler.model.signal import RawPromQL
from compiler.synthetic import promtool
from compiler.synthetic.series import counter, gauge, promtool_input
from compiler.targets.prometheus import signal_rules
from compiler.targets.rule_tests.promtool_files import expected_alert as firing
from compiler.targets.rule_tests.signal_scenarios import scenarios
from tests.support.paths import GENERATED, ROOT
from tests.support.promtool_run import run_promtool

GOLDEN = ROOT / "tests" / "golden" / "signals"
FIXTURE = ROOT / "tests" / "specs" / "signals.yaml"


def test_every_golden_signal_test_passes(promtool_path: str) -> None:
    """The fixture's signal tests (slos/'s run with every generated test: test_rule_tests)."""
    files = sorted(GOLDEN.glob("tests/*.test.yml"))
    assert len(files) >= 2, files
    result = promtool.test_rules(files)
    assert result.ok, result.output


def test_every_signal_but_raw_promql_has_firing_and_silent_checks(
    reference_specs: SpecSet,
) -> None:
    fixture = pipeline.compile_specs([FIXTURE]).specs
    for signal in (*reference_specs.signals, *fixture.signals):
        if isinstance(signal.condition, RawPromQL):
            continue
        found = scenarios(signal)
        checks = [firing for scenario in found for _, firing in scenario.checks()]
        assert any(firing for firing in checks), f"{signal.name} never checked firing"
        assert any(not firing for firing in checks), f"{signal.name} never checked silent"
        if signal.group_by:
            # Per label set isolation: the quiet case is evaluated beside the firing one.
            (scenario,) = found
            names = {case.name for case in scenario.cases}
            assert {"quiet", "unchanged", "flat"} & names, f"{signal.name}: {names}"


# Each mutation breaks one rule of the fixture; its generated tests must catch it. A rule
# field ("for", "keep_firing_for") is set to the new value, or dropped for None; otherwise
# the text is replaced in the expression.
MUTATIONS: list[tuple[str, str, str | None]] = [
    ("DriftGrowing", "> 50", "> 500"),  # threshold
    ("DriftGrowing", "keep_firing_for", None),  # clear_after dropped
    ("DriftGrowing", "for", "10m"),
    ("ErrorRatioHigh", ">= 100", ">= 0"),  # low-traffic guard dropped
    ("SuccessRatioLow", "< 0.95", "> 0.95"),  # direction
    ("QueueDeep", "for", None),
    ("SlowRequests", "histogram_quantile(0.95", "histogram_quantile(0.5"),  # quantile
    ("RequestSpike", "> 5", "> 0"),  # floor dropped
    ("QueueDeeperThanLastWeek", "> 4 *", "> 40 *"),  # factor
    ("JobsAging", "> 300", "> 3000"),  # trend's level
    ("TemperatureRising", "* 3600 > 2", "* 3600 > 200"),  # trend's slope
    # New events: without the lookback a series returning after a gap looks new; without
    # the second branch the first sample of a new series is missed.
    (
        "PolicyViolated",
        "present_over_time(violations_total[6h] offset 10m)",
        "violations_total offset 10m",
    ),
    ("AnyViolation", "\nor\n", "\nand\n"),
    ("CollectorDown", "[5m]", "[10m]"),  # no_data window
    ("HeartbeatMissing", "[10m]", "[2m]"),
]


def _mutated(rules: dict[str, Any], alert: str, old: str, new: str | None) -> dict[str, Any]:
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") != alert:
                continue
            if old in ("for", "keep_firing_for"):
                assert old in rule, (alert, old)
                if new is None:
                    del rule[old]
                else:
                    rule[old] = new
                return rules
            assert new is not None and old in rule["expr"], (alert, old, rule["expr"])
            rule["expr"] = rule["expr"].replace(old, new)
            return rules
    raise AssertionError(f"no rule {alert}")


def test_generated_tests_catch_broken_rules(tmp_path: Path, promtool_path: str) -> None:
    rules_path = GOLDEN / "prometheus" / "signal-sink.rules.yml"
    tests = [yaml.safe_load(f.read_text()) for f in sorted(GOLDEN.glob("tests/*.test.yml"))]
    files = []
    for index, (alert, old, new) in enumerate(MUTATIONS):
        directory = tmp_path / str(index)
        (directory / "prometheus").mkdir(parents=True)
        (directory / "tests").mkdir()
        rules = _mutated(yaml.safe_load(rules_path.read_text()), alert, old, new)
        (directory / "prometheus" / rules_path.name).write_text(yaml.safe_dump(rules))
        groups = [g for t in tests for g in t["tests"] if g["name"].startswith(f"signal {alert}:")]
        interval = next(
            t["evaluation_interval"] for t in tests if any(g in t["tests"] for g in groups)
        )
        document = {
            "rule_files": [f"../prometheus/{rules_path.name}"],
            "evaluation_interval": interval,
            "tests": groups,
        }
        test_file = directory / "tests" / "mutated.test.yml"
        test_file.write_text(yaml.safe_dump(document, sort_keys=False))
        files.append(test_file)
    for (alert, old, new), test_file in zip(MUTATIONS, files, strict=True):
        result = promtool.test_rules([test_file])
        assert not result.ok, f"{alert} with {old!r} -> {new!r} still passes its tests"
        assert f"alertname: {alert}," in result.output


def test_rules_of_signals_pass_promtool_check(tmp_path: Path, promtool_path: str) -> None:
    result = promtool.check_rules(sorted(GOLDEN.glob("prometheus/*.yml")))
    assert result.ok, result.output


# --- what the generated tests cannot cover ---------------------------------------------------

RULES = GENERATED / "prometheus"


def _alert(specs: SpecSet, name: str, labels: dict[str, str]) -> dict[str, Any]:
    """The exact alert promtool must report for a signal with these expression labels."""
    spec = next(s for s in specs.services if any(g.name == name for g in s.signals))
    signal = next(g for g in spec.signals if g.name == name)
    return firing(signal_rules.alert_rule(spec.service, signal), labels)


def _check(alert: str, minute: int, expected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": f"{minute}m", "alertname": alert, "exp_alerts": expected}


def test_abuse_spike_needs_five_tenants(
    reference_specs: SpecSet, tmp_path: Path, promtool_path: str
) -> None:
    """Fair-use denials for four tenants are a few customers; for five, an abuse spike."""
    denials = "valdrics_ops_llm_fair_use_denials_total"
    alert = "ValdricsEnforcementAbuseSpike"
    series = [counter(denials, {"tenant": f"t{i}"}, [(0, 0.0), (10 + i, 0.5)]) for i in range(1, 6)]
    groups = [
        {
            "name": "denials spread over five tenants",
            "interval": "1m",
            "input_series": promtool_input(series, 30),
            "alert_rule_test": [
                _check(alert, 15, []),  # four tenants so far
                _check(alert, 16, [_alert(reference_specs, alert, {})]),
            ],
        }
    ]
    run_promtool(tmp_path, RULES / "enforcement-gate.rules.yml", groups)


def test_kill_switch_stuck_until_restored(
    reference_specs: SpecSet, tmp_path: Path, promtool_path: str
) -> None:
    """A tool disabled for 30 minutes without a restore alerts; one restored does not."""
    events = "kill_switch_events_total"
    alert = "KillSwitchStuckDisabled"
    stuck = {"tenant": "t1", "tool": "search"}
    brief = {"tenant": "t2", "tool": "email"}
    series = [
        # t1: disabled at minute 5 (the series first appears then), never restored.
        gauge(events, {**stuck, "event": "disabled"}, [(0, None), (5, 1.0)]),
        # t2: disabled at 5, restored at 20.
        gauge(events, {**brief, "event": "disabled"}, [(0, None), (5, 1.0)]),
        gauge(events, {**brief, "event": "restored"}, [(0, None), (20, 1.0)]),
    ]
    groups = [
        {
            "name": "stuck for 30 minutes",
            "interval": "1m",
            "input_series": promtool_input(series, 60),
            "alert_rule_test": [
                _check(alert, 34, []),
                _check(alert, 35, [_alert(reference_specs, alert, stuck)]),
                _check(alert, 59, [_alert(reference_specs, alert, stuck)]),
            ],
        }
    ]
    run_promtool(tmp_path, RULES / "control-plane.rules.yml", groups)


def test_a_rate_below_its_threshold_ignores_data_that_stopped(
    tmp_path: Path, promtool_path: str
) -> None:
    """After a series ends, its rate over the window decays towards 0 as samples age out;
    "traffic dropped" must not fire for that: the series must be present now."""
    rules = tmp_path / "signal-sink.rules.yml"
    shutil.copy(GOLDEN / "prometheus" / rules.name, rules)
    alert = "TrafficDropped"
    # 20 requests per second, then the target goes away (Prometheus marks the series stale).
    gone = {"series": 'requests_total{tenant="gone", code="200"}', "values": "0+1200x30 stale"}
    decayed = 'sum by (tenant) (rate(requests_total{code!~"5.."}[10m])) < bool 10'
    groups = [
        {
            "name": "a series that ended is not a traffic drop",
            "interval": "1m",
            "input_series": [gone],
            "alert_rule_test": [_check(alert, minute, []) for minute in range(31, 41)],
            # Without the presence guard it would fire: the decayed rate is below 10 here.
            "promql_expr_test": [
                {
                    "expr": decayed,
                    "eval_time": f"{minute}m",
                    "exp_samples": [{"labels": '{tenant="gone"}', "value": 1}],
                }
                for minute in (36, 37, 38)
            ],
        }
    ]
    run_promtool(tmp_path, rules, groups)


# The alerts platform.md names (exact) and those chosen for what it describes.
PLATFORM_ALERTS = {
    "enforcement-gate": {
        "ValdricsEnforcementReservationDriftSurge",
        "ValdricsEnforcementAbuseSpike",
        # Runbook 002's surge, skew and DENY spike, and the SLIs' data missing (issue 16).
        "ValdricsEnforcementDecisionSurge",
        "ValdricsEnforcementDenySkew",
        "ValdricsEnforcementDenyReasonSpike",
        "EnforcementGateSliDataMissing",
    },
    "control-plane": {
        "SecurityPolicyViolation",
        "RateLimitHit",
        "HighRequestRate",
        "QuotaExceeded",
        "KillSwitchStuckDisabled",
        "ControlPlaneHealthCheckFailing",
        # From the control plane's log records (issue 16, docs/otel.md).
        "KillSwitchEngaged",
        "KillSwitchRestored",
    },
    "telemetry": {
        "TelemetryIngestDown",
        # The collector's data-loss signals (issue 8, docs/otel.md).
        "TelemetryExportFailing",
        "TelemetryEnqueueFailing",
        "TelemetryExportQueueNearlyFull",
        "TelemetryPointsRefused",
        # Logs and traces delivery (issue 16).
        "TelemetryLogExportFailing",
        "TelemetrySpanExportFailing",
        "TelemetryLogsOrSpansRefused",
    },
    "agent-api": {
        "ApiHighErrorRate",
        "ApiLatencyAboveBaseline",
        "ApiSliDataMissing",
        "QueueBacklogHigh",
        "QueueOldestJobAgeGrowing",
        "PostgresReplicationLagHigh",
        "ModelQualityRegression",
        # Runbook 004 section 2.5, from the API's log records (issue 16).
        "TenantIsolationViolation",
    },
    "llm-providers": {"LlmProviderErrorRateHigh", "LlmProviderLatencyHigh", "TokenSpendRunaway"},
}


def test_the_reference_platform_has_every_alert_of_platform_md(reference_specs: SpecSet) -> None:
    found = {
        spec.service.name: {signal.name for signal in spec.signals}
        for spec in reference_specs.services
    }
    assert found == PLATFORM_ALERTS
    assert reference_specs.routing is not None

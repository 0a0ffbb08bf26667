"""promtool unit tests for every SLO, generated from the same model as its rules.

Per service, ``tests/<service>.test.yml`` holds the scenarios checked every minute and, when
a tier's long window is longer than 6h, ``tests/<service>.long.test.yml`` those checked
every 5 minutes (docs/testing.md). Each test group is named ``slo <name>: <what it shows>``;
``slo test`` reports per SLO from that prefix. Expected alerts list every alert of the
name that fires at the time, with exact labels and annotations, as promtool compares them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from compiler import conventions
from compiler.burn_rate import format_number
from compiler.durations import Duration
from compiler.model import SLO, ServiceSpec, SpecSet
from compiler.outputs import OutputFile
from compiler.promql import quote
from compiler.series_synthesis import EventSeries, SynthesisError, event_series, group_label_values
from compiler.slo_timeline import Schedule, SloMath
from compiler.synthetic import SyntheticSeries, counter, promtool_input
from compiler.targets import prometheus
from compiler.test_scenarios import (
    LONG_INTERVAL,
    PRECISE_INTERVAL,
    AlertCheck,
    RecordCheck,
    Scenario,
    plan,
)

SUBJECT_SEPARATOR = ": "
_LABEL_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def test_files(specs: SpecSet) -> list[OutputFile]:
    """The rule tests of every service: a precise file, and a long one when needed."""
    files = []
    for spec in specs.services:
        groups = service_test_groups(spec)
        skipped = [f"slo {slo.name}: {reason}" for slo, reason in untestable(spec)]
        for interval, path in (
            (PRECISE_INTERVAL, conventions.tests_path(spec.service.name)),
            (LONG_INTERVAL, conventions.long_tests_path(spec.service.name)),
        ):
            tests = groups.get(interval, [])
            if not tests:
                continue
            header = prometheus.generated_header(spec.source) + (
                "\nRun: `slo test`, or `promtool test rules` on this file."
            )
            if skipped:
                header += "\nNo generated tests for: " + "; ".join(skipped)
            files.append(
                OutputFile(
                    path,
                    {
                        "rule_files": [f"../{conventions.rules_path(spec.service.name)}"],
                        "evaluation_interval": f"{interval}m",
                        "tests": tests,
                    },
                    header=header,
                )
            )
    return files


def untestable(spec: ServiceSpec) -> list[tuple[SLO, str]]:
    """SLOs of a service whose series cannot be synthesized, and why."""
    found = []
    for slo in spec.slos:
        reason = _untestable_reason(slo)
        if reason:
            found.append((slo, reason))
    return found


def _untestable_reason(slo: SLO) -> str | None:
    windows = [w for t in slo.tiers for w in (t.long_window, t.short_window)]
    if any(w.seconds % 60 for w in windows):
        return "windows must be whole minutes (input samples are a minute apart)"
    try:
        event_series(slo)
    except SynthesisError as exc:
        return str(exc)
    return None


def service_test_groups(spec: ServiceSpec) -> dict[int, list[dict[str, Any]]]:
    """promtool test groups per evaluation interval (minutes), SLO by SLO."""
    groups: dict[int, list[dict[str, Any]]] = {}
    skipped = {slo.name for slo, _ in untestable(spec)}
    for slo in spec.slos:
        if slo.name in skipped:
            continue
        for scenario in slo_scenarios(slo):
            groups.setdefault(scenario.interval, []).append(test_group(spec, slo, scenario))
    return groups


def slo_scenarios(slo: SLO) -> tuple[Scenario, ...]:
    """The planned scenarios of one SLO."""
    lanes = len(group_label_values(slo, 2))
    names = tuple(_tier_name(slo, i) for i in range(len(slo.tiers)))
    return plan(SloMath.of(slo), names, lanes).scenarios


def _tier_name(slo: SLO, index: int) -> str:
    tier = slo.tiers[index]
    factor = format_number(float(f"{float(tier.burn_factor):.4g}"))
    return f"tier {tier.long_window}/{tier.short_window} {factor}x ({tier.severity})"


def subject(slo: SLO) -> str:
    """The prefix of an SLO's test group names, by which `slo test` reports."""
    return f"slo {slo.name}"


def test_group(spec: ServiceSpec, slo: SLO, scenario: Scenario) -> dict[str, Any]:
    """One promtool test group for a scenario."""
    lane_labels = group_label_values(slo, len(scenario.lanes))
    shown = [", ".join(f"{k}={quote(v)}" for k, v in labels.items()) for labels in lane_labels]
    title = scenario.title.format(*shown, *([""] * 2))
    group: dict[str, Any] = {
        "name": f"{subject(slo)}{SUBJECT_SEPARATOR}{title}",
        "interval": "1m",
        "input_series": promtool_input(
            input_series(slo, scenario.lanes, lane_labels), scenario.end
        ),
    }
    if scenario.alert_checks:
        group["alert_rule_test"] = [
            check
            for alert_check in scenario.alert_checks
            for check in _alert_checks(spec, slo, alert_check, lane_labels)
        ]
    if scenario.record_checks:
        group["promql_expr_test"] = [
            test
            for record_check in scenario.record_checks
            for test in _record_tests(slo, record_check, lane_labels)
        ]
    return group


def input_series(
    slo: SLO, lanes: Sequence[Schedule], lane_labels: Sequence[Mapping[str, str]]
) -> list[SyntheticSeries]:
    """The raw counters of every lane, each following its lane's schedule."""
    series = []
    kinds = event_series(slo)
    for schedule, labels in zip(lanes, lane_labels, strict=True):
        for kind in kinds:
            shape = [(phase.start, _per_second(kind, phase.total, phase.bad)) for phase in schedule]
            series.append(counter(kind.metric, {**dict(kind.labels), **labels}, shape))
    return series


def _per_second(kind: EventSeries, total: Fraction, bad: Fraction) -> float:
    count = {"total": total, "good": total - bad, "bad": bad, "none": Fraction(0)}[kind.share]
    return float(count / 60)


def _alert_checks(
    spec: ServiceSpec, slo: SLO, check: AlertCheck, lane_labels: Sequence[Mapping[str, str]]
) -> list[dict[str, Any]]:
    names = list(dict.fromkeys(tier.alert for tier in slo.tiers))
    series = prometheus.SloSeries(slo)
    result = []
    for name in names:
        expected = [
            expected_alert(
                prometheus.alert_rule(spec.service, slo, slo.tiers[tier], series),
                {**series.labels(), **lane_labels[lane]},
            )
            for lane, tier in sorted(check.firing)
            if slo.tiers[tier].alert == name
        ]
        result.append(
            {"eval_time": _duration(check.minute), "alertname": name, "exp_alerts": expected}
        )
    return result


def expected_alert(rule: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """An alert as promtool expects it: the series' labels with the rule's (empty ones
    removed), and annotations with ``{{ $labels.x }}`` expanded as Prometheus does."""
    rule_labels = {k: v for k, v in rule.get("labels", {}).items() if v != ""}
    all_labels = {**labels, **rule_labels}
    all_labels = {k: v for k, v in all_labels.items() if v != ""}
    return {
        "exp_labels": all_labels,
        "exp_annotations": {
            k: expand(v, all_labels) for k, v in rule.get("annotations", {}).items()
        },
    }


def expand(text: str, labels: Mapping[str, str]) -> str:
    """Expand ``{{ $labels.x }}`` the way Prometheus does when the alert fires."""
    return _LABEL_TEMPLATE.sub(lambda m: labels.get(m.group(1), ""), text)


def _record_tests(
    slo: SLO, check: RecordCheck, lane_labels: Sequence[Mapping[str, str]]
) -> list[dict[str, Any]]:
    series = prometheus.SloSeries(slo)
    base, _, recorded = prometheus.windows(slo)
    at = _duration(check.minute)
    if check.kind == "events":
        tests = []
        for metric, position in ((conventions.EVENTS_TOTAL, 0), (conventions.EVENTS_BAD, 1)):
            # Events per minute are whole numbers; rounding absorbs float noise in rate().
            tests.append(
                {
                    "expr": f"round({series(metric, base)} * 60)",
                    "eval_time": at,
                    "exp_samples": [
                        {
                            "labels": _labels({**series.labels(base), **labels}),
                            "value": per_lane[position],
                        }
                        for per_lane, labels in zip(check.per_lane, lane_labels, strict=True)
                    ],
                }
            )
        return tests
    windows = (*recorded, slo.period)
    return [
        {
            "expr": series(conventions.ERROR_RATIO),
            "eval_time": at,
            "exp_samples": [
                {
                    "labels": _labels({**series.labels(window), **labels}, conventions.ERROR_RATIO),
                    "value": 0,
                }
                for labels in lane_labels[:1]
                for window in windows
            ],
        },
        {
            "expr": series(conventions.BUDGET_REMAINING),
            "eval_time": at,
            "exp_samples": [
                {
                    "labels": _labels(
                        {**series.labels(slo.period), **labels}, conventions.BUDGET_REMAINING
                    ),
                    "value": 1,
                }
                for labels in lane_labels[:1]
            ],
        },
    ]


def _labels(labels: Mapping[str, str], metric: str = "") -> str:
    inner = ", ".join(f"{k}={quote(v)}" for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


def _duration(minutes: int) -> str:
    return str(Duration(minutes * 60)) if minutes else "0s"

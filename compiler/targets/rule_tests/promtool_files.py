"""promtool unit tests for every SLO, generated from the same model as its rules.

Per service, ``tests/<service>.test.yml`` holds the scenarios checked every minute and, when
one needs a longer interval, ``tests/<service>.every-5m.test.yml`` those checked every 5
minutes (docs/testing.md). SLOs whose rules have the same shape (``shapes``) share one full
scenario set, ``tests/shapes/<shape>.test.yml``, run against the rules of the first SLO of
that shape; each SLO keeps its own instance test (a total outage firing its fastest tier,
and zero traffic) in its service's file. Each test group is named ``<subject>: <what it
shows>`` (``slo <name>``, ``shape <key>``); ``slo test`` reports per subject from that
prefix. Expected alerts list every alert of the name that fires at the time, with exact
labels and annotations, as promtool compares them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

from compiler import conventions, outputs
from compiler.burn_rate import format_number
from compiler.durations import Duration
from compiler.model.drill import (
    AlertSource,
    Drill,
    Expectation,
    check_minutes,
    matching_sources,
    signal_alert_sources,
    slo_alert_sources,
)
from compiler.model.drill import state as drill_state
from compiler.model.service import Service, ServiceSpec, SpecSet
from compiler.model.signal import Signal
from compiler.model.slo import SLO
from compiler.outputs import OutputFile
from compiler.promql import quote
from compiler.synthetic.labels import LabelError
from compiler.synthetic.series import (
    Kind,
    Point,
    SyntheticSeries,
    counter,
    promtool_input,
    promtool_values,
)
from compiler.targets.prometheus import signal_rules, slo_rules
from compiler.targets.rule_tests import shapes, signal_scenarios
from compiler.targets.rule_tests.event_series import EventSeries, event_series, group_label_values
from compiler.targets.rule_tests.slo_scenarios import (
    PRECISE_INTERVAL,
    AlertCheck,
    RecordCheck,
    Scenario,
    plan,
)
from compiler.targets.rule_tests.timeline import Schedule, SloMath

SUBJECT_SEPARATOR = ": "
# An SLO's own test groups are named `slo <name>: instance of shape <key>: <scenario>`.
INSTANCE_OF = "instance of shape "
_LABEL_TEMPLATE = re.compile(r"\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def test_files(specs: SpecSet) -> Iterator[OutputFile]:
    """The rule tests of every service, a file per evaluation interval its scenarios use,
    built service by service as they are asked for (the writer streams), then those of
    every rule shape."""
    for spec in specs.services:
        yield from service_files(spec)
    yield from shape_files(specs)


@dataclass(frozen=True)
class Shape:
    """One rule shape of a set: its key, the SLO (of ``spec``) whose rules its full
    scenario set runs against, how many SLOs have it, and their spec files."""

    key: str
    spec: ServiceSpec
    slo: SLO
    count: int
    owners: tuple[str, ...]


def shapes_of(specs: SpecSet) -> list[Shape]:
    """Every rule shape of the set, by key; each runs against its first SLO (services by
    name, SLOs in spec order). Cheap: the shapes' files are built by :func:`shape_test_files`."""
    chosen: dict[str, tuple[ServiceSpec, SLO]] = {}
    counts: dict[str, int] = {}
    owners: dict[str, dict[str, None]] = {}
    for spec in specs.services:
        skipped = {name for name, _ in untestable(spec)}
        for slo in spec.slos:
            if subject(slo) not in skipped:
                key = shapes.shape_key(slo)
                chosen.setdefault(key, (spec, slo))
                counts[key] = counts.get(key, 0) + 1
                owners.setdefault(key, {})[spec.source] = None
    return [Shape(key, *chosen[key], counts[key], tuple(owners[key])) for key in sorted(chosen)]


def plan_shapes(shapes: Sequence[Shape]) -> None:
    """Plan every shape's scenarios now (they are cached): the SLOs' own tests start from
    their shape's, and processes forked after this call find them planned."""
    for shape in shapes:
        slo_scenarios(shape.slo)


def shape_files(specs: SpecSet) -> list[OutputFile]:
    """The full scenario set of every rule shape of the set (see :func:`shape_test_files`)."""
    return [file for shape in shapes_of(specs) for file in shape_test_files(shape)]


def shape_test_files(shape: Shape) -> list[OutputFile]:
    """The full scenario set of one rule shape, a file per evaluation interval, run against
    the rules of the shape's first SLO. Owned (in the MANIFEST) by the spec files of every
    SLO of the shape: the file depends on them alone, and a compile of some of them, which
    builds the whole set, writes it as a compile of all would."""
    key, spec, slo = shape.key, shape.spec, shape.slo
    groups: dict[int, list[dict[str, Any]]] = {}
    for scenario in slo_scenarios(slo):
        group = test_group(spec, slo, scenario, f"{shapes.subject(key)}{SUBJECT_SEPARATOR}")
        groups.setdefault(scenario.interval, []).append(group)
    header = (
        f"Generated by slo-compiler from the specs of its SLOs: the full scenarios of rule "
        f"shape {key},\nrun against the rules of slo {slo.name} (service {spec.service.name}, "
        f"{spec.source});\nthe {shape.count} SLO(s) of this shape each prove in their "
        "service's test file\nthat their rules are an instance of it (docs/testing.md)."
        "\nDo not edit: change the specs and run `slo compile`."
        "\nAn expected alert is written out once (&id001) and referenced after (*id001)."
    )
    return [
        OutputFile(
            conventions.shape_tests_path(key, Duration(interval * 60)),
            {
                "rule_files": [f"../../{conventions.rules_path(spec.service.name)}"],
                "evaluation_interval": str(Duration(interval * 60)),
                "tests": _share_expected_alerts(groups[interval]),
            },
            header=header,
            share_repeated=True,
            source=", ".join(shape.owners),
        )
        for interval in sorted(groups)
    ]


def service_files(spec: ServiceSpec) -> list[OutputFile]:
    """One service's rule tests, a file per evaluation interval its scenarios use."""
    files = []
    groups = service_test_groups(spec)
    skipped = [f"{name}: {reason}" for name, reason in untestable(spec)]
    for interval in sorted(groups):
        path = conventions.tests_path(spec.service.name, Duration(interval * 60))
        tests = groups[interval]
        header = outputs.generated_header(spec.source) + (
            "\nRun: `slo test`, or `promtool test rules` on this file."
            "\nAn expected alert is written out once (&id001) and referenced after (*id001)."
        )
        if skipped:
            header += "\nNo generated tests for: " + "; ".join(skipped)
        files.append(
            OutputFile(
                path,
                {
                    "rule_files": [f"../{conventions.rules_path(spec.service.name)}"],
                    "evaluation_interval": str(Duration(interval * 60)),
                    "tests": _share_expected_alerts(tests),
                },
                header=header,
                share_repeated=True,
                source=spec.source,
            )
        )
    return files


def _share_expected_alerts(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same expected alert, wherever it recurs, as one object (written once)."""
    seen: dict[str, dict[str, Any]] = {}
    for group in groups:
        for check in group.get("alert_rule_test", []):
            check["exp_alerts"] = [
                seen.setdefault(json.dumps(alert, sort_keys=True), alert)
                for alert in check["exp_alerts"]
            ]
    return groups


def untestable(spec: ServiceSpec) -> list[tuple[str, str]]:
    """SLOs and signals of a service that get no generated tests: (subject, why)."""
    found = []
    for slo in spec.slos:
        reason = _untestable_reason(slo)
        if reason:
            found.append((subject(slo), reason))
    for signal in spec.signals:
        try:
            signal_scenarios.scenarios(signal)
        except signal_scenarios.Unsupported as exc:
            found.append((signal_subject(signal), str(exc)))
    return found


def _untestable_reason(slo: SLO) -> str | None:
    windows = [w for t in slo.tiers for w in (t.long_window, t.short_window)]
    if any(w.seconds % 60 for w in windows):
        return "windows must be whole minutes (input samples are a minute apart)"
    try:
        event_series(slo)
    except LabelError as exc:
        return str(exc)
    return None


def service_test_groups(spec: ServiceSpec) -> dict[int, list[dict[str, Any]]]:
    """promtool test groups per evaluation interval (minutes): SLOs, signals, then drills."""
    groups: dict[int, list[dict[str, Any]]] = {}
    skipped = {name for name, _ in untestable(spec)}
    for slo in spec.slos:
        if subject(slo) in skipped:
            continue
        prefix = f"{SUBJECT_SEPARATOR}{INSTANCE_OF}{shapes.shape_key(slo)}{SUBJECT_SEPARATOR}"
        for scenario in instance_scenarios(slo):
            group = test_group(spec, slo, scenario, f"{subject(slo)}{prefix}")
            groups.setdefault(scenario.interval, []).append(group)
    for signal in spec.signals:
        if signal_subject(signal) in skipped:
            continue
        for signal_scenario in signal_scenarios.scenarios(signal):
            groups.setdefault(signal_scenario.interval, []).append(
                signal_group(spec.service, signal, signal_scenario)
            )
    for drill in spec.drills:
        groups.setdefault(PRECISE_INTERVAL, []).append(drill_group(spec, drill))
    return groups


def signal_subject(signal: Signal) -> str:
    """The prefix of a signal's test group names."""
    return f"signal {signal.name}"


def signal_rule(service: Service, signal: Signal) -> dict[str, Any]:
    """The labels and texts of a signal's alert rule."""
    return {
        "alert": signal.name,
        "labels": signal_rules.alert_labels(signal),
        "annotations": signal_rules.alert_annotations(service, signal),
    }


def signal_group(
    service: Service, signal: Signal, scenario: signal_scenarios.Scenario
) -> dict[str, Any]:
    """One signal scenario (signal_scenarios) as a promtool test group: its cases' series, and
    at each checked minute exactly the cases that fire."""
    rule = signal_rule(service, signal)
    group: dict[str, Any] = {
        "name": f"{signal_subject(signal)}{SUBJECT_SEPARATOR}{scenario.title}",
        "interval": "1m",
        "input_series": promtool_input(
            [one for case in scenario.cases for one in case.series], scenario.minutes
        ),
    }
    for minute, firing in scenario.checks():
        key, check = alert_check(
            minute, signal.name, [(rule, dict(case.labels)) for case in firing], [rule]
        )
        group.setdefault(key, []).append(check)
    return group


def drill_group(spec: ServiceSpec, drill: Drill) -> dict[str, Any]:
    """A drill as a promtool test group: its series, and at each checked minute the exact
    alerts of every name it speaks about."""
    sources = [*slo_alert_sources(spec.slos), *signal_alert_sources(spec.signals)]
    every_name = list(dict.fromkeys(source.name for source in sources))
    names = (
        every_name
        if any(e.silent and e.alert is None for e in drill.expectations)
        else list(dict.fromkeys(e.alert for e in drill.expectations if e.alert))
    )
    group: dict[str, Any] = {
        "name": f"drill {drill.name}{SUBJECT_SEPARATOR}{drill.description or drill.name}",
        "interval": "1m",
        "input_series": promtool_input(drill.series, drill.minutes),
    }
    for minute in check_minutes(drill):
        for name in names:
            expected = [
                (e, drill_state(e, minute))
                for e in drill.expectations
                if e.alert == name and not e.silent
            ]
            if any(firing is None for _, firing in expected):
                continue  # between an incident's start and its deadline: either is fine
            firing = [_drill_alert(spec, sources, e) for e, now in expected if now]
            rules = [_drill_rule(spec, s) for s in sources if s.name == name]
            key, check = alert_check(minute, name, firing, rules)
            group.setdefault(key, []).append(check)
    return group


def _drill_rule(spec: ServiceSpec, source: AlertSource) -> dict[str, Any]:
    if source.signal is not None:
        return signal_rule(spec.service, source.signal)
    assert source.slo is not None and source.tier is not None
    return slo_rules.alert_rules(spec.service, source.slo)[source.slo.tiers.index(source.tier)]


def _drill_alert(
    spec: ServiceSpec, sources: Sequence[AlertSource], expectation: Expectation
) -> tuple[dict[str, Any], dict[str, str]]:
    labels = dict(expectation.labels)
    assert expectation.alert is not None
    source = matching_sources(sources, expectation.alert, labels)[0]
    group = {k: v for k, v in labels.items() if k not in source.tier_labels()}
    series = slo_rules.SloSeries(source.slo).labels() if source.slo is not None else {}
    return _drill_rule(spec, source), {**series, **group}


def slo_scenarios(slo: SLO) -> tuple[Scenario, ...]:
    """The planned scenarios of one SLO."""
    lanes = len(group_label_values(slo, 2))
    names = tuple(_tier_name(slo, i) for i in range(len(slo.tiers)))
    return plan(SloMath.of(slo), names, lanes).scenarios


def instance_scenarios(slo: SLO) -> tuple[Scenario, ...]:
    """The scenarios an SLO runs on its own rules, its shape's full set being run once on
    another SLO's: the total outage, checked up to its first firing (the fastest tier fires
    with this SLO's exact labels and texts, and its records read every event; a second
    group, if any, stays silent), else the first tier's burn above its threshold (an SLO no
    outage fires within a day), else healthy traffic read exactly by the records (an SLO
    without tiers); and zero traffic (no alert, no NaN)."""
    planned = slo_scenarios(slo)
    for kind in ("outage", "above", "healthy"):
        first = next((s for s in planned if s.kind == kind), None)
        if first is not None:
            return (_until_first_firing(first), *(s for s in planned if s.kind == "zero"))
    return tuple(s for s in planned if s.kind == "zero")  # pragma: no cover - always one


def _until_first_firing(scenario: Scenario) -> Scenario:
    """The outage checked up to its first firing (and its records): the slower tiers'
    firings are the shape's to prove, and each would repeat every alert's texts."""
    if scenario.kind != "outage":
        return scenario
    first = next((check.minute for check in scenario.alert_checks if check.firing), None)
    if first is None:
        return scenario
    return replace(
        scenario,
        alert_checks=tuple(c for c in scenario.alert_checks if c.minute <= first),
        end=max([first, *(check.minute for check in scenario.record_checks)]),
    )


def _tier_name(slo: SLO, index: int) -> str:
    tier = slo.tiers[index]
    factor = format_number(float(f"{float(tier.burn_factor):.4g}"))
    return f"tier {tier.long_window}/{tier.short_window} {factor}x ({tier.severity})"


def subject(slo: SLO) -> str:
    """The prefix of an SLO's test group names, by which `slo test` reports."""
    return f"slo {slo.name}"


def test_group(
    spec: ServiceSpec, slo: SLO, scenario: Scenario, prefix: str | None = None
) -> dict[str, Any]:
    """One promtool test group for a scenario of ``slo``'s rules, named ``prefix`` (by
    default ``slo <name>: ``) and the scenario's title."""
    prefix = prefix if prefix is not None else f"{subject(slo)}{SUBJECT_SEPARATOR}"
    lane_labels = group_label_values(slo, len(scenario.lanes))
    shown = [", ".join(f"{k}={quote(v)}" for k, v in labels.items()) for labels in lane_labels]
    title = scenario.title.format(*shown, *([""] * 2))
    group: dict[str, Any] = {
        "name": f"{prefix}{title}",
        "interval": "1m",
        "input_series": [
            {"series": one.selector, "values": _values(one.kind, one.shape, scenario.end)}
            for one in input_series(slo, scenario.lanes, lane_labels)
        ],
    }
    rules = slo_rules.alert_rules(spec.service, slo)
    for alert_check in scenario.alert_checks:
        for key, check in _alert_checks(slo, rules, alert_check, lane_labels):
            group.setdefault(key, []).append(check)
    for record_check in scenario.record_checks:
        group.setdefault("promql_expr_test", []).extend(
            _record_tests(slo, record_check, lane_labels)
        )
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


@lru_cache(maxsize=4096)
def _values(kind: Kind, shape: tuple[Point, ...], minutes: int) -> str:
    """promtool's notation for a shape (SLOs with the same math share their shapes)."""
    return promtool_values(SyntheticSeries("", (), shape, kind), minutes)


def _per_second(kind: EventSeries, total: Fraction, bad: Fraction) -> float:
    count = {"total": total, "good": total - bad, "bad": bad, "none": Fraction(0)}[kind.share]
    return float(count / 60)


def _alert_checks(
    slo: SLO,
    rules: Sequence[dict[str, Any]],
    check: AlertCheck,
    lane_labels: Sequence[Mapping[str, str]],
) -> list[tuple[str, dict[str, Any]]]:
    series = slo_rules.SloSeries(slo)
    firing = [
        (rules[tier], {**series.labels(), **lane_labels[lane]})
        for lane, tier in sorted(check.firing)
    ]
    return [
        alert_check(
            check.minute,
            name,
            [(r, labels) for r, labels in firing if r["alert"] == name],
            [r for r in rules if r["alert"] == name],
        )
        for name in dict.fromkeys(rule["alert"] for rule in rules)
    ]


def alert_check(
    minute: int,
    name: str,
    firing: Sequence[tuple[Mapping[str, Any], Mapping[str, str]]],
    rules: Sequence[Mapping[str, Any]],
) -> tuple[str, dict[str, Any]]:
    """The check that exactly ``firing`` (rule, series labels) alerts named ``name`` fire at
    ``minute``: an ``alert_rule_test`` with labels and annotations, or, when an annotation of
    these rules uses a template action other than ``{{ $labels.x }}`` (``$value``, say), a
    ``promql_expr_test`` on the ``ALERTS`` series, which carries the labels only."""
    at = _duration(minute)
    if all(predictable(text) for rule in rules for text in rule.get("annotations", {}).values()):
        return "alert_rule_test", {
            "eval_time": at,
            "alertname": name,
            "exp_alerts": [expected_alert(rule, labels) for rule, labels in firing],
        }
    samples = []
    for rule, labels in firing:
        alert_labels = {
            "alertname": name,
            "alertstate": "firing",
            **expected_alert(rule, labels)["exp_labels"],
        }
        samples.append({"labels": _labels(alert_labels, "ALERTS"), "value": 1})
    return "promql_expr_test", {
        "expr": f'ALERTS{{alertname={quote(name)}, alertstate="firing"}}',
        "eval_time": at,
        "exp_samples": samples,
    }


@lru_cache(maxsize=4096)  # the same annotations are asked about at every checked minute
def predictable(text: str) -> bool:
    """Whether every template action in an annotation is a plain ``{{ $labels.x }}``."""
    return all(_LABEL_TEMPLATE.fullmatch(action) for action in _ACTION.findall(text))


def expected_alert(rule: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """An alert as promtool expects it: the series' labels with the rule's (empty ones
    removed), and annotations with ``{{ $labels.x }}`` expanded as Prometheus does."""
    # An empty rule label deletes the series' label of that name, as in Prometheus.
    all_labels = {**labels, **rule.get("labels", {})}
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
    series = slo_rules.SloSeries(slo)
    base, _, recorded = slo_rules.windows(slo)
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

"""promtool unit tests for signals: ``tests/<service>.signals.test.yml`` beside the rules.

For every signal, the scenarios of :mod:`compiler.signal_scenarios` become one promtool test
group each: the synthetic series, and at each checked minute the exact alerts expected
(labels and annotations as the rule renders them). Since promtool compares the whole list of
alerts of a name, a case that must stay silent is checked by its absence: a tenant's burst
that fires for another tenant fails the test.

Signals whose texts use template actions other than ``{{ $labels.x }}`` (their value, say)
are checked through the ``ALERTS`` series instead, which carries the labels but not the
texts. Raw PromQL gets no generated test (the file's header lists what was left out and why).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from compiler import conventions
from compiler.durations import Duration
from compiler.model import Service, SpecSet
from compiler.outputs import OutputFile
from compiler.promql import quote
from compiler.signal_model import Signal
from compiler.signal_scenarios import Case, Scenario, Unsupported, scenarios
from compiler.synthetic import promtool_input
from compiler.targets.prometheus import generated_header
from compiler.targets.signal_rules import alert_annotations, alert_labels

SERIES_INTERVAL = "1m"  # synthetic samples every minute, whatever the evaluation interval
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_LABEL_ACTION = re.compile(r"\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}")


def test_files(specs: SpecSet) -> list[OutputFile]:
    """Per service with signals: a test file per evaluation interval its scenarios use."""
    files = []
    for spec in specs.services:
        by_interval: dict[int, list[dict[str, Any]]] = {}
        skipped: list[str] = []
        for signal in spec.signals:
            try:
                for scenario in scenarios(signal):
                    group = test_group(spec.service, signal, scenario)
                    by_interval.setdefault(scenario.interval, []).append(group)
            except Unsupported as reason:
                skipped.append(f"{signal.name}: {reason}")
        header = generated_header(spec.source)
        if skipped:
            header += "\nNo generated scenarios for " + "; ".join(skipped) + "."
        for minutes, groups in sorted(by_interval.items()):
            interval = Duration(minutes * 60)
            document = {
                "rule_files": [f"../{conventions.rules_path(spec.service.name)}"],
                "evaluation_interval": str(interval),
                "tests": groups,
            }
            path = conventions.signal_tests_path(
                spec.service.name, None if minutes == 1 else interval
            )
            files.append(OutputFile(path, document, header=header))
    return files


def test_group(service: Service, signal: Signal, scenario: Scenario) -> dict[str, Any]:
    """One promtool test group: a scenario's series and its checks."""
    series = [one for case in scenario.cases for one in case.series]
    group: dict[str, Any] = {
        "name": f"{signal.name}: {scenario.title}",
        "interval": SERIES_INTERVAL,
        "input_series": promtool_input(series, scenario.minutes),
    }
    annotations = alert_annotations(service, signal)
    if all(_predictable(text) for text in annotations.values()):
        group["alert_rule_test"] = [
            {
                "eval_time": f"{minute}m",
                "alertname": signal.name,
                "exp_alerts": [expected_alert(signal, case, annotations) for case in firing],
            }
            for minute, firing in scenario.checks()
        ]
    else:
        group["promql_expr_test"] = [
            {
                "expr": f'ALERTS{{alertname={quote(signal.name)}, alertstate="firing"}}',
                "eval_time": f"{minute}m",
                "exp_samples": [_alerts_sample(signal, case) for case in firing],
            }
            for minute, firing in scenario.checks()
        ]
    return group


def alert_labels_of(signal: Signal, case: Case) -> dict[str, str]:
    """The labels of the case's alert: its group labels, then the rule's labels."""
    return {**dict(case.labels), **alert_labels(signal)}


def expected_alert(signal: Signal, case: Case, annotations: Mapping[str, str]) -> dict[str, Any]:
    """The alert promtool must find for a firing case, texts rendered for its labels."""
    labels = alert_labels_of(signal, case)
    return {
        "exp_labels": labels,
        "exp_annotations": {key: _render(text, labels) for key, text in annotations.items()},
    }


def _alerts_sample(signal: Signal, case: Case) -> dict[str, Any]:
    labels = {"alertname": signal.name, "alertstate": "firing", **alert_labels_of(signal, case)}
    inner = ", ".join(f"{name}={quote(value)}" for name, value in sorted(labels.items()))
    return {"labels": f"ALERTS{{{inner}}}", "value": 1}


def _predictable(text: str) -> bool:
    """Whether every template action is a plain label reference."""
    return all(_LABEL_ACTION.fullmatch(action) for action in _ACTION.findall(text))


def _render(text: str, labels: Mapping[str, str]) -> str:
    """``{{ $labels.x }}`` expanded as Prometheus does when the alert fires."""
    return _LABEL_ACTION.sub(lambda m: labels.get(m.group(1), ""), text)

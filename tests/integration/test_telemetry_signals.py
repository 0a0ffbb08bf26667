"""The collector's own signals (slos/telemetry.yaml) and the drills that test them.

They are PromQL, to read each counter in both spellings (with and without ``_total``), so
they get no generated scenarios; the spec's drills are their tests, in
generated/tests/telemetry.test.yml. Here each signal is broken the way a plausible mistake
would break it, and its drills must fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compiler.synthetic import promtool
from tests.support.paths import GENERATED, SLOS

RULES = GENERATED / "prometheus" / "telemetry.rules.yml"
TESTS = GENERATED / "tests" / "telemetry.test.yml"
SEND_FAILED = "otelcol_exporter_send_failed_metric_points"
ENQUEUE_FAILED = "otelcol_exporter_enqueue_failed_metric_points"
REFUSED = "otelcol_receiver_refused_metric_points"
LOG_SEND_FAILED = "otelcol_exporter_send_failed_log_records"
SPAN_SEND_FAILED = "otelcol_exporter_send_failed_spans"
LOG_REFUSED = "otelcol_receiver_refused_log_records"

# (alert, text in its expression, replacement). Drills check that an alert fires by its
# deadline and stays silent where it must, not how long it waits, so `for` is not mutated.
MUTATIONS: list[tuple[str, str, str]] = [
    # Reading one spelling only: a collector exposing the other looks like no data.
    ("TelemetryIngestDown", "_total[5m])\n      and\n", "_total[5m])\n      or\n"),
    # A collector that is scraped but accepts nothing must count as down.
    ("TelemetryIngestDown", "metric_points[5m])) > 0", "metric_points[5m])) >= 0"),
    ("TelemetryExportFailing", f"rate({SEND_FAILED}[5m])", f"rate({SEND_FAILED}_total[5m])"),
    ("TelemetryEnqueueFailing", f"rate({ENQUEUE_FAILED}_total[5m])", f"rate({ENQUEUE_FAILED}[5m])"),
    ("TelemetryExportQueueNearlyFull", "> 0.8", "> 0.9"),
    ("TelemetryExportQueueNearlyFull", "> 0.8", ">= 0.8"),
    ("TelemetryPointsRefused", f"rate({REFUSED}[5m])", f"rate({REFUSED}_total[5m])"),
    # Logs and traces: one spelling only, and both counters in one `or` (an exporter's zero
    # send failures then hide its enqueue failures).
    (
        "TelemetryLogExportFailing",
        f"rate({LOG_SEND_FAILED}[5m])",
        f"rate({LOG_SEND_FAILED}_total[5m])",
    ),
    ("TelemetryLogExportFailing", "    ) > 0\n  or\n    sum by (exporter) (\n", "      or\n"),
    (
        "TelemetrySpanExportFailing",
        f"rate({SPAN_SEND_FAILED}_total[5m])",
        f"rate({SPAN_SEND_FAILED}[5m])",
    ),
    ("TelemetryLogsOrSpansRefused", f"rate({LOG_REFUSED}[5m])", f"rate({LOG_REFUSED}_total[5m])"),
]


def _drills_for(alert: str) -> list[dict[str, Any]]:
    groups = yaml.safe_load(TESTS.read_text())["tests"]
    return [
        group
        for group in groups
        if group["name"].startswith("drill ")
        and any(check["alertname"] == alert for check in group.get("alert_rule_test", []))
    ]


def test_every_collector_signal_has_a_drill() -> None:
    signals = yaml.safe_load((SLOS / "telemetry.yaml").read_text())
    for signal in signals["signals"]:
        assert _drills_for(signal["name"]), f"no drill checks {signal['name']}"


def test_the_drills_catch_broken_signals(tmp_path: Path, promtool_path: str) -> None:
    for index, (alert, old, new) in enumerate(MUTATIONS):
        document = yaml.safe_load(RULES.read_text())
        rule = next(r for g in document["groups"] for r in g["rules"] if r.get("alert") == alert)
        assert old in rule["expr"], (alert, old)
        rule["expr"] = rule["expr"].replace(old, new)
        rules = tmp_path / f"mutated-{index}.rules.yml"
        rules.write_text(yaml.safe_dump(document, sort_keys=False))
        test = tmp_path / f"mutated-{index}.test.yml"
        test.write_text(
            yaml.safe_dump(
                {
                    "rule_files": [rules.name],
                    "evaluation_interval": "1m",
                    "tests": _drills_for(alert),
                },
                sort_keys=False,
            )
        )
        # One promtool run per file: its report does not say which file a failure is in.
        result = promtool.test_rules([test], cwd=tmp_path)
        assert not result.ok, f"{alert} with {old!r} -> {new!r} still passes its drills"
        assert f"alertname: {alert}," in result.output, result.output

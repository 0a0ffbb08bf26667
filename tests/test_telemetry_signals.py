"""The collector watching itself: slos/telemetry.yaml's signals on synthetic series (promtool).

They are PromQL (they read each counter in both spellings, with and without ``_total``, so
they hold whatever reader exposes them), and PromQL signals get no generated tests: these
scenarios are their tests, all in one promtool run. Each collector metric appears in both
spellings, and each case has a quiet twin that must stay silent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compiler import promtool
from compiler.synthetic import SyntheticSeries, counter, gauge, promtool_input
from tests.conftest import GENERATED
from tests.promtool_run import firing, run_promtool

RULES = GENERATED / "prometheus" / "telemetry.rules.yml"
ACCEPTED = "otelcol_receiver_accepted_metric_points"
SEND_FAILED = "otelcol_exporter_send_failed_metric_points"
ENQUEUE_FAILED = "otelcol_exporter_enqueue_failed_metric_points"
REFUSED = "otelcol_receiver_refused_metric_points"
UP = {"job": "otel-collector", "instance": "otel-collector:8888"}
MINUTES = 50
START = 30  # trouble starts, after half an hour of healthy history


def _rules() -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def _healthy(total: bool, up: list[tuple[float, float | None]] | None = None) -> list[Any]:
    """A collector that is scraped and accepts 100 points/s, in one counter spelling."""
    name = f"{ACCEPTED}_total" if total else ACCEPTED
    return [
        gauge("up", UP, up or [(0, 1.0)]),
        counter(name, {"receiver": "otlp", "transport": "grpc"}, [(0, 100.0)]),
    ]


def _checks(alert: str, quiet: list[int], fire: list[int], expected: list[Any]) -> list[Any]:
    return [{"eval_time": f"{m}m", "alertname": alert, "exp_alerts": []} for m in quiet] + [
        {"eval_time": f"{m}m", "alertname": alert, "exp_alerts": expected} for m in fire
    ]


def _group(name: str, series: list[SyntheticSeries], checks: list[Any]) -> dict[str, Any]:
    return {
        "name": name,
        "interval": "1m",
        "input_series": promtool_input(series, MINUTES),
        "alert_rule_test": checks,
    }


def _scenarios(rules: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    down = [firing(rules["TelemetryIngestDown"], {})]
    groups = [
        # Healthy in either spelling: the old no-data check on one spelling paged here.
        _group(
            "ingest: healthy, counters with _total",
            _healthy(total=True),
            _checks("TelemetryIngestDown", [10, 30, 49], [], []),
        ),
        _group(
            "ingest: healthy, counters without _total",
            _healthy(total=False),
            _checks("TelemetryIngestDown", [10, 30, 49], [], []),
        ),
        _group(
            "ingest: the collector's scrape fails",
            _healthy(total=True, up=[(0, 1.0), (START, 0.0)]),
            _checks("TelemetryIngestDown", [START + 3], [START + 6, START + 15], down),
        ),
        _group(
            "ingest: the collector is gone (no up, no counters)",
            [
                gauge("up", UP, [(0, 1.0), (START, None)]),
                counter(
                    ACCEPTED, {"receiver": "otlp", "transport": "grpc"}, [(0, 9.0), (START, None)]
                ),
            ],
            _checks("TelemetryIngestDown", [START + 3], [START + 7, START + 15], down),
        ),
        _group(
            "ingest: scraped, but no points accepted",
            [
                gauge("up", UP, [(0, 1.0)]),
                counter(
                    ACCEPTED, {"receiver": "otlp", "transport": "grpc"}, [(0, 50.0), (START, 0.0)]
                ),
            ],
            _checks("TelemetryIngestDown", [START + 3], [START + 7, START + 15], down),
        ),
        _group(
            "data loss: send and enqueue failures in both spellings, per exporter",
            [
                counter(
                    f"{SEND_FAILED}_total", {"exporter": "otlp_http"}, [(0, 0.0), (START, 2.0)]
                ),
                counter(
                    SEND_FAILED, {"exporter": "prometheus_remote_write"}, [(0, 0.0), (START, 2.0)]
                ),
                counter(f"{SEND_FAILED}_total", {"exporter": "quiet"}, [(0, 0.0)]),
                counter(ENQUEUE_FAILED, {"exporter": "otlp_http"}, [(0, 0.0), (START, 5.0)]),
                counter(f"{ENQUEUE_FAILED}_total", {"exporter": "quiet"}, [(0, 0.0)]),
            ],
            _checks(
                "TelemetryExportFailing",
                [START - 1],
                [START + 2, START + 10],
                [
                    firing(rules["TelemetryExportFailing"], {"exporter": "otlp_http"}),
                    firing(
                        rules["TelemetryExportFailing"], {"exporter": "prometheus_remote_write"}
                    ),
                ],
            )
            + _checks(
                "TelemetryEnqueueFailing",
                [START - 1],
                [START + 2],
                [firing(rules["TelemetryEnqueueFailing"], {"exporter": "otlp_http"})],
            ),
        ),
        _group(
            "queue above 80% of capacity for 5m; a disabled queue (capacity 0) is not full",
            [
                gauge("otelcol_exporter_queue_capacity", _queue("otlp_http"), [(0, 1000.0)]),
                gauge(
                    "otelcol_exporter_queue_size", _queue("otlp_http"), [(0, 10.0), (START, 850.0)]
                ),
                gauge("otelcol_exporter_queue_capacity", _queue("quiet"), [(0, 1000.0)]),
                gauge("otelcol_exporter_queue_size", _queue("quiet"), [(0, 10.0), (START, 800.0)]),
                gauge("otelcol_exporter_queue_capacity", _queue("disabled"), [(0, 0.0)]),
                gauge("otelcol_exporter_queue_size", _queue("disabled"), [(0, 0.0)]),
            ],
            _checks(
                "TelemetryExportQueueNearlyFull",
                [START + 4],
                [START + 6, START + 15],
                [firing(rules["TelemetryExportQueueNearlyFull"], {"exporter": "otlp_http"})],
            ),
        ),
        _group(
            "refused points for 5m, per receiver",
            [
                counter(
                    REFUSED, {"receiver": "otlp", "transport": "grpc"}, [(0, 0.0), (START, 3.0)]
                ),
                counter(
                    f"{REFUSED}_total", {"receiver": "prometheus", "transport": "http"}, [(0, 0.0)]
                ),
            ],
            _checks(
                "TelemetryPointsRefused",
                [START + 4],
                [START + 7, START + 15],
                [firing(rules["TelemetryPointsRefused"], {"receiver": "otlp"})],
            ),
        ),
    ]
    return groups


def test_the_collector_signals(tmp_path: Path, promtool_path: str) -> None:
    run_promtool(tmp_path, RULES, _scenarios(_rules()))


# Each mutation breaks one signal the way a plausible mistake would; the scenarios must fail.
MUTATIONS = [
    # Reading one spelling only: a collector exposing the other looks like no data.
    ("TelemetryIngestDown", "_total[5m])\n      and\n", "_total[5m])\n      or\n"),
    ("TelemetryExportFailing", f"rate({SEND_FAILED}[5m])", f"rate({SEND_FAILED}_total[5m])"),
    ("TelemetryEnqueueFailing", f"rate({ENQUEUE_FAILED}[5m])", f"rate({ENQUEUE_FAILED}_total[5m])"),
    ("TelemetryExportQueueNearlyFull", "> 0.8", "> 0.9"),
    ("TelemetryPointsRefused", "for", None),
]


def test_the_scenarios_catch_broken_signals(tmp_path: Path, promtool_path: str) -> None:
    files = []
    for index, (alert, old, new) in enumerate(MUTATIONS):
        document = yaml.safe_load(RULES.read_text())
        rule = next(r for g in document["groups"] for r in g["rules"] if r.get("alert") == alert)
        if new is None:
            del rule[old]
        else:
            assert old in rule["expr"], (alert, old)
            rule["expr"] = rule["expr"].replace(old, new)
        rules = tmp_path / f"mutated-{index}.rules.yml"
        rules.write_text(yaml.safe_dump(document, sort_keys=False))
        test = tmp_path / f"mutated-{index}.test.yml"
        groups = [
            g
            for g in _scenarios(_rules())
            if any(c["alertname"] == alert for c in g["alert_rule_test"])
        ]
        test.write_text(
            yaml.safe_dump(
                {"rule_files": [rules.name], "evaluation_interval": "1m", "tests": groups},
                sort_keys=False,
            )
        )
        files.append(test)
    # One promtool run per file: its report does not say which file a failure belongs to.
    for (alert, old, new), test in zip(MUTATIONS, files, strict=True):
        result = promtool.test_rules([test], cwd=tmp_path)
        assert not result.ok, f"{alert} with {old!r} -> {new!r} still passes"
        assert f"alertname: {alert}," in result.output, result.output


def _queue(exporter: str) -> dict[str, str]:
    return {"exporter": exporter, "data_type": "metrics"}

"""SLOs from spans on the span metrics connector's series, evaluated by promtool.

The series are what the connector's metrics look like in Prometheus: one per collector replica
(``collector_instance_id``), per status and kind. The rules must add the replicas up, count
only the selected spans, and read the duration buckets in the unit the environment chose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compiler import burn_rate, pipeline, writer
from compiler.durations import Duration
from compiler.synthetic.series import SyntheticSeries, counter, promtool_input
from compiler.targets.prometheus import rule_files, slo_rules
from compiler.targets.rule_tests.promtool_files import expected_alert as firing
from tests.support.paths import ROOT
from tests.support.promtool_run import run_promtool

SPEC = ROOT / "tests" / "specs" / "spans.yaml"
RULES = ROOT / "tests" / "golden" / "spans" / "prometheus" / "checkout-api.rules.yml"
INTERVAL = Duration.parse("1m")
CALLS = "traces_span_metrics_calls_total"
MINUTES = 100
START = 60  # errors start, after an hour of history (the 1h window is full)

MS_SPEC = """
apiVersion: slo-compiler/v1
kind: Service
service: {name: orders, owner: team-shop}
slos:
  - name: latency
    objective: 99
    sli: {spans: {span_name: GET /orders, threshold_seconds: 0.5}}
"""


def _calls(
    collector: str, status: str, shape: list[tuple[float, float | None]], **labels: str
) -> SyntheticSeries:
    return counter(
        CALLS,
        {
            "service_name": "checkout-api",
            "span_name": "POST /v1/orders",
            "span_kind": "SPAN_KIND_SERVER",
            "status_code": status,
            "collector_instance_id": collector,
            "tenant": "t1",
            "job": "checkout-api",
            **labels,
        },
        shape,
    )


def _availability_series() -> list[SyntheticSeries]:
    series = []
    for collector in ("collector-a", "collector-b"):
        # 50 spans/s through each replica; from minute 30, 10% of them fail.
        series.append(_calls(collector, "STATUS_CODE_UNSET", [(0, 50.0), (START, 45.0)]))
        series.append(_calls(collector, "STATUS_CODE_ERROR", [(0, 0.0), (START, 5.0)]))
        # Spans the SLI does not select: another span name, a client span. All failing.
        series.append(_calls(collector, "STATUS_CODE_ERROR", [(0, 50.0)], span_name="GET /healthz"))
        series.append(
            _calls(collector, "STATUS_CODE_ERROR", [(0, 50.0)], span_kind="SPAN_KIND_CLIENT")
        )
    return series


def _latency_series(
    metric: str, service: str, span: dict[str, str], bucket: str
) -> list[SyntheticSeries]:
    """Two replicas, 10 spans/s each; 2% slower than the threshold ``bucket``."""
    series = []
    for collector in ("collector-a", "collector-b"):
        labels = {
            "service_name": service,
            "span_kind": "SPAN_KIND_SERVER",
            "status_code": "STATUS_CODE_UNSET",
            "collector_instance_id": collector,
            **span,
        }
        series.append(counter(f"{metric}_bucket", {**labels, "le": bucket}, [(0, 9.8)]))
        series.append(counter(f"{metric}_bucket", {**labels, "le": "+Inf"}, [(0, 10.0)]))
        series.append(counter(f"{metric}_count", labels, [(0, 10.0)]))
    return series


def _error_ratio(slo: str, value: float, **labels: str) -> dict[str, Any]:
    """The SLO's 5m error ratio, rounded to 0.1%, with no per-collector label left."""
    return {
        "expr": f'round(slo:sli_error:ratio{{slo="{slo}", window="5m"}}, 0.001)',
        "eval_time": f"{MINUTES - 5}m",
        "exp_samples": [{"labels": _labels(slo, labels), "value": value}],
    }


def _labels(slo: str, extra: dict[str, str]) -> str:
    service = "orders" if slo == "latency" else "checkout-api"
    pairs = {"service": service, "slo": slo, "window": "5m", **extra}
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(pairs.items()))
    return f"{{{inner}}}"


def _fast_page() -> tuple[dict[str, Any], float]:
    """The spans availability SLO's alert rule, and minutes until 10% errors fire it."""
    specs = pipeline.compile_specs([SPEC]).specs
    slo = next(s for s in specs.slos if s.name == "availability-from-spans")
    [tier] = slo.tiers
    spec = specs.services[0]
    rule = slo_rules.alert_rule(spec.service, slo, tier, slo_rules.SloSeries(slo))
    base, _, _ = slo_rules.windows(slo)
    seconds = burn_rate.first_firing(
        0.1, float(slo.threshold(tier)), tier.long_window, tier.short_window, base, INTERVAL
    )
    assert seconds is not None
    return rule, seconds / 60


def test_span_slos_aggregate_collectors_and_read_the_right_unit(
    tmp_path: Path, promtool_path: str
) -> None:
    orders = pipeline.compile_specs([_write(tmp_path / "orders.yaml", MS_SPEC)])
    assert orders.ok, orders.diagnostics
    ms_rules = tmp_path / "orders.rules.yml"
    ms_rules.write_text(writer.to_yaml(rule_files.service_rules(orders.specs.services[0])))
    page, after = _fast_page()
    assert page in yaml.safe_load(RULES.read_text())["groups"][1]["rules"]
    labels = {"service": "checkout-api", "slo": "availability-from-spans", "tenant": "t1"}
    series = (
        _availability_series()
        + _latency_series(
            "traces_span_metrics_duration_seconds",
            "checkout",
            {"http_route": "/v1/orders/{id}", "span_name": "GET /v1/orders/{id}"},
            "0.35",
        )
        + _latency_series(
            "traces_span_metrics_duration_milliseconds",
            "orders",
            {"span_name": "GET /orders"},
            "500",
        )
    )
    test = {
        "name": "spans: replicas summed, unselected spans ignored, buckets in the env's unit",
        "interval": "1m",
        "input_series": promtool_input(series, MINUTES),
        "promql_expr_test": [
            _error_ratio("availability-from-spans", 0.1, tenant="t1"),
            _error_ratio("latency-from-spans", 0.02),
            _error_ratio("latency", 0.02),
        ],
        "alert_rule_test": [
            {
                "eval_time": f"{int(START + after) - 1}m",
                "alertname": page["alert"],
                "exp_alerts": [],
            },
            {
                "eval_time": f"{int(START + after)}m",
                "alertname": page["alert"],
                "exp_alerts": [firing(page, labels)],
            },
        ],
    }
    run_promtool(tmp_path, [RULES, ms_rules], [test])


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path

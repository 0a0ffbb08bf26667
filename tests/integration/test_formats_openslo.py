"""OpenSLO threshold SLIs under promtool: they page when their data points go bad."""

from __future__ import annotations

from pathlib import Path

from compiler import writer
from compiler.targets.prometheus import rule_files, slo_rules
from compiler.targets.rule_tests.promtool_files import expand
from tests.support.formats import compile_files
from tests.support.promtool_run import run_promtool

LAG = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: queue-lag, labels: {owner: team-queue}}
spec:
  service: queue
  indicator:
    spec:
      thresholdMetric:
        metricSource: {type: Prometheus, spec: {query: max(queue_lag_seconds)}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lte, value: 30, target: 0.99}]
  alertPolicies:
    - kind: AlertPolicy
      metadata: {name: queue-lag-page}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: lag-burn}
            spec:
              severity: page
              condition: {kind: burnrate, threshold: 14.4, lookbackWindow: 1h}
"""


def test_a_threshold_sli_pages_when_its_data_points_go_bad(
    tmp_path: Path, promtool_path: str
) -> None:
    """99% of minutes with the queue lag at or below 30s: an hour of 60s lag pages, the
    page clears once the short window is clean again."""
    result, messages = compile_files(tmp_path, {"lag.yaml": LAG})
    assert result.ok, messages
    spec = result.specs.services[0]
    rules = tmp_path / "queue.rules.yml"
    rules.write_text(writer.to_yaml(rule_files.service_rules(spec)))
    slo, tier = spec.slos[0], spec.slos[0].tiers[0]
    alert = {
        "exp_labels": {
            "service": "queue",
            "slo": "queue-lag",
            "severity": "critical",
            "long_window": "1h",
            "short_window": "5m",
            "owner": "team-queue",
        },
    }
    rule = slo_rules.alert_rule(spec.service, slo, tier, slo_rules.SloSeries(slo))
    alert["exp_annotations"] = {
        k: expand(v, alert["exp_labels"]) for k, v in rule["annotations"].items()
    }
    group = {
        "name": "lag above 30s for an hour",
        "interval": "1m",
        "input_series": [
            {"series": 'queue_lag_seconds{queue="orders"}', "values": "5x120 60x60 5x60"}
        ],
        "alert_rule_test": [
            {"eval_time": "110m", "alertname": "QueueLagPage", "exp_alerts": []},
            {"eval_time": "124m", "alertname": "QueueLagPage", "exp_alerts": []},
            {"eval_time": "150m", "alertname": "QueueLagPage", "exp_alerts": [alert]},
            {"eval_time": "179m", "alertname": "QueueLagPage", "exp_alerts": [alert]},
            {"eval_time": "195m", "alertname": "QueueLagPage", "exp_alerts": []},
        ],
    }
    run_promtool(tmp_path, rules, [group])

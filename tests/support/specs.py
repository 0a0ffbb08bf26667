"""Small valid specs that tests vary, and the diagnostics a spec gets."""

from __future__ import annotations

import textwrap
from pathlib import Path

from compiler import pipeline
from compiler.load import discovery

# A service with ratio, latency and gauge metrics, two SLOs and their tiers.
SERVICE_SPEC = """\
apiVersion: slo-compiler/v1
kind: Service
service:
  name: checkout
  owner: team-shop
  runbook_base_url: https://runbooks.example/
metrics:
  http_requests_total: {type: counter, labels: [code, tenant]}
  request_seconds: {type: histogram, labels: [tenant], buckets: [0.1, 0.25, 1]}
  queue_depth: {type: gauge, labels: [queue]}
slos:
  - name: availability
    objective: 99.9
    group_by: [tenant]
    sli:
      ratio:
        bad: http_requests_total{code=~"5.."}
        total: http_requests_total
    alerting:
      tiers:
        - alert: CheckoutBurnFast
          severity: critical
          long_window: 1h
          short_window: 5m
          burn_factor: 14.4
"""

# A service whose alerts are signals (it sends through a collector).
SIGNAL_SPEC = """\
apiVersion: slo-compiler/v1
kind: Service
service:
  name: shop
  owner: team-shop
  runbook_base_url: https://runbooks.example/
  telemetry: collector
metrics:
  requests_total: {type: counter, labels: [code, tenant]}
  request_seconds: {type: histogram, labels: [tenant], buckets: [0.1, 0.25, 1]}
  queue_depth: {type: gauge, labels: [queue]}
  up: {type: gauge, labels: [job]}
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        bad: requests_total{code=~"5.."}
        total: requests_total
    alerting:
      tiers:
        - {alert: ShopBurnFast, severity: critical, long_window: 1h, short_window: 5m,
           burn_factor: 14.4}
signals:
  - name: ErrorsHigh
    severity: critical
    group_by: [tenant]
    threshold:
      ratio:
        numerator: requests_total{code=~"5.."}
        denominator: requests_total
      above: 0.05
  - name: QueueDeep
    severity: warning
    summary: "Queue {{ $labels.queue }} is deep"
    group_by: [queue]
    threshold:
      gauge: queue_depth
      above: 1000
    for: 10m
  - name: ShopScrapeDown
    severity: critical
    telemetry: direct
    pipeline_down: collector
    no_data:
      window: 5m
      job: shop
"""

# Routing of both severities to receivers.
ROUTING_SPEC = """\
apiVersion: slo-compiler/v1
kind: Routing
routing:
  receivers:
    pager:
      pagerduty: {routing_key_file: /run/secrets/pd}
    tickets:
      slack: {api_url_file: /run/secrets/slack, channel: "#t"}
  severities:
    critical: {receiver: pager}
    warning: {receiver: tickets}
"""


def diagnostics_of(tmp_path: Path, text: str, name: str = "checkout.yaml") -> list[str]:
    """The diagnostics of ``text`` saved as ``name``, as `file:line: field: message` with the
    file relative to ``tmp_path``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    result = pipeline.compile_specs([path])
    prefix = f"{discovery.display_path(tmp_path)}/"
    return [str(d).removeprefix(prefix) for d in result.diagnostics]

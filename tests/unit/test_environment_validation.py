"""Environment specs and SLIs from spans: every mistake reported with file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import pipeline
from compiler.cli import main
from compiler.diagnostics import Severity
from compiler.load import discovery
from tests.support.specs import SERVICE_SPEC

ENVIRONMENT = """\
apiVersion: slo-compiler/v1
kind: Environment
environment:
  name: production
collector:
  memory_limit:
    limit_mib: 1024
  persistence_directory: /var/lib/otelcol
delivery:
  mode: otlp_http
  endpoint: https://prometheus.example/api/v1/otlp
  auth:
    token: ${env:PROM_TOKEN}
  outage: 1h
  points_per_second: 1000
sources:
  otlp: [checkout]
"""

SPANS_SLO = """\
  - name: availability-from-spans
    objective: 99.9
    sli:
      spans:
        span_name: GET /cart
"""


# The services of these tests send through the collector, which reports itself down.
CARRIED = SERVICE_SPEC.replace(
    "  owner: team-shop\n", "  owner: team-shop\n  telemetry: otel-collector\n"
)
COLLECTOR = """\
apiVersion: slo-compiler/v1
kind: Service
service: {name: collector, owner: team-observability, runbook_base_url: https://runbooks.example/}
signals:
  - {name: CollectorDown, severity: critical, pipeline_down: otel-collector,
     no_data: {window: 5m, job: otel-collector}}
"""


def _messages(tmp_path: Path, environment: str = ENVIRONMENT, service: str = CARRIED) -> list[str]:
    (tmp_path / "collector.yaml").write_text(COLLECTOR)
    (tmp_path / "checkout.yaml").write_text(service)
    (tmp_path / "env.yaml").write_text(textwrap.dedent(environment))
    result = pipeline.compile_specs([tmp_path])
    prefix = f"{discovery.display_path(tmp_path)}/"
    return [str(d).removeprefix(prefix) for d in result.diagnostics]


def _env(old: str, new: str) -> str:
    assert old in ENVIRONMENT, old
    return ENVIRONMENT.replace(old, new, 1)


def test_the_example_environment_is_valid(tmp_path: Path) -> None:
    assert _messages(tmp_path) == []
    result = pipeline.compile_specs([tmp_path])
    assert [e.name for e in result.specs.environments] == ["production"]
    paths = [f.path for f in pipeline.outputs(result.specs)]
    assert "prometheus/checkout.rules.yml" in paths and "otel/production.yaml" in paths


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    token: ${env:PROM_TOKEN}",
            "    token: s3cr3t-t0ken",
            "env.yaml:13: delivery.auth.token: 's3cr3t-t0ken' must be an environment reference "
            "such as ${env:PROM_TOKEN}, never the secret itself",
        ),
        (
            "  outage: 1h\n",
            "  outage: 1h\n  headers: {Authorization: Bearer abc}\n",
            "env.yaml:15: delivery.headers.Authorization: credentials go under delivery.auth as "
            "an ${env:...} reference, not in headers",
        ),
        (
            "  mode: otlp_http",
            "  mode: otlp_grpc",
            "env.yaml:10: delivery.mode: 'otlp_grpc' is not one of remote_write, otlp_http "
            "(did you mean 'otlp_http'?)",
        ),
        (
            "  persistence_directory: /var/lib/otelcol",
            "  persistence_dir: /var/lib/otelcol",
            "env.yaml:8: collector.persistence_dir: unknown field 'persistence_dir' (did you "
            "mean 'persistence_directory'?)",
        ),
        (
            "  otlp: [checkout]",
            "  otlp: [chekout]",
            "env.yaml:17: sources.otlp[0]: no service 'chekout' in the specs (did you mean "
            "'checkout'?)",
        ),
        (
            "    limit_mib: 1024",
            "    limit_mib: 1024\n    limit_percentage: 80",
            "env.yaml:6: collector.memory_limit: give exactly one of limit_mib or limit_percentage",
        ),
        (
            "    limit_mib: 1024",
            "    limit_mib: 1024\n    spike_limit_mib: 2048",
            "env.yaml:8: collector.memory_limit.spike_limit_mib: must be below limit_mib (1024)",
        ),
        (
            "  memory_limit:",
            "  version: 0.120.0\n  memory_limit:",
            "env.yaml:6: collector.version: collector 0.120.0 is older than 0.130.0, the oldest "
            "release the generated configs support (see docs/otel.md)",
        ),
        (
            "  outage: 1h",
            "  outage: 30s",
            "env.yaml:14: delivery.outage: must be at least 1m",
        ),
        (
            "  outage: 1h",
            "  outage: 0h",
            "env.yaml:14: delivery.outage: '0h' is zero; a duration must be positive",
        ),
        (
            "    limit_mib: 1024",
            "    limit_mib: 1024\n    check_interval: 0s",
            "env.yaml:8: collector.memory_limit.check_interval: '0s' is zero; a duration must be "
            "positive",
        ),
        (
            "  endpoint: https://prometheus.example/api/v1/otlp",
            "  endpoint: prometheus.example:9090",
            "env.yaml:11: delivery.endpoint: 'prometheus.example:9090' must be an http:// or "
            "https:// URL",
        ),
        (
            "  otlp: [checkout]",
            "  scrape:\n    - {service: checkout, targets: [checkout]}",
            "env.yaml:18: sources.scrape[0].targets[0]: 'checkout' does not match "
            "^[A-Za-z0-9_.-]+:[0-9]+$",
        ),
    ],
)
def test_environment_mistakes(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert expected in _messages(tmp_path, _env(old, new))


def test_the_collectors_own_job_name_is_taken(tmp_path: Path) -> None:
    environment = _env(
        "  otlp: [checkout]",
        "  scrape:\n    - {service: checkout, job: otel-collector, targets: ['checkout:80']}",
    ).replace(
        "  persistence_directory:", "  self_metrics: through_pipeline\n  persistence_directory:"
    )
    assert (
        "env.yaml:19: sources.scrape[0].job: job 'otel-collector' is the collector's scrape of "
        "itself; choose another"
    ) in _messages(tmp_path, environment)


def test_the_environment_carries_exactly_the_services_of_its_pipeline(tmp_path: Path) -> None:
    assert (
        "env.yaml:17: sources.otlp[0]: service 'checkout' does not send through "
        "'otel-collector' (its data arrives by Prometheus's own scrape); set its "
        "service.telemetry: otel-collector, or do not carry it here"
    ) in _messages(tmp_path, service=SERVICE_SPEC)
    (tmp_path / "other.yaml").write_text(CARRIED.replace("name: checkout", "name: other"))
    assert (
        "env.yaml:16: sources: warning: service 'other' sends through 'otel-collector' "
        "(service.telemetry) but is in neither sources.otlp nor sources.scrape"
    ) in _messages(tmp_path)
    named = _env("  memory_limit:", "  pipeline: edge-collector\n  memory_limit:")
    assert any("does not send through 'edge-collector'" in m for m in _messages(tmp_path, named))


def test_newer_collector_than_checked_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "collector.yaml").write_text(COLLECTOR)
    (tmp_path / "checkout.yaml").write_text(CARRIED)
    (tmp_path / "env.yaml").write_text(
        _env("  memory_limit:", "  version: 0.170.0\n  memory_limit:")
    )
    result = pipeline.compile_specs([tmp_path])
    assert result.ok
    [warning] = result.diagnostics
    assert warning.severity is Severity.WARNING
    assert "newer than 0.162.0" in warning.message


def test_environment_names_are_unique(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(ENVIRONMENT)
    messages = _messages(tmp_path)
    assert any("environment 'production' is also defined in" in m for m in messages), messages


def test_spans_arrive_only_by_otlp(tmp_path: Path) -> None:
    service = CARRIED + SPANS_SLO
    environment = _env(
        "  otlp: [checkout]", "  scrape:\n    - {service: checkout, targets: ['checkout:80']}"
    )
    assert (
        "env.yaml:17: sources.scrape: service 'checkout' has SLOs from spans, and spans arrive "
        "only by OTLP: list it under sources.otlp"
    ) in _messages(tmp_path, environment, service)


def test_environments_agree_on_the_span_unit(tmp_path: Path) -> None:
    service = CARRIED + SPANS_SLO.replace("span_name: GET /cart", "threshold_seconds: 0.5")
    (tmp_path / "staging.yaml").write_text(
        ENVIRONMENT.replace("name: production", "name: staging") + "span_metrics: {unit: s}\n"
    )
    messages = _messages(tmp_path, service=service)
    assert (
        "staging.yaml:18: span_metrics.unit: environments carrying 'checkout' disagree on the "
        "span histogram unit (ms, s); its latency rules read one unit, so set the same unit in "
        "all of them"
    ) in messages


def test_spans_sli_mistakes(tmp_path: Path) -> None:
    service = CARRIED + SPANS_SLO.replace("span_name: GET /cart", "span_nme: GET /cart")
    assert (
        "checkout.yaml:31: slos[1].sli.spans.span_nme: unknown field 'span_nme' (did you mean "
        "'span_name'?)"
    ) in _messages(tmp_path, service=service)
    grouped = CARRIED + SPANS_SLO.replace(
        "    sli:", "    group_by: [collector_instance_id]\n    sli:"
    )
    assert (
        "checkout.yaml:29: slos[1].group_by[0]: 'collector_instance_id' differs per collector "
        "replica; the rules aggregate it away"
    ) in _messages(tmp_path, service=grouped)
    fine = CARRIED + SPANS_SLO.replace("span_name: GET /cart", "threshold_seconds: 0.0000001")
    assert (
        "checkout.yaml:31: slos[1].sli.spans.threshold_seconds: 1E-7 s is finer than a microsecond"
    ) in _messages(tmp_path, service=fine)


def test_validate_counts_environments(tmp_path: Path) -> None:
    _messages(tmp_path)  # writes the collector, service and environment specs
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("1 signal(s), 1 environment(s)")


def test_a_scraped_services_windows_hold_two_scrapes(tmp_path: Path) -> None:
    """A 5m window under a 3m scrape interval holds one sample: rate() has no value."""
    scraped = "  scrape:\n    - {service: checkout, targets: ['checkout:80'], interval: 3m}"
    assert (
        "env.yaml:18: sources.scrape[0].interval: service 'checkout' is scraped every 3m, but "
        "tier 'CheckoutBurnFast' of SLO 'availability' computes a rate over 5m: a window holds "
        "two samples only if it is at least twice the interval (6m); scrape more often or "
        "widen the window"
    ) in _messages(tmp_path, _env("  otlp: [checkout]", scraped))
    often = scraped.replace("interval: 3m", "interval: 2m30s")
    assert not any(
        "is scraped every" in m for m in _messages(tmp_path, _env("  otlp: [checkout]", often))
    )


# Logs and traces (docs/otel.md, Logs and traces).
LOGS = """\
logs:
  - name: siem
    protocol: grpc
    endpoint: siem.example:4317
    auth:
      token: ${env:SIEM_TOKEN}
    outage: 6h
    records_per_second: 10
    events: [checkout.refund]
traces:
  - {name: tempo, protocol: http, endpoint: https://tempo.example, outage: 1h,
     spans_per_second: 100, sampling_percentage: 5}
"""
LOG_METRIC = """\
  refunds_log_records_total:
    type: counter
    labels: [tenant]
    from_logs: {name: refunds.log_records, events: [checkout.refund]}
"""


def _with_log_metric(metric: str = LOG_METRIC) -> str:
    return CARRIED.replace("metrics:\n", "metrics:\n" + metric, 1)


def test_logs_traces_and_log_metrics_are_valid(tmp_path: Path) -> None:
    assert _messages(tmp_path, ENVIRONMENT + LOGS, _with_log_metric()) == []
    result = pipeline.compile_specs([tmp_path])
    (environment,) = result.specs.environments
    assert [(d.name, d.protocol, d.per_second) for d in environment.logs] == [("siem", "grpc", 10)]
    assert environment.traces[0].sampling_percentage == 5
    metric = next(m for s in result.specs.services for m in s.metrics if m.from_logs)
    assert metric.from_logs is not None and metric.from_logs.service == "checkout"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "    outage: 6h",
            "    outage: 6h\n    headers: {Authorization: Bearer abc}",
            "env.yaml:25: logs[0].headers.Authorization: credentials go under logs[0].auth as "
            "an ${env:...} reference, not in headers",
        ),
        (
            "endpoint: https://tempo.example",
            "endpoint: tempo.example:4318",
            "env.yaml:28: traces[0].endpoint: protocol http needs a URL (http:// or https://)",
        ),
        (
            "    outage: 6h",
            "    outage: 30s",
            "env.yaml:24: logs[0].outage: must be at least 1m",
        ),
        (
            "sampling_percentage: 5",
            "sampling_percentage: 0",
            "env.yaml:29: traces[0].sampling_percentage: 0 is not above 0",
        ),
        (
            "  - {name: tempo",
            "  - {name: siem",
            "",  # a trace destination may share a log destination's name: no message
        ),
    ],
)
def test_destination_mistakes(tmp_path: Path, old: str, new: str, expected: str) -> None:
    environment = (ENVIRONMENT + LOGS).replace(old, new, 1)
    found = _messages(tmp_path, environment, _with_log_metric())
    assert (expected in found) if expected else found == [], found


def test_two_log_destinations_of_one_name(tmp_path: Path) -> None:
    environment = ENVIRONMENT + LOGS.replace(
        "traces:",
        "  - {name: siem, protocol: http, endpoint: https://x.example, outage: 1h,\n"
        "     records_per_second: 1}\ntraces:",
    )
    assert "env.yaml:27: logs[1].name: 'siem' is also logs[0]" in _messages(tmp_path, environment)


def test_destinations_need_a_service_sending_otlp(tmp_path: Path) -> None:
    environment = _env(
        "  otlp: [checkout]",
        "  scrape:\n    - {service: checkout, targets: ['checkout:80']}",
    )
    found = _messages(tmp_path, environment + LOGS, CARRIED)
    message = "logs: logs arrive only by OTLP, and no service is listed under sources.otlp"
    assert f"env.yaml:19: {message}" in found, found


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "name: refunds.log_records",
            "name: refunds.log.records",
            "checkout.yaml:12: metrics.refunds_log_records_total.from_logs.name: "
            "'refunds.log.records' arrives in Prometheus as 'refunds_log_records_total' (OTLP "
            "translation of a counter), not 'refunds_log_records_total'",
        ),
        (
            "name: refunds.log_records",
            "name: refunds.records",
            "checkout.yaml:12: metrics.refunds_log_records_total.from_logs.name: "
            "'refunds.records' arrives in Prometheus as 'refunds_records_total' (OTLP "
            "translation of a counter), not 'refunds_log_records_total'; rename one so that "
            "they agree",
        ),
        (
            "type: counter\n    labels: [tenant]",
            "type: gauge\n    labels: [tenant]",
            "checkout.yaml:12: metrics.refunds_log_records_total.from_logs: a metric counted "
            "from log records is a counter, not a gauge",
        ),
        (
            "events: [checkout.refund]",
            "events: []",
            "checkout.yaml:12: metrics.refunds_log_records_total.from_logs.events: must not be "
            "empty",
        ),
    ],
)
def test_log_metric_mistakes(tmp_path: Path, old: str, new: str, expected: str) -> None:
    found = _messages(tmp_path, ENVIRONMENT, _with_log_metric(LOG_METRIC.replace(old, new)))
    if "arrives in Prometheus as 'refunds_log_records_total'" in expected:
        assert not any("from_logs.name" in line for line in found), found  # same name: fine
    else:
        assert any(line.startswith(expected) for line in found), found


def test_a_log_metric_needs_its_service_sent_by_otlp(tmp_path: Path) -> None:
    environment = _env(
        "  otlp: [checkout]",
        "  scrape:\n    - {service: checkout, targets: ['checkout:80']}",
    )
    found = _messages(tmp_path, environment, _with_log_metric())
    assert (
        "env.yaml:17: sources.scrape: service 'checkout' has counters made from its log "
        "records (refunds.log_records), and log records arrive only by OTLP: list it under "
        "sources.otlp"
    ) in found, found

"""Every series a generated rule or dashboard reads is delivered by each environment's collector.

Reads come from the generated rule files and dashboards, deliveries from the generated collector
configs (receivers, scrape jobs, the span metrics connector, the telemetry reader, minus what the
filter drops) and the services' metric catalogs; see tests/support/otel_coverage.py.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import conventions, pipeline
from compiler.model.service import SpecSet
from compiler.targets.otel import collector_config as otel
from compiler.targets.otel import names
from tests.support import otel_coverage
from tests.support.paths import GENERATED, ROOT, SLOS

GOLDEN = ROOT / "tests" / "golden"
DASHBOARDS = ROOT / "dashboards"
CASES = [
    ("reference", SLOS, GENERATED, DASHBOARDS),
    ("spans", ROOT / "tests" / "specs" / "spans.yaml", GOLDEN / "spans", GOLDEN / "spans"),
]


def _reads(generated: Path, dashboards: Path) -> list[otel_coverage.Read]:
    rule_files = sorted((generated / "prometheus").glob("*.rules.yml"))
    reads = otel_coverage.rule_reads(rule_files)
    recorded = {
        rule["record"]
        for path in rule_files
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    return reads + otel_coverage.dashboard_reads(sorted(dashboards.glob("*.json")), recorded)


def _carried(reads: list[otel_coverage.Read], specs: SpecSet, services: frozenset[str]) -> list:
    """Reads an environment must satisfy: its services' series and the collector's own."""
    owners = {
        name: {spec.service.name for spec in specs.services if name in otel_coverage.catalog(spec)}
        for name in {r.name for r in reads if r.name}
    }
    return [
        read
        for read in reads
        if read.owner in services
        or (read.owner.endswith(".json") and owners.get(read.name or "", set()) & services)
        or (read.name or read.name_regex or "").startswith(names.SELF_PREFIX)
        or (read.name == "up" and read.job == conventions.COLLECTOR_JOB)
    ]


@pytest.mark.parametrize(
    ("case", "source", "generated", "dashboards"), CASES, ids=[c[0] for c in CASES]
)
def test_every_series_read_is_delivered(
    case: str, source: Path, generated: Path, dashboards: Path
) -> None:
    result = pipeline.compile_specs([source])
    assert result.ok
    specs = result.specs
    reads = _reads(generated, dashboards)
    assert reads, "no reads found: the test would prove nothing"
    assert specs.environments
    for environment in specs.environments:
        config = yaml.safe_load((generated / "otel" / f"{environment.name}.yaml").read_text())
        delivered = otel_coverage.produced(config, environment, specs)
        needed = _carried(reads, specs, environment.services)
        assert needed, f"{environment.name} carries nothing the rules read"
        assert otel_coverage.missing(needed, delivered) == [], environment.name


@pytest.fixture(scope="module")
def spans_case() -> tuple[dict[str, Any], Any, SpecSet, list[otel_coverage.Read]]:
    result = pipeline.compile_specs([CASES[1][1]])
    environment = next(e for e in result.specs.environments if e.name == "spans-otlp")
    config = otel.collector_config(environment, result.specs)
    reads = _carried(_reads(GOLDEN / "spans", GOLDEN / "spans"), result.specs, environment.services)
    return config, environment, result.specs, reads


def test_a_missing_connector_is_caught(spans_case: tuple[Any, Any, SpecSet, Any]) -> None:
    config, environment, specs, reads = spans_case
    broken = copy.deepcopy(config)
    broken["service"]["pipelines"]["metrics"]["receivers"].remove("span_metrics")
    lost = otel_coverage.missing(reads, otel_coverage.produced(broken, environment, specs))
    assert any(line.startswith("traces_span_metrics_calls_total") for line in lost), lost
    assert any(line.startswith("traces_span_metrics_duration_seconds_bucket") for line in lost)


def test_a_filter_that_drops_a_read_series_is_caught(
    spans_case: tuple[Any, Any, SpecSet, Any],
) -> None:
    config, environment, specs, reads = spans_case
    broken = copy.deepcopy(config)
    conditions = broken["processors"]["filter/unused_series"]["metric_conditions"]
    conditions[0] = conditions[0].replace("http[._]requests", "http[._]request")
    delivered = otel_coverage.produced(broken, environment, specs)
    assert "http_requests_total" in delivered.dropped
    assert otel_coverage.missing(reads, delivered) == ["http_requests_total read by checkout-api"]


def test_a_wrong_unit_is_caught(spans_case: tuple[Any, Any, SpecSet, Any]) -> None:
    config, environment, specs, reads = spans_case
    broken = copy.deepcopy(config)
    broken["connectors"]["span_metrics"]["histogram"]["unit"] = "ms"
    lost = otel_coverage.missing(reads, otel_coverage.produced(broken, environment, specs))
    assert any("duration_seconds" in line for line in lost), lost


def test_self_metrics_are_matched_in_both_spellings() -> None:
    read = otel_coverage.Read("telemetry", None, "otelcol_exporter_queue_size|x")
    assert read.matches("otelcol_exporter_queue_size")
    both = otel_coverage.Read(
        "telemetry", None, "otelcol_exporter_send_failed_metric_points(_total)?"
    )
    assert all(
        any(both.matches(n) for n in names.self_metric_names(with_total=total))
        for total in (True, False)
    )


def test_a_reader_without_the_type_suffix_is_caught() -> None:
    """The pipeline dashboard reads the _total spelling only; the signals read both."""
    result = pipeline.compile_specs([SLOS])
    environment = next(e for e in result.specs.environments if e.name == "production")
    config = otel.collector_config(environment, result.specs)
    reader = config["service"]["telemetry"]["metrics"]["readers"][0]["pull"]["exporter"]
    reader["prometheus"]["without_type_suffix"] = True
    reads = _carried(_reads(GENERATED, DASHBOARDS), result.specs, environment.services)
    lost = otel_coverage.missing(reads, otel_coverage.produced(config, environment, result.specs))
    assert lost == [
        "otelcol_exporter_send_failed_metric_points_total read by telemetry_pipeline.json",
        "otelcol_receiver_accepted_metric_points_total read by telemetry_pipeline.json",
    ]


def test_counters_from_logs_come_only_from_the_count_connector() -> None:
    """The kill-switch and tenant-isolation rules read counters no service exports: without
    the count connector in a metrics pipeline they are not delivered."""
    result = pipeline.compile_specs([SLOS])
    production = next(e for e in result.specs.environments if e.name == "production")
    config = yaml.safe_load((GENERATED / "otel" / "production.yaml").read_text())
    reads = _carried(_reads(GENERATED, DASHBOARDS), result.specs, production.services)
    assert (
        otel_coverage.missing(reads, otel_coverage.produced(config, production, result.specs)) == []
    )
    broken = copy.deepcopy(config)
    broken["service"]["pipelines"]["metrics/log_counts"]["receivers"].remove("count")
    broken["service"]["pipelines"]["metrics/log_counts"]["receivers"].append("otlp")
    lost = otel_coverage.missing(reads, otel_coverage.produced(broken, production, result.specs))
    assert {line.split(" ")[0] for line in lost} == {
        "kill_switch_disabled_log_records_total",
        "kill_switch_restored_log_records_total",
        "tenant_isolation_violation_log_records_total",
    }, lost
    renamed = copy.deepcopy(config)
    counts = renamed["connectors"]["count"]["logs"]
    counts["kill_switch.disabled.log.count"] = counts.pop("kill_switch.disabled.log_records")
    lost = otel_coverage.missing(reads, otel_coverage.produced(renamed, production, result.specs))
    assert [line.split(" ")[0] for line in lost] == ["kill_switch_disabled_log_records_total"]

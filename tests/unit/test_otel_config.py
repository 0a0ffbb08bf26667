"""Generated collector configs: schema, start-up structure, names per version, delivery.

Every config the suite knows (generated/otel/ and the goldens of tests/specs/) must pass the
package's collector-config schema and the structural checks; each check is also shown to
reject the mistake it exists for.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import pipeline
from compiler.model import otel_versions
from compiler.model.environment import Environment
from compiler.model.otel_versions import Version
from compiler.model.service import SpecSet
from compiler.targets.otel import collector_config as otel
from compiler.targets.otel import delivery as otel_delivery
from compiler.targets.otel import settings as otel_settings
from compiler.targets.otel import verify
from tests.support.paths import GENERATED, ROOT, SLOS

SPECS = ROOT / "tests" / "specs"
GOLDEN = ROOT / "tests" / "golden"


def _compiled(path: Path) -> SpecSet:
    result = pipeline.compile_specs([path])
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return result.specs


def _configs() -> list[tuple[Path, Environment, SpecSet]]:
    """Every generated config file with the environment and specs it came from."""
    found = []
    sources = [(SLOS, GENERATED / "otel")] + [
        (spec, GOLDEN / spec.stem / "otel") for spec in sorted(SPECS.glob("*.yaml"))
    ]
    for source, directory in sources:
        specs = _compiled(source)
        for environment in specs.environments:
            found.append((directory / f"{environment.name}.yaml", environment, specs))
    return found


CONFIGS = _configs()
IDS = [f"{path.parent.parent.name}/{path.stem}" for path, _, _ in CONFIGS]


def test_the_reference_specs_have_environments() -> None:
    names = {path.stem for path, _, _ in CONFIGS if path.is_relative_to(GENERATED)}
    assert names == {"production", "staging"}
    assert sorted(p.name for p in (GENERATED / "otel").iterdir()) == [
        "production.yaml",
        "staging.yaml",
    ]


@pytest.mark.parametrize(("path", "environment", "specs"), CONFIGS, ids=IDS)
def test_generated_config_passes_schema_and_structure(
    path: Path, environment: Environment, specs: SpecSet
) -> None:
    config = yaml.safe_load(path.read_text())
    assert config == otel.collector_config(environment, specs), f"{path} is stale"
    assert verify.schema_problems(config) == []
    assert verify.structural_problems(config, environment.version) == []


@pytest.fixture(scope="module")
def good() -> tuple[dict[str, Any], Version]:
    """A config with every component kind: spans, scrapes, filter, remote write."""
    path, environment, _ = next(c for c in CONFIGS if c[0].stem == "spans-remote-write")
    return yaml.safe_load(path.read_text()), environment.version


def _problems(config: dict[str, Any], version: Version) -> list[str]:
    return verify.schema_problems(config) + verify.structural_problems(config, version)


def _broken(
    good: tuple[dict[str, Any], Version], change: Any, version: Version | None = None
) -> list[str]:
    config = copy.deepcopy(good[0])
    change(config)
    return _problems(config, version or good[1])


def test_checks_accept_the_unbroken_config(good: tuple[dict[str, Any], Version]) -> None:
    assert _problems(good[0], good[1]) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: c["processors"].pop("batch"),
            "service.pipelines.metrics.processors: 'batch' is not defined under processors",
        ),
        (
            lambda c: c["service"]["pipelines"]["metrics"]["receivers"].remove("spanmetrics"),
            "connectors.spanmetrics: must be the exporter of one pipeline and the receiver of "
            "another",
        ),
        (
            lambda c: c["service"]["pipelines"]["traces"].update(
                exporters=["prometheusremotewrite"]
            ),
            "connectors.spanmetrics: must be the exporter of one pipeline and the receiver of "
            "another",
        ),
        (
            lambda c: c["service"]["pipelines"]["metrics"]["processors"].reverse(),
            "service.pipelines.metrics.processors: memory_limiter must come first",
        ),
        (
            lambda c: c["receivers"].update({"otlp/unused": c["receivers"]["otlp"]}),
            "receivers.otlp/unused: defined but used by no pipeline",
        ),
        (
            lambda c: c["service"]["extensions"].append("file_storage/queue"),
            "service.extensions: 'file_storage/queue' is not defined under extensions",
        ),
        (
            lambda c: c["extensions"].update({"file_storage/x": {"directory": "/tmp"}}),
            "extensions.file_storage/x: defined but not enabled in service.extensions",
        ),
        (
            lambda c: c["exporters"]["prometheusremotewrite"].update(sending_queue={}),
            "exporters.prometheusremotewrite: Additional properties are not allowed "
            "('sending_queue' was unexpected)",
        ),
        (
            lambda c: c["service"]["telemetry"]["metrics"].update(address="0.0.0.0:8888"),
            "service.telemetry.metrics: Additional properties are not allowed ('address' was "
            "unexpected)",
        ),
        (
            lambda c: c["processors"]["batch"].update(send_batch_max_size=100),
            "processors.batch.send_batch_max_size: must be at least send_batch_size",
        ),
        (
            lambda c: c["connectors"]["spanmetrics"]["histogram"].update(unit="us"),
            "connectors.spanmetrics.histogram.unit: 'us' is not one of ['ms', 's']",
        ),
        (
            lambda c: c["connectors"]["spanmetrics"]["dimensions"].append({"name": "span.kind"}),
            "connectors.spanmetrics.dimensions: 'span.kind' is a default dimension",
        ),
        (
            lambda c: c["exporters"]["prometheusremotewrite"]["retry_on_failure"].update(
                max_elapsed_time="10s"
            ),
            "exporters.prometheusremotewrite.retry_on_failure: max_elapsed_time below max_interval",
        ),
        (
            lambda c: c["processors"]["memory_limiter"].update(spike_limit_percentage=80),
            "processors.memory_limiter.spike_limit_percentage: must be below limit_percentage",
        ),
        (
            lambda c: c["processors"]["memory_limiter"].pop("limit_percentage"),
            "processors.memory_limiter: {'check_interval': '1s'} is not valid under any of the "
            "given schemas",
        ),
        (
            lambda c: c["processors"]["filter/unused_series"].update(metric_conditions=["true"]),
            "processors.filter/unused_series: {'error_mode': 'ignore', 'metrics':",
        ),
        (
            lambda c: c["processors"]["batch"].update(timeout="1 second"),
            "processors.batch.timeout: '1 second' does not match",
        ),
    ],
)
def test_each_check_rejects_its_mistake(
    good: tuple[dict[str, Any], Version], change: Any, expected: str
) -> None:
    problems = _broken(good, change)
    assert any(p.startswith(expected) for p in problems), problems


def test_component_names_must_match_the_collector_version(
    good: tuple[dict[str, Any], Version],
) -> None:
    # The config names components for 0.140.0; 0.156.0 knows them only as deprecated aliases.
    problems = _broken(good, lambda c: None, Version(0, 156, 0))
    assert (
        "exporters.prometheusremotewrite: 'prometheusremotewrite' is a deprecated alias in "
        "0.156.0; use 'prometheus_remote_write' (renamed in 0.154.0)"
    ) in problems
    assert any(
        p.startswith("connectors.spanmetrics: 'spanmetrics' is a deprecated") for p in problems
    )

    def renamed(config: dict[str, Any]) -> None:
        config["exporters"]["otlp_http"] = {"endpoint": "http://x"}
        config["service"]["pipelines"]["metrics"]["exporters"].append("otlp_http")

    assert (
        "exporters.otlp_http: collector 0.140.0 does not know 'otlp_http' (new in 0.144.0); "
        "use 'otlphttp'"
    ) in _broken(good, renamed)


@pytest.mark.parametrize(
    ("version", "otlp_http", "span_metrics", "remote_write"),
    [
        ("0.143.0", "otlphttp", "spanmetrics", "prometheusremotewrite"),
        ("0.144.0", "otlp_http", "spanmetrics", "prometheusremotewrite"),
        ("0.151.0", "otlp_http", "spanmetrics", "prometheusremotewrite"),
        ("0.152.0", "otlp_http", "span_metrics", "prometheusremotewrite"),
        ("0.153.1", "otlp_http", "span_metrics", "prometheusremotewrite"),
        ("0.154.0", "otlp_http", "span_metrics", "prometheus_remote_write"),
        ("0.162.0", "otlp_http", "span_metrics", "prometheus_remote_write"),
    ],
)
def test_component_names_per_version(
    version: str, otlp_http: str, span_metrics: str, remote_write: str
) -> None:
    parsed = Version.parse(version)
    assert otel_versions.component_type("exporters", "otlp_http", parsed) == otlp_http
    assert otel_versions.component_type("connectors", "span_metrics", parsed) == span_metrics
    assert (
        otel_versions.component_type("exporters", "prometheus_remote_write", parsed) == remote_write
    )
    # The OTLP receiver kept its name; only the exporter was renamed.
    assert otel_versions.component_type("receivers", "otlp", parsed) == "otlp"


def test_version_parsing_and_order() -> None:
    assert Version.parse("v0.156.0") == Version(0, 156, 0)
    assert Version.parse("0.99.0") < Version.parse("0.156.0") < Version.parse("1.0.0")
    with pytest.raises(ValueError, match="not a collector version"):
        Version.parse("0.156")


def test_filter_form_follows_the_version(tmp_path: Path) -> None:
    configs = {path.stem: yaml.safe_load(path.read_text()) for path, _, _ in CONFIGS}
    new = configs["spans-otlp"]["processors"]["filter/unused_series"]
    old = configs["spans-remote-write"]["processors"]["filter/unused_series"]
    assert list(new) == ["error_mode", "metric_conditions"]  # 0.156.0
    assert list(old) == ["error_mode", "metrics"] and list(old["metrics"]) == ["metric"]  # 0.140


def test_delivery_settings_come_from_the_environment() -> None:
    by_name = {env.name: (env, yaml.safe_load(path.read_text())) for path, env, _ in CONFIGS}
    production, config = by_name["production"]
    exporter = config["exporters"]["otlp_http"]
    assert exporter["retry_on_failure"]["max_elapsed_time"] == str(production.delivery.outage)
    queue = exporter["sending_queue"]
    assert queue["queue_size"] == 4000 * 2 * 3600  # points/s x the 2h outage, in data points
    assert queue["sizer"] == "items" and queue["block_on_overflow"] is True
    assert queue["storage"] == "file_storage/queue" in config["service"]["extensions"]
    assert exporter["headers"] == {"Authorization": "Bearer ${env:PROM_TOKEN}"}

    staging, config = by_name["staging"]
    exporter = config["exporters"]["prometheus_remote_write"]
    assert "sending_queue" not in exporter
    assert exporter["wal"]["directory"] == staging.persistence_directory
    assert exporter["remote_write_queue"] == {"enabled": False}
    # The exporter's retries stop at its per-push timeout (default 5s): raised.
    assert exporter["timeout"] == "30s"


def test_loss_bounds_are_stated_in_each_config_header() -> None:
    for path, environment, _ in CONFIGS:
        header = "".join(
            line[2:] for line in path.read_text().splitlines() if line.startswith("# ")
        )
        for bound in otel_delivery.loss_bounds(environment):
            assert bound.situation in header, path
    production = next(env for path, env, _ in CONFIGS if path.stem == "production")
    bounds = {b.situation: b.bound for b in otel_delivery.loss_bounds(production)}
    assert bounds["backend outage"].startswith(
        "nothing is lost for up to 2h: the persistent queue holds 28800000 points"
    )


def test_secrets_stay_references_and_dollars_are_escaped() -> None:
    assert otel_settings.literal("https://x/$a") == "https://x/$$a"
    assert otel_settings.literal("Bearer ${env:TOKEN}") == "Bearer ${env:TOKEN}"
    for path, _, _ in CONFIGS:
        text = path.read_text()
        for line in text.splitlines():
            if "Authorization" in line or "X-Api-Key" in line:
                assert "${env:" in line, line


def test_span_buckets_include_every_threshold() -> None:
    configs = {path.stem: yaml.safe_load(path.read_text()) for path, _, _ in CONFIGS}
    explicit = configs["spans-otlp"]["connectors"]["span_metrics"]["histogram"]["explicit"]
    assert explicit["buckets"] == ["100ms", "350ms", "500ms", "1s"]  # configured + 0.35 s
    default = configs["spans-remote-write"]["connectors"]["spanmetrics"]["histogram"]
    assert "350ms" in default["explicit"]["buckets"] and default["unit"] == "s"


def test_docs_state_the_versions_renames_and_reference_figures() -> None:
    docs = (ROOT / "docs" / "otel.md").read_text()
    assert f"**Default collector version: {otel_versions.DEFAULT_VERSION}**" in docs
    assert f"Supported:\n  {otel_versions.MIN_VERSION} and newer" in docs
    assert f"checked up to {otel_versions.NEWEST_CHECKED}" in docs
    for rename in otel_versions.RENAMES:
        row = f"| `{rename.old}` | `{rename.new}` {rename.since} | {rename.confidence} |"
        assert row in docs, row
    for path, environment, _ in CONFIGS:
        if path.is_relative_to(GENERATED):
            points = f"{otel_delivery.queue_points(environment):,}"
            assert f"{points}\npoints" in docs or f"{points} points" in docs, points


# Logs and traces (docs/otel.md, Logs and traces): the production config has every new part.
def _reference(name: str) -> tuple[Path, Environment, SpecSet]:
    """The generated config of a reference environment (slos/environments/<name>.yaml)."""
    return next(c for c in CONFIGS if c[0] == GENERATED / "otel" / f"{name}.yaml")


@pytest.fixture(scope="module")
def with_logs() -> tuple[dict[str, Any], Version]:
    """The production config: log and trace destinations, a filter, a sampler, counts."""
    path, environment, _ = _reference("production")
    return yaml.safe_load(path.read_text()), environment.version


def _rename_pipeline(config: dict[str, Any], old: str, new: str) -> None:
    pipelines = config["service"]["pipelines"]
    pipelines[new] = pipelines.pop(old)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda c: _rename_pipeline(c, "logs", "traces/count"),
            "connectors.count.logs: counts logs, and no logs pipeline feeds it",
        ),
        (
            lambda c: c["service"]["pipelines"]["logs/loki"]["receivers"].append("count"),
            "connectors.count: feeds metrics pipelines only, not logs/loki",
        ),
        (
            lambda c: c["service"]["pipelines"]["traces"]["processors"].append(
                "probabilistic_sampler/tempo"
            ),
            "service.pipelines.traces: 'probabilistic_sampler/tempo' drops data before "
            "'span_metrics', which must count everything received",
        ),
        (
            lambda c: c["service"]["pipelines"]["logs"]["processors"].append("filter/siem"),
            "service.pipelines.logs: 'filter/siem' drops data before 'count'",
        ),
        (
            lambda c: c["service"]["pipelines"]["logs/loki"]["processors"].insert(
                1, "deltatocumulative"
            ),
            "service.pipelines.logs/loki.processors: 'deltatocumulative' takes metrics only",
        ),
        (
            lambda c: c["service"]["pipelines"]["metrics"]["processors"].insert(
                1, "probabilistic_sampler/tempo"
            ),
            "service.pipelines.metrics.processors: 'probabilistic_sampler/tempo' takes logs, "
            "traces only",
        ),
        (
            lambda c: c["service"]["pipelines"]["metrics"]["processors"].insert(1, "filter/siem"),
            "service.pipelines.metrics.processors: 'filter/siem' filters logs only "
            "(log_conditions)",
        ),
        (
            lambda c: c["connectors"]["count"]["logs"]["kill_switch.disabled.log_records"][
                "attributes"
            ].append({"default_value": "x"}),
            "connectors.count.logs.kill_switch.disabled.log_records.attributes.2: 'key' is a "
            "required property",
        ),
        (
            lambda c: c["connectors"]["count"]["logs"]["kill_switch.disabled.log_records"][
                "attributes"
            ].append({"key": "tenant"}),
            "connectors.count.logs.kill_switch.disabled.log_records.attributes: 'tenant' is "
            "listed twice",
        ),
        (
            lambda c: c["connectors"]["count"].update(log_records={}),
            "connectors.count: Additional properties are not allowed ('log_records' was "
            "unexpected)",
        ),
        (
            lambda c: c["exporters"]["otlp_grpc/logs_siem"].update(logs_endpoint="x:4317"),
            "exporters.otlp_grpc/logs_siem: Additional properties are not allowed "
            "('logs_endpoint' was unexpected)",
        ),
        (
            lambda c: c["processors"]["probabilistic_sampler/tempo"].pop("sampling_percentage"),
            "processors.probabilistic_sampler/tempo: 'sampling_percentage' is a required property",
        ),
        (
            lambda c: c["processors"]["deltatocumulative"].update(max_stale="five minutes"),
            "processors.deltatocumulative.max_stale: 'five minutes' does not match",
        ),
        (
            lambda c: c["exporters"]["otlp_grpc/traces_tempo"]["sending_queue"].update(
                storage="file_storage/other"
            ),
            "exporters.otlp_grpc/traces_tempo.sending_queue.storage: extension "
            "'file_storage/other' is not enabled in service.extensions",
        ),
    ],
)
def test_each_logs_and_traces_check_rejects_its_mistake(
    with_logs: tuple[dict[str, Any], Version], change: Any, expected: str
) -> None:
    assert _problems(*with_logs) == []
    problems = _broken(with_logs, change)
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("version", "grpc", "http", "delta"),
    [
        ("0.143.0", "otlp", "otlphttp", "deltatocumulative"),
        ("0.156.0", "otlp_grpc", "otlp_http", "deltatocumulative"),
        ("0.159.0", "otlp_grpc", "otlp_http", "delta_to_cumulative"),
    ],
)
def test_logs_and_traces_components_are_named_for_the_version(
    version: str, grpc: str, http: str, delta: str
) -> None:
    _, production, specs = _reference("production")
    environment = dataclasses.replace(production, version=Version.parse(version))
    config = otel.collector_config(environment, specs)
    assert verify.schema_problems(config) == []
    assert verify.structural_problems(config, environment.version) == []
    assert {f"{grpc}/logs_siem", f"{grpc}/traces_tempo", f"{http}/logs_loki"} < set(
        config["exporters"]
    )
    assert delta in config["processors"]
    siem = config["processors"]["filter/siem"]
    assert ("log_conditions" in siem) == (environment.version >= Version(0, 146, 0))


def test_logs_and_traces_keep_the_delivery_guarantees() -> None:
    path, production, _ = _reference("production")
    config = yaml.safe_load(path.read_text())
    pipelines = config["service"]["pipelines"]
    for destination in (*production.logs, *production.traces):
        pipeline_id = f"{destination.signal}/{destination.name}"
        (exporter_id,) = pipelines[pipeline_id]["exporters"]
        exporter = config["exporters"][exporter_id]
        assert exporter["retry_on_failure"]["max_elapsed_time"] == str(destination.outage)
        queue = exporter["sending_queue"]
        assert queue["queue_size"] == destination.per_second * destination.outage.seconds
        assert queue["storage"] == "file_storage/queue" and queue["block_on_overflow"] is True
        assert queue["sizer"] == "items"
        assert "${env:" in exporter["headers"]["Authorization"]
    assert (
        config["exporters"]["otlp_grpc/logs_siem"]["sending_queue"]["queue_size"] == 20 * 12 * 3600
    )
    # Span metrics see every span: their pipeline has no sampler; Tempo's keeps a tenth.
    assert pipelines["traces"]["processors"] == ["memory_limiter"]
    assert pipelines["traces"]["exporters"] == ["span_metrics"]
    assert "probabilistic_sampler/tempo" in pipelines["traces/tempo"]["processors"]
    assert config["processors"]["probabilistic_sampler/tempo"]["sampling_percentage"] == 10
    # Every log record is counted; only the SIEM's pipeline filters.
    assert pipelines["logs"] == {
        "receivers": ["otlp"],
        "processors": ["memory_limiter"],
        "exporters": ["count"],
    }
    assert pipelines["metrics/log_counts"]["processors"] == [
        "memory_limiter",
        "deltatocumulative",
        "batch",
    ]
    assert pipelines["metrics/log_counts"]["exporters"] == pipelines["metrics"]["exporters"]
    assert "filter/siem" not in pipelines["logs/loki"]["processors"]
    condition = config["connectors"]["count"]["logs"]["tenant_isolation.violation.log_records"]
    assert condition["conditions"] == [
        'resource.attributes["service.name"] == "agent-api" and (body == '
        '"tenant_isolation.violation" or attributes["event"] == "tenant_isolation.violation")'
    ]
    assert condition["attributes"] == [{"key": "tenant", "default_value": "unknown"}]
    bounds = {b.situation: b.bound for b in otel_delivery.loss_bounds(production, True)}
    assert bounds["logs to siem, backend outage"].startswith(
        "nothing is lost for up to 12h: the persistent queue holds 864000 log records"
    )
    assert "counters made from logs" in bounds


def test_an_environment_without_destinations_has_no_logs_pipeline() -> None:
    _, staging, specs = _reference("staging")
    bare = dataclasses.replace(staging, logs=(), traces=())
    config = otel.collector_config(bare, specs)
    # Logs still arrive to be counted; nothing is exported but the counts.
    assert not [p for p in config["service"]["pipelines"] if p.startswith(("logs/", "traces/"))]
    assert "count" in config["connectors"]
    assert verify.structural_problems(config, bare.version) == []

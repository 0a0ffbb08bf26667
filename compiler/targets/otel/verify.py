"""Checks a collector config must pass, made without a collector binary.

Two layers, each returning readable problems (empty when the config is fine):

- :func:`schema_problems`: the JSON Schema ``otelcol-config-v1.schema.json`` for the subset of
  components and keys slo-compiler emits, written from the components' documented
  configuration; unknown component types and unknown keys are errors, as at collector start-up.
- :func:`structural_problems`: what the collector checks when it builds its pipelines (every
  component a pipeline names is defined, connectors join two pipelines of the right signals,
  extensions used are enabled), the settings its components reject at start-up, component
  names the collector version does not know, and this project's rules (``memory_limiter``
  first in every pipeline, nothing defined that no pipeline uses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from compiler.load.schema_check import validator
from compiler.model import otel_versions

SCHEMA = "otelcol-config-v1.schema.json"
_SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")
# Connectors by type: the signals of the pipelines they may export from, and the one they
# feed (None: the same signal, as the forward connector does).
_CONNECTOR_SIGNALS: dict[str, tuple[frozenset[str], str | None]] = {
    "span_metrics": (frozenset({"traces"}), "metrics"),
    "spanmetrics": (frozenset({"traces"}), "metrics"),
    "count": (frozenset({"traces", "metrics", "logs"}), "metrics"),
    "forward": (frozenset({"traces", "metrics", "logs"}), None),
}
# The count connector's sections, by the signal of the pipeline whose data they count.
_COUNT_SECTIONS = {
    "spans": "traces",
    "spanevents": "traces",
    "metrics": "metrics",
    "datapoints": "metrics",
    "logs": "logs",
}
# Processors that take only some signals (their READMEs' stability tables).
_PROCESSOR_SIGNALS = {
    "deltatocumulative": frozenset({"metrics"}),
    "delta_to_cumulative": frozenset({"metrics"}),
    "probabilistic_sampler": frozenset({"traces", "logs"}),
}
# Processors that drop data on purpose; this project's rule: never in front of a connector
# that counts (span metrics and counts from logs are computed from everything received).
_DROPPING = frozenset({"probabilistic_sampler", "tail_sampling", "filter"})
_COUNTING = frozenset({"span_metrics", "spanmetrics", "count"})
# Dimensions the span metrics connector always adds; configuring them again is rejected.
_SPAN_METRICS_BUILTIN = {"service.name", "span.name", "span.kind", "status.code"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def schema_problems(config: Any) -> list[str]:
    """Violations of the collector config schema, as ``path: message``."""
    problems = []
    for error in sorted(validator(SCHEMA).iter_errors(config), key=lambda e: list(e.path)):
        path = ".".join(str(part) for part in error.absolute_path) or "(top)"
        problems.append(f"{path}: {error.message}")
    return problems


def structural_problems(config: dict[str, Any], version: otel_versions.Version) -> list[str]:
    """Problems the collector (at ``version``) would report when building the pipelines."""
    return [
        *_names(config, version),
        *_pipeline_references(config),
        *_connectors(config),
        *_processor_signals(config),
        *_extensions(config),
        *_component_settings(config),
    ]


def _defined(config: dict[str, Any], section: str) -> dict[str, Any]:
    value = config.get(section) or {}
    return value if isinstance(value, dict) else {}


def _type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def _pipelines(config: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    pipelines: dict[str, dict[str, list[str]]] = config.get("service", {}).get("pipelines", {})
    return pipelines


def _names(config: dict[str, Any], version: otel_versions.Version) -> Iterator[str]:
    for section in _SECTIONS:
        for component_id in _defined(config, section):
            type_name = _type(component_id)
            alias = otel_versions.deprecated_alias(section, type_name, version)
            if alias is not None:
                yield (
                    f"{section}.{component_id}: '{type_name}' is a deprecated alias in "
                    f"{version}; use '{alias.new}' (renamed in {alias.since})"
                )
            unknown = otel_versions.unknown_name(section, type_name, version)
            if unknown is not None:
                yield (
                    f"{section}.{component_id}: collector {version} does not know "
                    f"'{type_name}' (new in {unknown.since}); use '{unknown.old}'"
                )


def _pipeline_references(config: dict[str, Any]) -> Iterator[str]:
    connectors = _defined(config, "connectors")
    used: set[tuple[str, str]] = set()
    for pipeline_id, pipeline in _pipelines(config).items():
        where = f"service.pipelines.{pipeline_id}"
        for role in ("receivers", "exporters"):
            defined = _defined(config, role)
            for component in pipeline.get(role, []):
                section = "connectors" if component in connectors else role
                used.add((section, component))
                if component not in defined and component not in connectors:
                    yield f"{where}.{role}: '{component}' is not defined under {role} or connectors"
        names = pipeline.get("processors", [])
        for component in names:
            used.add(("processors", component))
            if component not in _defined(config, "processors"):
                yield f"{where}.processors: '{component}' is not defined under processors"
            if names.count(component) > 1:
                yield f"{where}.processors: '{component}' is listed more than once"
        if not names or _type(names[0]) != "memory_limiter":
            yield f"{where}.processors: memory_limiter must come first"
    for section in ("receivers", "processors", "exporters", "connectors"):
        for component_id in _defined(config, section):
            if (section, component_id) not in used:
                yield f"{section}.{component_id}: defined but used by no pipeline"


def _connectors(config: dict[str, Any]) -> Iterator[str]:
    pipelines = _pipelines(config)
    for connector in _defined(config, "connectors"):
        exported_by = [p for p, spec in pipelines.items() if connector in spec.get("exporters", [])]
        received_by = [p for p, spec in pipelines.items() if connector in spec.get("receivers", [])]
        where = f"connectors.{connector}"
        if not exported_by or not received_by:
            yield f"{where}: must be the exporter of one pipeline and the receiver of another"
            continue
        signals = _CONNECTOR_SIGNALS.get(_type(connector))
        if signals is None:
            continue
        sources, target = signals
        for pipeline_id in exported_by:
            if _signal(pipeline_id) not in sources:
                allowed = ", ".join(sorted(sources))
                yield f"{where}: exports from {allowed} pipelines only, not {pipeline_id}"
        for pipeline_id in received_by:
            wanted = {target} if target else {_signal(p) for p in exported_by}
            if _signal(pipeline_id) not in wanted:
                shown = target or "the same signal's"
                yield f"{where}: feeds {shown} pipelines only, not {pipeline_id}"
        yield from _counting_connector(config, connector, exported_by)


def _counting_connector(
    config: dict[str, Any], connector: str, exported_by: list[str]
) -> Iterator[str]:
    """A count connector counts only signals exported to it; nothing in front of a counting
    connector drops data."""
    where = f"connectors.{connector}"
    if _type(connector) == "count":
        settings = _defined(config, "connectors")[connector] or {}
        exported = {_signal(p) for p in exported_by}
        for section in settings:
            signal = _COUNT_SECTIONS.get(section)
            if signal is not None and signal not in exported:
                yield f"{where}.{section}: counts {signal}, and no {signal} pipeline feeds it"
    if _type(connector) in _COUNTING:
        for pipeline_id in exported_by:
            for processor in _pipelines(config)[pipeline_id].get("processors", []):
                if _type(processor) in _DROPPING:
                    yield (
                        f"service.pipelines.{pipeline_id}: '{processor}' drops data before "
                        f"'{connector}', which must count everything received"
                    )


def _signal(pipeline_id: str) -> str:
    return pipeline_id.split("/")[0]


def _processor_signals(config: dict[str, Any]) -> Iterator[str]:
    """Processors in pipelines of a signal they do not take."""
    for pipeline_id, pipeline in _pipelines(config).items():
        for processor in pipeline.get("processors", []):
            signals = _PROCESSOR_SIGNALS.get(_type(processor))
            if signals is not None and _signal(pipeline_id) not in signals:
                yield (
                    f"service.pipelines.{pipeline_id}.processors: '{processor}' takes "
                    f"{', '.join(sorted(signals))} only"
                )
        settings = [
            _defined(config, "processors").get(p) or {} for p in pipeline.get("processors", [])
        ]
        for processor, values in zip(pipeline.get("processors", []), settings, strict=True):
            for key, signal in (("log_conditions", "logs"), ("metric_conditions", "metrics")):
                if key in values and _signal(pipeline_id) != signal:
                    yield (
                        f"service.pipelines.{pipeline_id}.processors: '{processor}' filters "
                        f"{signal} only ({key})"
                    )


def _extension_references(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, extension id) for every extension a component refers to."""
    for section in ("receivers", "exporters"):
        for component_id, settings in _defined(config, section).items():
            for path, value in _walk(settings, f"{section}.{component_id}"):
                if path.endswith((".auth.authenticator", ".sending_queue.storage")):
                    yield path, value


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, f"{path}[{index}]")
    else:
        yield path, value


def _extensions(config: dict[str, Any]) -> Iterator[str]:
    defined = _defined(config, "extensions")
    enabled = config.get("service", {}).get("extensions", [])
    for extension in enabled:
        if extension not in defined:
            yield f"service.extensions: '{extension}' is not defined under extensions"
    for extension in defined:
        if extension not in enabled:
            yield f"extensions.{extension}: defined but not enabled in service.extensions"
    for path, extension in _extension_references(config):
        if extension not in enabled:
            yield f"{path}: extension '{extension}' is not enabled in service.extensions"
        elif path.endswith(".sending_queue.storage") and _type(extension) != "file_storage":
            yield f"{path}: '{extension}' is not a storage extension"


def _component_settings(config: dict[str, Any]) -> Iterator[str]:
    """Settings the components' own Validate() rejects at start-up."""
    for component_id, settings in _defined(config, "processors").items():
        where = f"processors.{component_id}"
        if _type(component_id) == "memory_limiter":
            for limit, spike in (
                ("limit_mib", "spike_limit_mib"),
                ("limit_percentage", "spike_limit_percentage"),
            ):
                if spike in settings and settings[spike] >= settings.get(limit, 0):
                    yield f"{where}.{spike}: must be below {limit}"
            if _seconds(settings.get("check_interval", "0")) <= 0:
                yield f"{where}.check_interval: must be above 0"
        if _type(component_id) == "batch":
            size, most = (
                settings.get("send_batch_size", 8192),
                settings.get("send_batch_max_size", 0),
            )
            if most and most < size:
                yield f"{where}.send_batch_max_size: must be at least send_batch_size"
    for component_id, settings in _defined(config, "exporters").items():
        retry = settings.get("retry_on_failure", {})
        elapsed = _seconds(retry.get("max_elapsed_time", "5m"))
        for key, default in (("initial_interval", "5s"), ("max_interval", "30s")):
            if (
                retry.get("enabled", True)
                and elapsed
                and elapsed < _seconds(retry.get(key, default))
            ):
                yield f"exporters.{component_id}.retry_on_failure: max_elapsed_time below {key}"
        if _type(component_id) in ("prometheus_remote_write", "prometheusremotewrite"):
            queue = settings.get("remote_write_queue", {})
            if queue.get("enabled", True) and queue.get("queue_size", 10000) == 0:
                yield f"exporters.{component_id}.remote_write_queue.queue_size: must be above 0"
    for component_id, settings in _defined(config, "connectors").items():
        if _type(component_id) == "count":
            yield from _count_settings(component_id, settings or {})
            continue
        names = [d.get("name") for d in settings.get("dimensions", [])]
        for name in names:
            if name in _SPAN_METRICS_BUILTIN:
                yield f"connectors.{component_id}.dimensions: '{name}' is a default dimension"
            if names.count(name) > 1:
                yield f"connectors.{component_id}.dimensions: '{name}' is listed twice"


def _count_settings(component_id: str, settings: dict[str, Any]) -> Iterator[str]:
    """What the count connector's Validate() rejects: a custom count without a name, an
    attribute without a key or listed twice."""
    for section, metrics in settings.items():
        for name, metric in (metrics or {}).items():
            where = f"connectors.{component_id}.{section}.{name}"
            if not name:
                yield f"connectors.{component_id}.{section}: a metric needs a name"
            keys = [a.get("key") for a in (metric or {}).get("attributes", [])]
            for key in keys:
                if keys.count(key) > 1:
                    yield f"{where}.attributes: '{key}' is listed twice"


def _seconds(duration: str) -> float:
    """A Go duration in seconds (0 for ``0``)."""
    return sum(float(n) * _SECONDS[unit] for n, unit in _DURATION.findall(str(duration)))

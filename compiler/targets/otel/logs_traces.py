"""Logs and traces in a collector config: where they go, and the counters made from logs.

Every OTLP destination of an environment gets its own pipeline (``logs/<name>``,
``traces/<name>``) fed by the OTLP receiver, ending in an exporter with the persistent queue
of metrics delivery. The plain ``logs`` pipeline feeds the ``count`` connector, whose
counters reach the metrics exporter through ``metrics/log_counts`` (the connector emits
deltas; ``deltatocumulative`` makes the cumulative counters Prometheus takes); the plain
``traces`` pipeline feeds the span metrics connector. Those two see every record and span:
a destination's filter (only some events to a SIEM) or sampler (a share of traces) sits in
its own pipeline, after the fork at the receiver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.model import otel_versions
from compiler.model.environment import HTTP, LOGS, Destination, Environment
from compiler.model.log_metrics import EVENT_ATTRIBUTE, MISSING_ATTRIBUTE, LogCount
from compiler.model.service import SpecSet
from compiler.targets.otel import delivery as otel_delivery
from compiler.targets.otel import settings as otel_settings
from compiler.targets.otel.settings import Config, literal, ottl, spelled

COUNT = "count"
DELTA_TO_CUMULATIVE = "delta_to_cumulative"  # current name; spelled per version
LOG_COUNTS_PIPELINE = "metrics/log_counts"
# How long the processor keeps a counter without new records before forgetting it (its
# default); the next record starts it again at its own count (docs/otel.md).
DELTA_MAX_STALE = "5m"
OTLP_RECEIVER = "otlp"


@dataclass
class Parts:
    """Components and pipelines the logs and traces add to a config."""

    processors: Config = field(default_factory=dict)
    connectors: Config = field(default_factory=dict)
    exporters: Config = field(default_factory=dict)
    pipelines: Config = field(default_factory=dict)


def log_counts(environment: Environment, specs: SpecSet) -> list[tuple[LogCount, tuple[str, ...]]]:
    """(counter, labels) for every counter made from the logs of a service sending OTLP here."""
    return [
        (metric.from_logs, metric.labels)
        for spec in specs.services
        if spec.service.name in environment.otlp_services
        for metric in spec.metrics
        if metric.from_logs is not None
    ]


def parts(
    environment: Environment,
    specs: SpecSet,
    memory_limiter: str,
    batch: str,
    metrics_exporter: str,
) -> Parts:
    """The logs and traces components of ``environment``'s config.

    ``memory_limiter`` and ``batch`` are processors the caller defines; ``metrics_exporter``
    is the exporter of metrics delivery, which the counters made from logs go through.
    """
    found = Parts()
    counts = log_counts(environment, specs)
    if counts:
        count = spelled("connectors", COUNT, environment)
        delta = spelled("processors", DELTA_TO_CUMULATIVE, environment)
        found.connectors[count] = {LOGS: _count_metrics(counts)}
        found.processors[delta] = {"max_stale": DELTA_MAX_STALE}
        found.pipelines[LOGS] = {
            "receivers": [OTLP_RECEIVER],
            "processors": [memory_limiter],
            "exporters": [count],
        }
        found.pipelines[LOG_COUNTS_PIPELINE] = {
            "receivers": [count],
            "processors": [memory_limiter, delta, batch],
            "exporters": [metrics_exporter],
        }
    for destination in (*environment.logs, *environment.traces):
        selecting = _selecting(environment, destination)
        if selecting is not None:
            found.processors.update([selecting])
        exporter = _exporter_id(environment, destination)
        found.exporters[exporter] = _exporter(destination)
        found.pipelines[f"{destination.signal}/{destination.name}"] = {
            "receivers": [OTLP_RECEIVER],
            "processors": [
                memory_limiter,
                *([selecting[0]] if selecting is not None else []),
                batch,
            ],
            "exporters": [exporter],
        }
    return found


def event_condition(events: tuple[str, ...]) -> str:
    """OTTL (log context) true for a record of one of ``events``: its body is the event name,
    or its ``event`` attribute is (structlog's two renderings; docs/otel.md)."""
    attribute = f"attributes[{ottl(EVENT_ATTRIBUTE)}]"
    tests = [f"{path} == {ottl(event)}" for event in events for path in ("body", attribute)]
    return " or ".join(tests)


def _count_metrics(counts: list[tuple[LogCount, tuple[str, ...]]]) -> Config:
    metrics: Config = {}
    for count, labels in sorted(counts, key=lambda item: item[0].name):
        service = f"resource.attributes[{ottl('service.name')}] == {ottl(count.service)}"
        settings: Config = {
            "conditions": [f"{service} and ({event_condition(count.events)})"],
        }
        if count.description:
            settings = {"description": count.description} | settings
        if labels:
            # A record without one of the attributes is counted all the same (the connector
            # skips it otherwise): an event must never go unnoticed for a missing label.
            settings["attributes"] = [
                {"key": label, "default_value": MISSING_ATTRIBUTE} for label in labels
            ]
        metrics[count.name] = settings
    return metrics


def _selecting(environment: Environment, destination: Destination) -> tuple[str, Config] | None:
    """The filter (logs: only some events) or sampler (traces) of one destination, if any."""
    if destination.events:
        component = f"filter/{destination.name}"
        drop = f"not ({event_condition(destination.events)})"
        if environment.version >= otel_versions.FILTER_CONDITIONS_SINCE:
            return component, {"error_mode": "ignore", "log_conditions": [drop]}
        return component, {"error_mode": "ignore", "logs": {"log_record": [drop]}}
    if destination.sampling_percentage is not None:
        return f"probabilistic_sampler/{destination.name}", {
            "mode": "proportional",
            "sampling_percentage": float(destination.sampling_percentage),
        }
    return None


def _exporter_id(environment: Environment, destination: Destination) -> str:
    kind = "otlp_http" if destination.protocol == HTTP else "otlp_grpc"
    return spelled("exporters", f"{kind}/{destination.signal}_{destination.name}", environment)


def _exporter(destination: Destination) -> Config:
    endpoint = literal(destination.endpoint)
    settings: Config = {}
    full = f"/v1/{destination.signal}"
    if destination.protocol == HTTP and endpoint.rstrip("/").endswith(full):
        settings[f"{destination.signal}_endpoint"] = endpoint  # otherwise the path is appended
    else:
        settings["endpoint"] = endpoint
    headers = otel_settings.headers(destination.auth, destination.headers)
    if headers:
        settings["headers"] = headers
    queue = otel_delivery.destination_queue_items(destination)
    return settings | otel_settings.persistent_queue(destination.outage, queue)

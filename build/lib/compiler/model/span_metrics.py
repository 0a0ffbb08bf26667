"""Spans an SLI counts, and what the span metrics connector names their metrics.

The connector (``span_metrics``, ``spanmetrics`` before v0.152) counts spans and records their
durations per service, span name, kind and status. Through remote write or Prometheus's OTLP
endpoint its metrics arrive as ``traces_span_metrics_calls_total`` and
``traces_span_metrics_duration_<unit>_bucket|_count|_sum`` with the labels ``service_name``,
``span_name``, ``span_kind``, ``status_code``, plus ``collector_instance_id`` (one series per
collector replica) and ``job``/``instance``. A spans SLI is turned into an ordinary ratio or
latency SLI over those names; the rules' ``sum by (group_by)`` aggregates the per-collector
labels away.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from compiler.promql import Matcher

# Connector settings the generated configs pin (they are also its defaults in v0.156.0).
NAMESPACE = "traces.span.metrics"


DEFAULT_UNIT = "ms"  # the connector's default; a feature gate may make it `s`, so it is pinned


# The connector's default buckets (its README), in seconds.
_DEFAULT_BUCKET_TEXT = "0.002 0.004 0.006 0.008 0.01 0.05 0.1 0.2 0.4 0.8 1 1.4 2 5 10 15"


DEFAULT_BUCKETS = tuple(Decimal(bound) for bound in _DEFAULT_BUCKET_TEXT.split(" "))


# Labels every span metric carries (connector dimensions service.name, span.name, span.kind,
# status.code), and the per-collector one the rules must aggregate away.
SERVICE_LABEL = "service_name"


SPAN_NAME_LABEL = "span_name"


SPAN_KIND_LABEL = "span_kind"


STATUS_LABEL = "status_code"


ROUTE_LABEL = "http_route"


ROUTE_ATTRIBUTE = "http.route"


BUILTIN_LABELS = frozenset({SERVICE_LABEL, SPAN_NAME_LABEL, SPAN_KIND_LABEL, STATUS_LABEL})


PER_COLLECTOR_LABELS = frozenset({"collector_instance_id"})


ERROR_STATUS = "STATUS_CODE_ERROR"


_UNIT_WORDS = {"ms": "milliseconds", "s": "seconds"}


_PER_SECOND = {"ms": Decimal(1000), "s": Decimal(1)}


def prometheus_prefix() -> str:
    """``traces_span_metrics``: the namespace as Prometheus spells it."""
    return NAMESPACE.replace(".", "_")


def calls_metric() -> str:
    """The span counter in Prometheus."""
    return f"{prometheus_prefix()}_calls_total"


def duration_metric(unit: str) -> str:
    """The duration histogram's base name in Prometheus for the connector's ``unit``."""
    return f"{prometheus_prefix()}_duration_{_UNIT_WORDS[unit]}"


def in_unit(seconds: Decimal, unit: str) -> Decimal:
    """A duration in seconds expressed in the connector's ``unit`` (exact)."""
    return (seconds * _PER_SECOND[unit]).normalize()


def as_collector_duration(seconds: Decimal) -> str:
    """A bucket bound as the collector writes durations: ``5ms``, ``1s``, ``2500ms``."""
    millis = seconds * 1000
    if seconds == seconds.to_integral_value():
        return f"{int(seconds)}s"
    if millis == millis.to_integral_value():
        return f"{int(millis)}ms"
    micros = millis * 1000
    if micros == micros.to_integral_value():
        return f"{int(micros)}us"
    raise ValueError(f"{seconds} s is finer than a microsecond")


@dataclass(frozen=True)
class SpanSelection:
    """Which spans an SLI counts, and the latency threshold if it is a latency SLI."""

    service: str  # the spans' service.name
    kind: str = "SERVER"
    span_name: str | None = None
    route: str | None = None
    threshold_seconds: Decimal | None = None

    def matchers(self) -> tuple[Matcher, ...]:
        """Label matchers on the connector's metrics for these spans."""
        found = [
            Matcher(SERVICE_LABEL, "=", self.service),
            Matcher(SPAN_KIND_LABEL, "=", f"SPAN_KIND_{self.kind}"),
        ]
        if self.span_name is not None:
            found.append(Matcher(SPAN_NAME_LABEL, "=", self.span_name))
        if self.route is not None:
            found.append(Matcher(ROUTE_LABEL, "=", self.route))
        return tuple(found)


def buckets(configured: Iterable[Decimal] | None, thresholds: Iterable[Decimal]) -> list[Decimal]:
    """Bucket bounds in seconds: the configured ones (or the defaults) plus every threshold."""
    base = DEFAULT_BUCKETS if configured is None else tuple(configured)
    return sorted({*base, *thresholds})

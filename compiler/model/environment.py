"""Environments: where the platform's telemetry goes, as the collector config target reads it.

An environment (``production``, ``staging``) names the backend the collector delivers metrics
to, how (Prometheus remote write with its write-ahead log, or OTLP/HTTP with a persistent
queue), where logs and traces go (OTLP destinations with the same persistent queue), the
collector release, and which services send or are scraped. Loss bounds are computed from the
values here; see :mod:`compiler.targets.otel.delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from compiler.diagnostics import Location
from compiler.durations import Duration
from compiler.load.loader import Document, PathKey
from compiler.model.otel_versions import Version

REMOTE_WRITE = "remote_write"
OTLP_HTTP = "otlp_http"

# The telemetry pipeline name (service.telemetry) a collector implements unless told otherwise.
DEFAULT_PIPELINE = "otel-collector"

# How the collector's own metrics reach the backend.
SCRAPED_BY_BACKEND = "scraped_by_backend"  # the backend scrapes the collector's :8888
THROUGH_PIPELINE = "through_pipeline"  # the collector scrapes itself into its own pipeline


@dataclass(frozen=True)
class MemoryLimit:
    """memory_limiter settings: a hard limit in MiB or in percent of the container's memory."""

    limit_mib: int | None = None
    spike_limit_mib: int | None = None
    limit_percentage: int | None = None
    spike_limit_percentage: int | None = None
    check_interval: str = "1s"


@dataclass(frozen=True)
class Auth:
    """An auth header whose secret comes from the collector's environment at start-up."""

    token: str  # an environment reference such as ${env:PROM_TOKEN}, never the secret
    header: str = "Authorization"
    scheme: str = "Bearer"

    @property
    def value(self) -> str:
        """The header value the collector sends, still holding the reference."""
        return f"{self.scheme} {self.token}" if self.scheme else self.token


@dataclass(frozen=True)
class Delivery:
    """How metrics reach the backend, and what it must ride out without loss."""

    mode: str  # REMOTE_WRITE or OTLP_HTTP
    endpoint: str
    outage: Duration  # longest backend outage to survive without loss
    points_per_second: int  # expected peak ingest (sizes the queue, states disk use)
    auth: Auth | None = None
    headers: tuple[tuple[str, str], ...] = ()


# Logs and traces go to their backends by OTLP over gRPC or HTTP.
GRPC = "grpc"
HTTP = "http"
LOGS = "logs"
TRACES = "traces"


@dataclass(frozen=True)
class Destination:
    """A backend one signal (logs or traces) goes to by OTLP, and what it must ride out.

    The same guarantees as metrics delivery: a persistent queue sized from ``outage`` at
    ``per_second`` items (log records or spans), retries for the whole outage.
    """

    signal: str  # LOGS or TRACES
    name: str  # names the exporter and the pipeline (otlp_grpc/<name>, logs/<name>)
    protocol: str  # GRPC or HTTP
    endpoint: str
    outage: Duration
    per_second: int  # expected peak of log records or spans per second
    auth: Auth | None = None
    headers: tuple[tuple[str, str], ...] = ()
    # Logs: only records of these events go here (empty: all records).
    events: tuple[str, ...] = ()
    # Traces: the share of traces kept, by trace ID (None: all).
    sampling_percentage: Decimal | None = None

    @property
    def unit(self) -> str:
        """What the queue counts, as the loss bounds say it."""
        return "log records" if self.signal == LOGS else "spans"


@dataclass(frozen=True)
class ScrapeJob:
    """A service the collector scrapes."""

    service: str
    job: str
    targets: tuple[str, ...]
    interval: Duration
    metrics_path: str = "/metrics"
    scheme: str = "http"


DEFAULT_FLUSH_INTERVAL = Duration(15)  # the connector's own default is 60s: too coarse for 5m rates


@dataclass(frozen=True)
class SpanMetricsSettings:
    """The span metrics connector's unit, buckets (seconds) and flush interval."""

    unit: str = "ms"
    buckets: tuple[Decimal, ...] | None = None  # None: the connector's defaults
    flush_interval: Duration = DEFAULT_FLUSH_INTERVAL


@dataclass(frozen=True)
class Environment:
    """One deployment of the collector and the backend it writes to."""

    name: str
    version: Version
    memory: MemoryLimit
    persistence_directory: str
    delivery: Delivery
    source: str
    description: str = ""
    self_metrics: str = SCRAPED_BY_BACKEND
    pipeline: str = DEFAULT_PIPELINE  # the telemetry pipeline (service.telemetry) it implements
    otlp_services: tuple[str, ...] = ()
    scrape: tuple[ScrapeJob, ...] = ()
    # Prometheus label ← attribute it comes from (resource or datapoint attribute).
    labels: tuple[tuple[str, str], ...] = ()
    span_metrics: SpanMetricsSettings = SpanMetricsSettings()
    logs: tuple[Destination, ...] = ()
    traces: tuple[Destination, ...] = ()
    drop_unused_series: bool = False
    document: Document | None = field(default=None, compare=False, repr=False)

    def locate(self, path: PathKey) -> Location:
        """Where a field of this environment was written (for cross-file diagnostics)."""
        if self.document is None:
            return Location(self.source)
        return self.document.locate(path)

    @property
    def location(self) -> Location:
        """Where the environment's name was written."""
        return self.locate(("environment", "name"))

    @property
    def services(self) -> frozenset[str]:
        """Every service whose telemetry passes through this environment's collector."""
        return frozenset(self.otlp_services) | {job.service for job in self.scrape}

"""Delivery settings of each mode, and the loss bounds they imply, computed from one place.

The collector config target writes these settings, and the same numbers are stated in each
generated file's header and in docs/otel.md, so what the config does and what it promises
cannot drift apart. Sources for every behaviour described here are listed in docs/otel.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.durations import Duration
from compiler.model.environment import LOGS, OTLP_HTTP, REMOTE_WRITE, Destination, Environment

# Batch processor: the only in-memory buffer in front of the exporter.
BATCH_SIZE = 8192  # send_batch_size and send_batch_max_size: one request holds at most this
BATCH_TIMEOUT = "200ms"

# OTLP/HTTP: one consumer sends the persistent queue in order (backends reject out-of-order
# samples), retrying each request with backoff until the environment's outage has passed.
OTLP_INITIAL_INTERVAL = "5s"
OTLP_MAX_INTERVAL = "30s"
OTLP_CONSUMERS = 1
OTLP_TIMEOUT = "30s"

# Remote write: every batch goes to the write-ahead log first; a background reader sends it.
# One attempt retries for PRW_ATTEMPT, then the WAL reader starts again from the oldest entry
# not yet sent. The exporter stops retrying at its `timeout` too, hence 30s instead of 5s.
PRW_TIMEOUT = "30s"
PRW_INITIAL_INTERVAL = "1s"
PRW_MAX_INTERVAL = "30s"
PRW_ATTEMPT = "5m"
WAL_BUFFER_SIZE = 100  # entries (requests) read before a send
WAL_TRUNCATE_FREQUENCY = "10s"  # at most this long between sends: the delivery delay it adds


@dataclass(frozen=True)
class LossBound:
    """What happens to data in one situation."""

    situation: str
    bound: str


def queue_points(environment: Environment) -> int:
    """Persistent queue size in data points: the outage at the expected peak rate."""
    delivery = environment.delivery
    return delivery.points_per_second * delivery.outage.seconds


def destination_queue_items(destination: Destination) -> int:
    """A log or trace destination's persistent queue in items: its outage at its peak rate."""
    return destination.per_second * destination.outage.seconds


def loss_bounds(environment: Environment, log_counts: bool = False) -> list[LossBound]:
    """The environment's loss bounds for a backend outage, a restart and a full queue, for
    metrics and then for each log and trace destination (``log_counts``: counters are made
    from log records)."""
    if environment.delivery.mode == OTLP_HTTP:
        bounds = _otlp_bounds(environment)
    else:
        assert environment.delivery.mode == REMOTE_WRITE
        bounds = _remote_write_bounds(environment)
    for destination in (*environment.logs, *environment.traces):
        bounds.extend(_destination_bounds(destination))
    if log_counts:
        bounds.append(_log_count_bound())
    return bounds


def _destination_bounds(destination: Destination) -> list[LossBound]:
    where = f"{destination.signal} to {destination.name}"
    outage, unit = destination.outage, destination.unit
    failed = "log_records" if destination.signal == LOGS else "spans"
    fed = "the counters made from logs" if destination.signal == LOGS else "span metrics"
    bounds = [
        LossBound(
            f"{where}, backend outage",
            f"nothing is lost for up to {outage}: the persistent queue holds "
            f"{destination_queue_items(destination)} {unit} ({outage} at "
            f"{destination.per_second} {unit}/s) and each request is retried for up to "
            f"{outage}. Longer outages drop the oldest requests first (counted in "
            f"otelcol_exporter_send_failed_{failed})",
        ),
        LossBound(
            f"{where}, full queue",
            "block_on_overflow makes the collector push back on OTLP senders instead of "
            f"dropping; they retry from their own buffers. The other {destination.signal} "
            f"pipelines share the OTLP receiver and wait with it: {fed} arrive late, not "
            "incomplete. A disk that cannot take more fails the enqueue (counted in "
            f"otelcol_exporter_enqueue_failed_{failed}). A restart keeps the queue on disk",
        ),
    ]
    if destination.events:
        bounds.append(
            LossBound(
                f"{where}, by design",
                f"only records of the events {', '.join(destination.events)} are sent",
            )
        )
    if destination.sampling_percentage is not None:
        bounds.append(
            LossBound(
                f"{where}, by design",
                f"{destination.sampling_percentage}% of traces are kept (by trace ID: all "
                "spans of a trace or none); span metrics count every span, their pipeline "
                "does not pass the sampler",
            )
        )
    return bounds


def _log_count_bound() -> LossBound:
    return LossBound(
        "counters made from logs",
        "the count connector emits each batch's counts, cumulated in memory "
        "(deltatocumulative): a collector restart, or 5m without a record of a series "
        "(max_stale), starts a series again at the next record's count, which the "
        "new_events rules read as new events. A series has samples only when records arrive",
    )


def _common_restart_loss(environment: Environment) -> str:
    flush = environment.span_metrics.flush_interval
    return (
        f"lost: at most {BATCH_SIZE} points or {BATCH_TIMEOUT} of data held by the batch "
        f"processor, and spans counted since the span metrics connector's last flush "
        f"(at most {flush}; its counters restart and rate() absorbs the reset). While the "
        "collector is down, scrapes are missed (gaps; counters catch up) and OTLP senders "
        "retry from their own buffers"
    )


def _backend_acceptance(outage: Duration) -> str:
    return (
        f"The backend must accept samples {outage} old after it recovers (Prometheus: "
        f"storage.tsdb.out_of_order_time_window >= {outage}; Mimir: out_of_order_time_window)"
    )


def _otlp_bounds(environment: Environment) -> list[LossBound]:
    delivery = environment.delivery
    outage = delivery.outage
    points = queue_points(environment)
    return [
        LossBound(
            "backend outage",
            f"nothing is lost for up to {outage}: the persistent queue holds {points} points "
            f"({outage} at {delivery.points_per_second} points/s) and each request is retried "
            f"for up to {outage} (retry_on_failure.max_elapsed_time). Longer outages drop the "
            f"oldest requests first. {_backend_acceptance(outage)}, otherwise it rejects the "
            "replayed samples (HTTP 400, not retried, counted in "
            "otelcol_exporter_send_failed_metric_points)",
        ),
        LossBound(
            "collector restart",
            f"the queue on disk ({environment.persistence_directory}) survives and is sent "
            f"after the restart (at least once: a request in flight may be sent twice); "
            f"{_common_restart_loss(environment)}",
        ),
        LossBound(
            "full queue",
            f"at {delivery.points_per_second} points/s the queue fills after {outage} without "
            "delivery; block_on_overflow then makes the collector push back instead of "
            "dropping: OTLP senders get errors and retry from their own buffers, scrapes are "
            "delayed or missed. A disk that cannot take more data fails the enqueue (counted "
            "in otelcol_exporter_enqueue_failed_metric_points)",
        ),
    ]


def _remote_write_bounds(environment: Environment) -> list[LossBound]:
    delivery = environment.delivery
    outage = delivery.outage
    wal = f"{environment.persistence_directory}/prom_remotewrite"
    return [
        LossBound(
            "backend outage",
            f"batches are written to the write-ahead log ({wal}) and retried without a time "
            f"limit: each attempt lasts up to {PRW_ATTEMPT}, then the WAL reader starts again "
            "from the oldest entry not yet sent. The WAL has no size limit: an outage of "
            f"{outage} at {delivery.points_per_second} points/s leaves "
            f"{queue_points(environment)} points on disk. {_backend_acceptance(outage)}; a "
            "batch the backend rejects (HTTP 4xx) is retried forever and stalls the WAL. "
            "Best effort: the exporter's WAL has open bugs (see docs/otel.md)",
        ),
        LossBound(
            "collector restart",
            f"the WAL survives and is sent after the restart (at least once); "
            f"{_common_restart_loss(environment)}. Sending lags the WAL by up to "
            f"{WAL_TRUNCATE_FREQUENCY} (wal.truncate_frequency)",
        ),
        LossBound(
            "full queue",
            "there is no in-memory queue (remote_write_queue is off, the WAL is the queue); "
            "when the disk cannot take more, the WAL write fails and the batch is dropped "
            "(counted in otelcol_exporter_send_failed_metric_points)",
        ),
    ]

"""Counters the collector makes from log records (the contrib ``count`` connector).

A service declares such a counter in its metric catalog with ``from_logs``: the OpenTelemetry
name the connector emits, and the log events it counts. Every environment that receives the
service's OTLP counts them, so the rules read one Prometheus name everywhere.

The event name is assumed to arrive as structlog writes it: the record's body, or its
``event`` attribute (structlog's key) when the record is rendered into attributes. That is an
assumption about the platform's logs, to be confirmed (docs/otel.md, Logs and traces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The log record attribute that may carry the event name (structlog's key), besides the body.
EVENT_ATTRIBUTE = "event"
# The value a label takes when a counted record lacks the attribute: the record is counted all
# the same (the connector would skip it otherwise).
MISSING_ATTRIBUTE = "unknown"


@dataclass(frozen=True)
class LogCount:
    """Log records of ``service`` whose event is one of ``events``, counted as ``name``."""

    name: str  # the OpenTelemetry metric name the count connector emits
    service: str  # the service.name resource attribute of the records
    events: tuple[str, ...]
    description: str = ""


def prometheus_name(otel_name: str) -> str:
    """The counter's name in Prometheus, after remote write's or the OTLP endpoint's translation.

    The connector emits a unitless monotonic sum. The translation (the same one that turns
    ``traces.span.metrics.calls`` into ``traces_span_metrics_calls_total``) splits the name at
    every character other than a letter or digit, joins the words with ``_`` and appends
    ``total`` unless it is already the last word:
    ``kill_switch.disabled.log_records`` → ``kill_switch_disabled_log_records_total``.
    """
    words = [word for word in re.split(r"[^a-zA-Z0-9]+", otel_name) if word]
    if not words or words[-1] != "total":
        words.append("total")
    return "_".join(words)

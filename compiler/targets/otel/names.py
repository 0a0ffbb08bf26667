"""Metric names on both sides of the collector: before translation, and in Prometheus.

Rules read Prometheus names (``http_server_request_duration_seconds_bucket``). Inside the
collector, where a filter processor runs, the same metric may be called
``http.server.request.duration`` (OTLP, unit ``s``), ``http_server_request_duration_seconds``
(scraped), or carry its ``_total``. Remote write and Prometheus's OTLP endpoint translate by
replacing other characters with ``_`` and appending unit and type suffixes, so a name's
pre-translation spellings are matched by a pattern with ``[._]`` for each ``_`` and those
suffixes optional.

The collector's own metrics (``otelcol_*``): counters carry ``_total`` on the telemetry
endpoint unless the reader sets ``without_type_suffix`` (the collector's default reader does;
the generated one does not), and translation appends it when the collector scrapes itself and
sends them on. Rules match both spellings, so either reader works.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Unit words the Prometheus translation appends (the common ones; others stay literal parts).
UNIT_WORDS = frozenset(
    {
        "seconds",
        "milliseconds",
        "microseconds",
        "nanoseconds",
        "minutes",
        "hours",
        "days",
        "bytes",
        "kilobytes",
        "megabytes",
        "ratio",
        "percent",
        "celsius",
        "hertz",
        "meters",
        "volts",
        "amperes",
        "joules",
        "grams",
    }
)
# Suffixes of a histogram's series and a counter's type suffix.
HISTOGRAM_SUFFIXES = ("bucket", "count", "sum")
COUNTER_SUFFIX = "total"

# The collector's own metrics the generated signals read (core exporterhelper, receiverhelper
# and processor documentation.md), by kind. Counters appear with and without `_total`.
SELF_COUNTERS = frozenset(
    {
        "otelcol_exporter_sent_metric_points",
        "otelcol_exporter_send_failed_metric_points",
        "otelcol_exporter_enqueue_failed_metric_points",
        "otelcol_receiver_accepted_metric_points",
        "otelcol_receiver_refused_metric_points",
        "otelcol_receiver_failed_metric_points",
        "otelcol_processor_incoming_items",
        "otelcol_processor_outgoing_items",
        "otelcol_exporter_sent_spans",
        "otelcol_exporter_send_failed_spans",
        "otelcol_exporter_enqueue_failed_spans",
        "otelcol_receiver_accepted_spans",
        "otelcol_receiver_refused_spans",
        "otelcol_exporter_send_failed_log_records",
        "otelcol_exporter_enqueue_failed_log_records",
        "otelcol_receiver_refused_log_records",
        "otelcol_process_uptime",
    }
)
SELF_GAUGES = frozenset(
    {
        "otelcol_exporter_queue_size",
        "otelcol_exporter_queue_capacity",
        "otelcol_process_memory_rss",
        "otelcol_process_runtime_heap_alloc_bytes",
    }
)
SELF_PREFIX = "otelcol_"
_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def self_metric_names(with_total: bool) -> frozenset[str]:
    """The collector's own metrics in Prometheus, counters with or without ``_total``."""
    counters = {f"{n}_{COUNTER_SUFFIX}" if with_total else n for n in SELF_COUNTERS}
    return frozenset(counters | SELF_GAUGES)


def pre_translation_pattern(name: str) -> str:
    """A regular expression (RE2 and Python alike) for a Prometheus name's other spellings.

    ``agent_requests_total`` → ``agent[._]requests(?:[._]total)?``: trailing histogram,
    type and unit suffixes become optional, each ``_`` matches ``.`` too. A histogram's
    series share one pattern (``x_bucket`` and ``x_count`` both end in any of its suffixes).
    """
    words = name.split("_")
    optional: list[str] = []
    if len(words) > 1 and words[-1] in HISTOGRAM_SUFFIXES:
        words.pop()
        optional.append(f"(?:[._](?:{'|'.join(HISTOGRAM_SUFFIXES)}))?")
    for group in ((COUNTER_SUFFIX,), UNIT_WORDS):
        if len(words) > 1 and words[-1] in group:
            optional.insert(0, f"(?:[._]{words.pop()})?")
    # Metric names hold only [a-zA-Z0-9_:]: the pattern needs no escapes (an OTTL string
    # would have to double every backslash).
    return "[._]".join(words) + "".join(optional)


def keep_pattern(names: Iterable[str]) -> str:
    """One anchored alternation matching every spelling of every name in ``names``."""
    for name in names:
        if not _NAME.match(name):
            raise ValueError(f"not a Prometheus metric name: {name!r}")
    patterns = {pre_translation_pattern(n) for n in names}
    # A counter read in both spellings (``x`` and ``x_total``) needs only the pattern of the
    # second, which matches the first too: the collector's own counters are all read so.
    patterns -= {p for p in patterns if f"{p}(?:[._]{COUNTER_SUFFIX})?" in patterns}
    return "^(?:" + "|".join(_factored(patterns)) + ")$"


def _factored(patterns: set[str]) -> list[str]:
    """The alternatives with their first word factored out (``otelcol[._](?:a|b)``): the
    pattern stays short enough to be written as one plain YAML scalar."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for pattern in sorted(patterns):
        head, separator, rest = pattern.partition("[._]")
        groups.setdefault((head, bool(separator)), []).append(rest)
    factored = []
    for (head, separated), rests in sorted(groups.items()):
        if not separated:
            factored.append(head)
        elif len(rests) == 1:
            factored.append(f"{head}[._]{rests[0]}")
        else:
            factored.append(f"{head}[._](?:{'|'.join(rests)})")
    return factored

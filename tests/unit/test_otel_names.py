"""Metric names before and after the collector's translation: the filter's keep pattern."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.model import log_metrics
from compiler.targets.otel import names as otel_names

WORD = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True).filter(
    lambda w: (
        w not in otel_names.UNIT_WORDS
        and w not in otel_names.HISTOGRAM_SUFFIXES
        and w != otel_names.COUNTER_SUFFIX
    )
)
UNIT = st.sampled_from(["", "seconds", "bytes", "ratio"])
KIND = st.sampled_from(["counter", "gauge", "histogram"])


def _prometheus(words: list[str], unit: str, kind: str) -> tuple[str, str, list[str]]:
    """(OTel name, Prometheus base name, the Prometheus series names) for one metric."""
    otel = ".".join(words)
    base = "_".join(words + ([unit] if unit else []))
    if kind == "counter":
        return otel, base, [f"{base}_total"]
    if kind == "histogram":
        return otel, base, [f"{base}_bucket", f"{base}_count", f"{base}_sum"]
    return otel, base, [base]


@given(st.lists(WORD, min_size=1, max_size=5), UNIT, KIND)
def test_every_spelling_of_a_read_series_is_kept(words: list[str], unit: str, kind: str) -> None:
    otel, base, series = _prometheus(words, unit, kind)
    pattern = re.compile(otel_names.keep_pattern(series[:1]))
    # In the collector: the SDK's dotted name, the scraped family, the scraped counter.
    for spelling in {otel, base, *series}:
        assert pattern.match(spelling), (spelling, pattern.pattern)


@given(st.lists(WORD, min_size=1, max_size=4), WORD, UNIT, KIND)
def test_other_metrics_are_dropped(words: list[str], extra: str, unit: str, kind: str) -> None:
    otel, base, series = _prometheus(words, unit, kind)
    pattern = re.compile(otel_names.keep_pattern(series[:1]))
    for other in (f"{otel}.{extra}", f"{extra}_{base}", f"{base}{extra}"):
        assert not pattern.match(other), (other, pattern.pattern)


def test_the_pattern_needs_no_escapes() -> None:
    """OTTL strings would need every backslash doubled; the pattern has none."""
    pattern = otel_names.keep_pattern(["a_b:c_total", "x_seconds_bucket"])
    assert "\\" not in pattern
    assert pattern == "^(?:a[._]b:c(?:[._]total)?|x(?:[._]seconds)?(?:[._](?:bucket|count|sum))?)$"


def test_self_metrics_in_both_spellings() -> None:
    plain, suffixed = (otel_names.self_metric_names(with_total=t) for t in (False, True))
    assert "otelcol_exporter_send_failed_metric_points" in plain
    assert "otelcol_exporter_send_failed_metric_points_total" in suffixed
    assert "otelcol_exporter_queue_size" in plain & suffixed  # gauges carry no _total


@pytest.mark.parametrize(
    ("otel_name", "prometheus"),
    [
        ("kill_switch.disabled.log_records", "kill_switch_disabled_log_records_total"),
        ("tenant_isolation.violation.log_records", "tenant_isolation_violation_log_records_total"),
        ("traces.span.metrics.calls", "traces_span_metrics_calls_total"),  # as span metrics
        ("log.record.count", "log_record_count_total"),  # the connector's default name
        ("a..b__c", "a_b_c_total"),  # separators collapse
        ("requests.total", "requests_total"),  # no second _total
    ],
)
def test_counters_from_logs_are_named_as_translation_names_them(
    otel_name: str, prometheus: str
) -> None:
    assert log_metrics.prometheus_name(otel_name) == prometheus
    if ".." not in otel_name and "__" not in otel_name:
        # The filter's pattern for the Prometheus name matches the OTel name too.
        assert re.fullmatch(otel_names.pre_translation_pattern(prometheus), otel_name)


def test_the_keep_pattern_is_compact() -> None:
    """Both spellings of a counter need one alternative; a shared first word is factored out
    (the pattern stays one plain YAML scalar: compiler/yaml_text.py)."""
    pattern = otel_names.keep_pattern(["otelcol_a_total", "otelcol_a", "otelcol_b", "up"])
    assert pattern == "^(?:otelcol[._](?:a(?:[._]total)?|b)|up)$"
    for name in ("otelcol_a", "otelcol.a.total", "otelcol_b", "up"):
        assert re.fullmatch(pattern, name), name
    for name in ("otelcol_c", "otelcol_b_total", "upx", "otelcol"):
        assert not re.fullmatch(pattern, name), name

"""What every check shares: the checker that collects diagnostics against one document, the
spec's metric catalog, and parsers of fields that several document sections use (durations,
decimals, event selectors, histograms, runbook links).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

from compiler import conventions
from compiler.diagnostics import Diagnostic, Severity
from compiler.durations import Duration
from compiler.load.loader import Document, PathKey
from compiler.model.service import Service
from compiler.model.slo import Events, Metric
from compiler.promql import (
    WINDOW_PLACEHOLDER,
    PromQLError,
    Selector,
    has_window,
    parse,
    parse_selector,
    selectors_in,
    substitute_window,
)

HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


class Checker:
    """Collects diagnostics against one document while the model is built."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.diagnostics: list[Diagnostic] = []

    def error(self, path: PathKey, message: str) -> None:
        """Record a problem that stops compilation."""
        self.diagnostics.append(Diagnostic(self.document.locate(path), message))

    def warn(self, path: PathKey, message: str) -> None:
        """Record a problem worth knowing that does not stop compilation."""
        self.diagnostics.append(Diagnostic(self.document.locate(path), message, Severity.WARNING))

    def group_by(self, path: PathKey, labels: Iterable[str]) -> None:
        """Labels an alert is split by: neither the compiler's nor Prometheus's own (``__``)."""
        for index, label in enumerate(labels):
            if label in conventions.RESERVED_LABELS or label.startswith("__"):
                self.error((*path, index), f"cannot group by '{label}': the compiler sets it")

    def labels(self, path: PathKey, mapping: Mapping[str, str] | None) -> None:
        """Labels a spec sets must not collide with those the compiler owns."""
        for name in sorted(mapping or {}):
            if name in conventions.RESERVED_LABELS or name.startswith("__"):
                self.error((*path, name), f"label '{name}' is set by the compiler; choose another")


class Catalog:
    """The spec's declared series; checks names and labels when the spec declares any."""

    def __init__(self, check: Checker, metrics: tuple[Metric, ...]) -> None:
        self.check = check
        self.metrics = {m.name: m for m in metrics}
        self.read: list[Metric] = []  # every declared metric a check has read, in order

    @property
    def enabled(self) -> bool:
        return bool(self.metrics)

    def resolve(self, series: str) -> tuple[Metric | None, str]:
        """The declared metric a series belongs to (``x_bucket`` → histogram ``x``)."""
        if series in self.metrics:
            return self.metrics[series], ""
        for suffix in HISTOGRAM_SUFFIXES:
            base = series.removesuffix(suffix)
            if base != series and base in self.metrics:
                return self.metrics[base], suffix
        return None, ""

    def series(
        self, path: PathKey, selector: Selector, group_by: Iterable[str], counter: bool
    ) -> Metric | None:
        """Check one series a spec reads; return its declaration if there is one."""
        if not self.enabled:
            return None
        metric, suffix = self.resolve(selector.metric)
        if metric is None:
            close = difflib.get_close_matches(selector.metric, list(self.metrics), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            self.check.error(
                path, f"series '{selector.metric}' is not declared under metrics{hint}"
            )
            return None
        if counter and metric.type not in ("counter",) and suffix not in ("_bucket", "_count"):
            self.check.error(
                path, f"'{selector.metric}' is a {metric.type}; counting events needs a counter"
            )
        known = set(metric.labels) | ({"le"} if suffix == "_bucket" else set())
        for label in sorted(selector.label_names | set(group_by)):
            if label not in known and label != "__name__":
                close = difflib.get_close_matches(label, sorted(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                declared = ", ".join(metric.labels) or "none"
                self.check.error(
                    path,
                    f"'{metric.name}' has no label '{label}'{hint}; declared labels: {declared}",
                )
        self.read.append(metric)
        return metric


def pipeline_name(telemetry: str | None) -> str | None:
    """The telemetry pipeline a ``telemetry:`` field names (None for direct scraping)."""
    return None if telemetry in (None, conventions.DIRECT_TELEMETRY) else telemetry


def parse_duration(check: Checker, path: PathKey, text: str | None) -> Duration | None:
    """A duration field, or None (reporting the problem) if it is not one."""
    if text is None:
        return None
    try:
        return Duration.parse(text)
    except ValueError as exc:
        check.error(path, str(exc))
        return None


# The shortest window anything is computed over: rate() and increase() need two samples in
# it, which a shorter window misses at common scrape intervals (up to 30s).
MIN_WINDOW = Duration.parse("1m")


def parse_window(check: Checker, path: PathKey, text: str | None) -> Duration | None:
    """A window a rate or a change is computed over: a duration of at least MIN_WINDOW."""
    window = parse_duration(check, path, text)
    if window is not None and window < MIN_WINDOW:
        check.error(
            path,
            f"{window} is shorter than {MIN_WINDOW}: at common scrape intervals a window that "
            "short never holds two samples, so what is computed over it never has a value",
        )
        return None
    return window


def parse_events(
    check: Checker, catalog: Catalog, text: str, path: PathKey, group_by: tuple[str, ...]
) -> Events | None:
    """Events given as a counter selector or as a query of rates with ``$window``."""
    if has_window(text):
        try:
            expr = parse(substitute_window(text, "5m"))
        except PromQLError as exc:
            check.error(path, f"PromQL does not parse: {exc}")
            return None
        for selector in selectors_in(expr):
            catalog.series(path, selector, group_by, counter=False)
        return Events(query=text.strip())
    try:
        selector = parse_selector(text)
    except PromQLError as exc:
        check.error(
            path,
            f"{exc}: give a counter selector, or a query of rates with {WINDOW_PLACEHOLDER} "
            "where the range goes",
        )
        return None
    catalog.series(path, selector, group_by, counter=True)
    return Events(selector=selector)


def parse_histogram(
    check: Checker, catalog: Catalog, text: str, path: PathKey, group_by: tuple[str, ...]
) -> tuple[Selector, Metric] | None:
    """A histogram named by its base name, declared in the catalog with its buckets."""
    try:
        histogram = parse_selector(text)
    except PromQLError as exc:
        check.error(path, str(exc))
        return None
    if histogram.metric.endswith(HISTOGRAM_SUFFIXES):
        base = histogram.metric.rsplit("_", 1)[0]
        check.error(path, f"name the histogram by its base name '{base}'")
        return None
    if "le" in histogram.label_names:
        check.error(path, "do not match on 'le'; the compiler chooses the buckets")
        return None
    if not catalog.enabled:
        check.error(
            path,
            f"declare '{histogram.metric}' under metrics with its buckets, so that the "
            "threshold can be checked against them",
        )
        return None
    metric = catalog.series(path, histogram, group_by, counter=False)
    if metric is None:
        return None
    if metric.type != "histogram":
        check.error(path, f"'{metric.name}' is a {metric.type}, not a histogram")
        return None
    return histogram, metric


def runbook_url(
    check: Checker, service: Service, runbook: str | None, alert: str | None, path: PathKey
) -> str | None:
    """The runbook link of an alert: absolute, joined to the base URL, or the base's anchor."""
    base = service.runbook_base_url
    try:
        scheme = urlsplit(runbook).scheme if runbook else ""
        if runbook and scheme not in ("", "http", "https"):
            check.error(path, f"runbook '{runbook}' is not an http(s) link or a path")
            return None
        if runbook and scheme:
            return runbook
        if runbook and not base:
            check.error(
                path, f"runbook '{runbook}' is relative but service.runbook_base_url is not set"
            )
            return None
        if not base:
            return None
        if runbook:
            return urljoin(base, runbook)
    except ValueError as exc:  # a link that is not a URL at all (http://[oops)
        check.error(path, f"runbook link does not parse: {exc}")
        return None
    return f"{base}#{conventions.slug(alert)}" if alert else base


def to_decimal(value: Any) -> Decimal:
    """A YAML number as an exact decimal (0.1 stays 0.1)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)

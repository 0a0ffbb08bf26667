"""The raw series a service's rules and dashboards read: what a telemetry pipeline must deliver.

The collector config's optional filter keeps exactly these (in every spelling they may have
before translation); the tests check, from the generated files, that each series a rule or
dashboard reads is produced by some pipeline or scrape of every environment carrying it.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model import SLO, LatencySLI, RatioSLI, ServiceSpec
from compiler.promql import Selector, parse, selectors_in
from compiler.signal_model import (
    Baseline,
    GaugeMeasure,
    Measure,
    NewEvents,
    NoData,
    QuantileMeasure,
    RateMeasure,
    RatioMeasure,
    RawPromQL,
    Signal,
    Threshold,
    Trend,
)


def service_reads(spec: ServiceSpec) -> set[str]:
    """Names of the raw series one service's rules (SLOs, signals) and dashboards read."""
    names = {selector.metric for slo in spec.slos for selector in _selectors(slo)}
    names.update(s.metric for signal in spec.signals for s in _signal_selectors(signal))
    for dashboard in spec.dashboards:
        names.update(variable.metric for variable in dashboard.variables)
        names.update(s.metric for panel in dashboard.panels for s in panel.selectors)
    return names


def _selectors(slo: SLO) -> Iterator[Selector]:
    sli = slo.sli
    if isinstance(sli, LatencySLI):
        yield sli.total
        yield sli.histogram.renamed(sli.good_metric)
        return
    assert isinstance(sli, RatioSLI)
    for events in (sli.total, sli.bad, sli.good):
        if events is not None:
            yield from events.selectors


def _signal_selectors(signal: Signal) -> Iterator[Selector]:
    condition = signal.condition
    if isinstance(condition, Threshold | Baseline):
        yield from _measure_selectors(condition.measure)
    elif isinstance(condition, NewEvents):
        yield condition.counter
    elif isinstance(condition, NoData):
        yield from (*condition.series, *condition.counters)
        if condition.up is not None:
            yield condition.up
    elif isinstance(condition, Trend):
        yield condition.gauge
    else:
        assert isinstance(condition, RawPromQL)
        yield from selectors_in(parse(condition.expr))


def _measure_selectors(measure: Measure) -> Iterator[Selector]:
    if isinstance(measure, RateMeasure):
        yield from measure.events.selectors
    elif isinstance(measure, RatioMeasure):
        yield from (*measure.numerator.selectors, *measure.denominator.selectors)
    elif isinstance(measure, GaugeMeasure):
        yield measure.selector
    else:
        assert isinstance(measure, QuantileMeasure)
        yield from (measure.bucket, measure.count)

"""The raw series a service's rules and dashboards read: what a telemetry pipeline must deliver.

The collector config's optional filter keeps exactly these (in every spelling they may have
before translation); the tests check, from the generated files, that each series a rule or
dashboard reads is produced by some pipeline or scrape of every environment carrying it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import assert_never

from compiler.model.service import ServiceSpec
from compiler.model.signal import (
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
from compiler.model.slo import SLO, LatencySLI, RatioSLI
from compiler.promql import Selector, parse, selectors_in


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
    match sli:
        case RatioSLI():
            for events in (sli.total, sli.bad, sli.good):
                if events is not None:
                    yield from events.selectors
        case LatencySLI():
            yield sli.total
            yield sli.histogram.renamed(sli.good_metric)
        case _:
            assert_never(sli)


def _signal_selectors(signal: Signal) -> Iterator[Selector]:
    condition = signal.condition
    match condition:
        case Threshold() | Baseline():
            yield from _measure_selectors(condition.measure)
        case NewEvents():
            yield condition.counter
        case NoData():
            yield from (*condition.series, *condition.counters)
            if condition.up is not None:
                yield condition.up
        case Trend():
            yield condition.gauge
        case RawPromQL():
            yield from selectors_in(parse(condition.expr))
        case _:
            assert_never(condition)


def _measure_selectors(measure: Measure) -> Iterator[Selector]:
    match measure:
        case RateMeasure():
            yield from measure.events.selectors
        case RatioMeasure():
            yield from (*measure.numerator.selectors, *measure.denominator.selectors)
        case GaugeMeasure():
            yield measure.selector
        case QuantileMeasure():
            yield from (measure.bucket, measure.count)
        case _:
            assert_never(measure)

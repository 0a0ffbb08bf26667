"""A synthetic incident over every declared series: healthy traffic, a burn, recovery.

For each SLO, per group (two values of each ``group_by`` label: one burns, one stays
healthy) the raw series its SLI reads get healthy traffic at a fifth of the error budget,
then a burn at 1.5 times the fastest tier's threshold (which fires that tier and not the
slower ones), then healthy traffic again. Every other declared series, and every series a
declared dashboard reads, gets steady activity that spikes in the burning group during the
burn (counters of trouble, by their names, at a small share of the traffic). Label values
satisfy the selectors that read the series (``code=~"5.."`` → ``500``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import assert_never

from compiler import burn_rate
from compiler.model.service import ServiceSpec, SpecSet
from compiler.model.slo import SLO, LatencySLI, Metric, RatioSLI
from compiler.promql import Matcher, Selector
from compiler.synthetic.labels import LabelError, candidates, pick, selected_labels, selects
from compiler.synthetic.series import SyntheticSeries, counter, gauge

BUSY = 20.0  # events per second of the burning group
STEADY = 5.0  # events per second of the healthy group
HEALTHY_SHARE_OF_BUDGET = 0.2
BURN_OVER_THRESHOLD = 1.5
SPIKE = 5.0  # other counters of the burning group, during the burn
# Counters whose names say they count trouble (failures, rate-limit hits, quota exceeded,
# ...) run at a small share of the others and spike harder, so ratios of trouble to traffic
# look like a healthy system and then an incident in previews.
_TROUBLE_WORDS = ("fail", "error", "hit", "exceed", "violation", "denial", "reject", "drop")
TROUBLE_SHARE = 0.02
TROUBLE_SPIKE = 25.0
_HISTOGRAM_SUFFIXES = ("_bucket", "_count", "_sum")


@dataclass(frozen=True)
class Timeline:
    """Minutes from the start of the history: the burn starts, stops, the history ends."""

    burn_start: int = 300
    burn_end: int = 390
    minutes: int = 480


INCIDENT = Timeline()


def labels_for(
    selector: Selector, declared: Iterable[str], fixed: dict[str, str]
) -> dict[str, str]:
    """Labels of a series ``selector`` selects: ``fixed`` first, then the matchers' needs,
    ``<label>-a`` for every other declared label."""
    return selected_labels(selector, fixed, {label: f"{label}-a" for label in declared})


def _refused(matcher: Matcher) -> str:
    """A value ``matcher`` refuses."""
    value = pick(candidates(matcher.label, [matcher]), (), (matcher,))
    if value is None:
        raise LabelError(f"no value of '{matcher.label}' is refused by {matcher}")
    return value


class _Collector:
    """Series by (metric, labels); the first shape written for a series is kept."""

    def __init__(self, specs: SpecSet) -> None:
        self.declared = {m.name: m for spec in specs.services for m in spec.metrics}
        self.series: dict[tuple[str, tuple[tuple[str, str], ...]], SyntheticSeries] = {}

    def declared_labels(self, metric: str) -> tuple[str, ...]:
        found = self.declared.get(metric)
        for suffix in _HISTOGRAM_SUFFIXES:
            if found is None and metric.endswith(suffix):
                found = self.declared.get(metric.removesuffix(suffix))
        return found.labels if found else ()

    def add(self, one: SyntheticSeries) -> None:
        key = (one.metric, one.labels)
        if key in self.series:
            return  # first writer wins: SLO traffic is written before background activity
        self.series[key] = one

    def matching(self, selector: Selector, group: dict[str, str]) -> list[SyntheticSeries]:
        """Series written so far that ``selector`` selects within ``group``."""
        wanted = Selector(
            selector.metric,
            (*selector.matchers, *(Matcher(k, "=", v) for k, v in sorted(group.items()))),
        )
        return [s for s in self.series.values() if selects(wanted, s.metric, dict(s.labels))]


# (start minute, rate or ratio): like a synthetic shape, but never silent.
Steps = list[tuple[float, float]]


def _rates(timeline: Timeline, healthy: float, burning: float) -> Steps:
    return [(0, healthy), (timeline.burn_start, burning), (timeline.burn_end, healthy)]


def groups(specs: SpecSet, slo: SLO) -> list[tuple[dict[str, str], bool]]:
    """(group labels, burns?) of the synthetic groups of one SLO.

    Each SLO split by labels gets its own pair of values (``tenant-a`` burns, ``tenant-b``
    stays healthy for the first such SLO; ``-c``/``-d`` for the next...), so that SLOs
    reading the same counters do not count each other's traffic.
    """
    if not slo.group_by:
        return [({}, True)]
    index = [s for s in specs.slos if s.group_by].index(slo)
    burning, healthy = _letters(2 * index), _letters(2 * index + 1)
    return [
        ({label: f"{label}-{burning}" for label in slo.group_by}, True),
        ({label: f"{label}-{healthy}" for label in slo.group_by}, False),
    ]


def _letters(number: int) -> str:
    """0 → a, 25 → z, 26 → ba: a short distinct suffix per group."""
    text = ""
    while True:
        number, rest = divmod(number, 26)
        text = chr(ord("a") + rest) + text
        if number == 0:
            return text


def _burn_ratio(slo: SLO) -> tuple[float, float]:
    """Error ratio while healthy and while burning."""
    budget = slo.error_budget
    fastest = max((t.burn_factor for t in slo.tiers), default=Decimal("14.4"))
    burning = min(1.0, float(burn_rate.threshold_ratio(fastest, budget)) * BURN_OVER_THRESHOLD)
    return float(budget) * HEALTHY_SHARE_OF_BUDGET, burning


def _slo_series(collector: _Collector, specs: SpecSet, slo: SLO, timeline: Timeline) -> None:
    healthy_ratio, burn_ratio = _burn_ratio(slo)
    for group, burns in groups(specs, slo):
        volume = BUSY if burns else STEADY
        ratios = _rates(timeline, healthy_ratio, burn_ratio if burns else healthy_ratio)
        sli = slo.sli
        match sli:
            case RatioSLI():
                _ratio(collector, sli, group, volume, ratios)
            case LatencySLI():
                _latency(collector, sli, group, volume, ratios)
            case _:
                assert_never(sli)


def _ratio(
    collector: _Collector, sli: RatioSLI, group: dict[str, str], volume: float, ratios: Steps
) -> None:
    counted = sli.bad or sli.good
    assert counted is not None
    # Shape of the counted side: bad events, or good ones.
    share = [(m, r if sli.bad else 1 - r) for m, r in ratios]
    written: list[tuple[str, dict[str, str]]] = []
    counted_selectors = counted.selectors
    for selector in counted_selectors:
        # Another SLO on the same counters wrote them already: share its traffic.
        existing = collector.matching(selector, group)
        written.extend((s.metric, dict(s.labels)) for s in existing)
        if existing:
            continue
        labels = labels_for(selector, collector.declared_labels(selector.metric), group)
        shape = [(m, volume * s / len(counted_selectors)) for m, s in share]
        collector.add(counter(selector.metric, labels, shape))
        written.append((selector.metric, labels))
    totals = sli.total.selectors
    for selector in totals:
        # A counted series the total selector also selects already carries its share.
        inside = [w for w in written if selects(selector, *w)]
        others = [
            s
            for s in collector.matching(selector, group)
            if (s.metric, dict(s.labels)) not in written
        ]
        if others:
            continue
        rest = (
            [(m, volume * (1 - s) / len(totals)) for m, s in share]
            if inside
            else [(0, volume / len(totals))]
        )
        fixed = dict(group)
        if inside:
            try:
                fixed.update(_distinct_from(selector, counted_selectors, collector, group))
            except LabelError:
                continue  # both sides read the same series (see models()): data only
        labels = labels_for(selector, collector.declared_labels(selector.metric), fixed)
        collector.add(counter(selector.metric, labels, rest))


def models(slo: SLO) -> bool:
    """Whether the incident gives this SLO the error ratios it intends.

    It cannot when both sides of a ratio read the very same series (an OpenSLO threshold
    SLI turned into queries, for instance): those get traffic, so their queries return
    data, but no particular error ratio.
    """
    sli = slo.sli
    match sli:
        case RatioSLI():
            counted = sli.bad or sli.good
            assert counted is not None
            return set(map(str, counted.selectors)) != set(map(str, sli.total.selectors))
        case LatencySLI():
            return True
        case _:
            assert_never(sli)


def _distinct_from(
    total: Selector, counted: Sequence[Selector], collector: _Collector, group: dict[str, str]
) -> dict[str, str]:
    """Labels of a total series that none of the counted selectors selects."""
    declared = collector.declared_labels(total.metric)
    for selector in counted:
        for matcher in selector.matchers:
            if matcher.label in group:
                continue
            with suppress(LabelError):
                fixed = {**group, matcher.label: _refused(matcher)}
                labels = labels_for(total, declared, fixed)
                if not any(selects(s, total.metric, labels) for s in counted):
                    return fixed
    raise LabelError(f"cannot separate {total} from the events it counts")


def _latency(
    collector: _Collector,
    sli: LatencySLI,
    group: dict[str, str],
    volume: float,
    ratios: Steps,
) -> None:
    """Buckets for every ``_count`` series the SLI reads, written first if there is none.

    Another SLO (availability by status code) may have written the counts already: each
    then gets its buckets, the share of slow events taken from the incident's ratios.
    """
    base = sli.histogram.metric
    counts = collector.matching(sli.histogram.renamed(f"{base}_count"), group)
    if not counts:
        labels = labels_for(sli.histogram, collector.declared_labels(base), group)
        collector.add(counter(f"{base}_count", labels, [(0, volume)]))
        counts = collector.matching(sli.histogram.renamed(f"{base}_count"), group)
    metric = collector.declared.get(base)
    bounds = sorted({*(metric.buckets if metric else ()), sli.threshold})
    slow = SyntheticSeries(base, (), tuple(ratios))
    for count in counts:
        labels = dict(count.labels)
        for bound in bounds:
            # At the threshold all fast events; below it half of them; above it the fast
            # events and half the slow ones.
            if bound == sli.threshold:
                shape = _fast(count, slow, slow_counted=0.0)
            elif bound < sli.threshold:
                shape = [(m, v / 2) for m, v in _fast(count, slow, slow_counted=0.0)]
            else:
                shape = _fast(count, slow, slow_counted=0.5)
            collector.add(counter(f"{base}_bucket", {**labels, "le": _le(bound)}, shape))
        collector.add(counter(f"{base}_bucket", {**labels, "le": "+Inf"}, list(count.shape)))


def _fast(count: SyntheticSeries, slow: SyntheticSeries, slow_counted: float) -> Steps:
    """Rate of ``count``'s fast events (plus ``slow_counted`` of its slow ones) over time."""
    starts = sorted({m for m, _ in count.shape} | {m for m, _ in slow.shape})
    return [
        (m, (count.value_at(m) or 0.0) * (1 - (slow.value_at(m) or 0.0) * (1 - slow_counted)))
        for m in starts
    ]


def _le(bound: float) -> str:
    return format(bound, "g")


def _background(
    collector: _Collector, metric: Metric, selector: Selector, timeline: Timeline
) -> None:
    """Steady activity for series ``selector`` reads, spiking in one group during the burn.

    Nothing is added when some series already answers the selector, and only a steady
    trickle when an SLO writes other series of the metric (an SLO's traffic must stay what
    the SLO synthesis made it).
    """
    names = {metric.name, *(metric.name + suffix for suffix in _HISTOGRAM_SUFFIXES)}
    written = [(name, existing) for name, existing in collector.series if name in names]
    for name, existing in written:
        if selects(Selector(name, selector.matchers), name, dict(existing)):
            return
    trouble = any(word in metric.name for word in _TROUBLE_WORDS)
    share, factor = (TROUBLE_SHARE, TROUBLE_SPIKE) if trouble else (1.0, SPIKE)
    if written:  # an SLO's series (a panel reads a slice of them): a trickle that keeps its math
        share, factor = TROUBLE_SHARE, 1.0
    busy, steady = BUSY * share, STEADY * share
    for index, (rate, spike) in enumerate(((busy, busy * factor), (steady, steady))):
        suffix = "a" if index == 0 else "b"
        fixed = {label: f"{label}-{suffix}" for label in metric.labels}
        for matcher in selector.matchers:
            fixed.pop(matcher.label, None)
        labels = labels_for(selector, metric.labels, fixed)
        if metric.type == "gauge":
            collector.add(gauge(metric.name, labels, [(0, 1.0)]))
        elif metric.type == "summary":
            for part in ("_count", "_sum"):
                collector.add(counter(metric.name + part, labels, _rates(timeline, rate, spike)))
        elif metric.type == "histogram":
            for bound in (*metric.buckets, float("inf")):
                le = "+Inf" if bound == float("inf") else _le(bound)
                collector.add(
                    counter(
                        f"{metric.name}_bucket", {**labels, "le": le}, _rates(timeline, rate, spike)
                    )
                )
            collector.add(counter(f"{metric.name}_count", labels, _rates(timeline, rate, spike)))
        else:
            collector.add(counter(metric.name, labels, _rates(timeline, rate, spike)))


def _read_by_dashboards(spec: ServiceSpec) -> Iterator[Selector]:
    for dashboard in spec.dashboards:
        for panel in dashboard.panels:
            yield from panel.selectors


def incident_series(specs: SpecSet, timeline: Timeline = INCIDENT) -> list[SyntheticSeries]:
    """Raw series for every SLO and declared series of ``specs`` over the incident."""
    collector = _Collector(specs)
    # Latency SLIs last: they add buckets to counts a ratio SLI on the same histogram wrote.
    for slo in sorted(specs.slos, key=lambda slo: isinstance(slo.sli, LatencySLI)):
        _slo_series(collector, specs, slo, timeline)
    for spec in specs.services:
        for selector in _read_by_dashboards(spec):
            base = selector.metric
            for suffix in _HISTOGRAM_SUFFIXES:
                base = (
                    base.removesuffix(suffix)
                    if base.removesuffix(suffix) in collector.declared
                    else base
                )
            metric = collector.declared.get(base)
            if metric is not None:
                _background(collector, metric, Selector(metric.name, selector.matchers), timeline)
        for metric in spec.metrics:
            _background(collector, metric, Selector(metric.name), timeline)
    return [collector.series[key] for key in sorted(collector.series)]

"""An SLO in compiled form: its SLI, objective and burn-rate alert tiers.

Nothing in ``compiler.model`` knows YAML or PromQL text layout; targets turn these values
into rules, tests, dashboards and configs. Labels are kept as sorted tuples so that models
hash, compare and print deterministically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import ClassVar

from compiler import burn_rate
from compiler.diagnostics import Location
from compiler.durations import Duration
from compiler.model.log_metrics import LogCount
from compiler.model.span_metrics import SpanSelection
from compiler.promql import Selector, parse, selectors_in, substitute_window

Labels = tuple[tuple[str, str], ...]


def labels_of(mapping: Mapping[str, str] | None) -> Labels:
    """A label mapping as a sorted tuple."""
    return tuple(sorted((mapping or {}).items()))


@dataclass(frozen=True)
class Metric:
    """A raw series a spec declares (histograms by base name)."""

    name: str
    type: str
    help: str = ""
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()
    # Counted by the collector from log records instead of exported by the service.
    from_logs: LogCount | None = None


@dataclass(frozen=True)
class Events:
    """One side of an event ratio: a counter selector, or a query of per-second rates.

    A query contains ``$window`` where its range goes; it is evaluated with the base
    window only (longer windows are derived from the recorded result).
    """

    selector: Selector | None = None
    query: str | None = None

    @cached_property
    def selectors(self) -> tuple[Selector, ...]:
        """The series these events are read from (a query's in the order it names them)."""
        if self.selector is not None:
            return (self.selector,)
        assert self.query is not None
        return tuple(selectors_in(parse(substitute_window(self.query, "5m"))))


@dataclass(frozen=True)
class RatioSLI:
    """Bad (or good) events over total events."""

    kind: ClassVar[str] = "ratio"
    total: Events
    bad: Events | None = None
    good: Events | None = None


@dataclass(frozen=True)
class LatencySLI:
    """Events slower than ``threshold`` are bad; counted from a histogram's buckets."""

    kind: ClassVar[str] = "latency"
    histogram: Selector
    threshold: float

    @property
    def total(self) -> Selector:
        """All observations: the histogram's ``_count`` series."""
        return self.histogram.renamed(self.histogram.metric + "_count")

    @property
    def good_metric(self) -> str:
        """The bucket series that counts fast-enough observations."""
        return self.histogram.metric + "_bucket"


SLI = RatioSLI | LatencySLI


@dataclass(frozen=True)
class Tier:
    """One multi-window burn-rate alert."""

    alert: str
    severity: str
    long_window: Duration
    short_window: Duration
    burn_factor: Decimal
    for_: Duration | None = None
    min_events: int = 0
    min_bad_events: int = 0
    # The guard's outage floor: this many bad events in the long window let the tier fire
    # whatever the traffic (0: no floor).
    outage_events: int = 0
    runbook_url: str | None = None
    labels: Labels = ()
    annotations: Labels = ()

    @property
    def guarded(self) -> bool:
        """Whether the low-traffic guard applies to this tier."""
        return self.min_events > 0 or self.min_bad_events > 0

    @property
    def outage_floor(self) -> int:
        """The outage floor where it lets the tier fire when the guard would not (0 where
        there is no guard, or where any window holding that many bad events meets the
        guard anyway)."""
        if not self.guarded or self.outage_events >= max(self.min_events, self.min_bad_events):
            return 0
        return self.outage_events


@dataclass(frozen=True)
class SLO:
    """A service-level objective with its alerting tiers."""

    service: str
    name: str
    objective: Decimal  # percent, e.g. Decimal("99.9")
    sli: SLI
    period: Duration = burn_rate.DEFAULT_PERIOD
    description: str = ""
    labels: Labels = ()
    group_by: tuple[str, ...] = ()
    tiers: tuple[Tier, ...] = ()
    alert_annotations: Labels = ()
    runbook_url: str | None = None
    location: Location = field(default=Location(""), compare=False)
    spans: SpanSelection | None = None  # set when the SLI is derived from spans
    # Events per second one group normally sees, as the spec declares it (for `slo lint`).
    expected_rate: Decimal | None = None

    @property
    def error_budget(self) -> Decimal:
        """Allowed error ratio (0.001 for 99.9%)."""
        return burn_rate.error_budget(self.objective)

    @property
    def objective_ratio(self) -> Decimal:
        """The objective as a ratio (0.999 for 99.9%)."""
        return self.objective / Decimal(100)

    def threshold(self, tier: Tier) -> Decimal:
        """Error ratio above which ``tier`` fires."""
        return burn_rate.threshold_ratio(tier.burn_factor, self.error_budget)

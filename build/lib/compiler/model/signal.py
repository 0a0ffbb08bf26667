"""The compiled form of signals: alerts on things other than error budgets.

A signal is one alert: a name, a severity, the labels it is split by, and one condition of a
small set of kinds (a threshold, a new event of a counter, no data, a change against a
baseline, a rising trend, or raw PromQL). Conditions that read a quantity share one
vocabulary of *measures* (a rate, a ratio, a gauge, a histogram quantile), so a threshold and a
baseline on the same quantity read it the same way. Targets turn these values into rules
(``targets/signal_rules.py``) and promtool tests (``targets/rule_tests.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar, get_args

from compiler.diagnostics import Location
from compiler.durations import Duration
from compiler.model.slo import Events, Labels
from compiler.promql import Matcher, Selector


# How a gauge's series are combined into one value per label set of group_by.
@dataclass(frozen=True)
class RateMeasure:
    """Events per second of a counter (or of a query of rates), optionally per ``per``."""

    events: Events
    per: Duration | None = None  # report the rate per minute, hour, ... instead of per second

    @property
    def scale(self) -> int:
        """Factor from events per second to the unit the spec's numbers are in."""
        return self.per.seconds if self.per else 1


@dataclass(frozen=True)
class RatioMeasure:
    """Events of one counter per event of another over the window (0..1)."""

    numerator: Events
    denominator: Events


@dataclass(frozen=True)
class GaugeMeasure:
    """A gauge's current value, combined per label set with ``aggregate``."""

    selector: Selector
    aggregate: str = "max"


@dataclass(frozen=True)
class QuantileMeasure:
    """A quantile of a histogram's observations over the window (e.g. p99 latency)."""

    histogram: Selector  # base name, without _bucket
    quantile: Decimal
    buckets: tuple[float, ...] = ()  # the declared bucket bounds (for checks and tests)

    @property
    def count(self) -> Selector:
        """The histogram's ``_count`` series: how many observations there were."""
        return self.histogram.renamed(self.histogram.metric + "_count")

    @property
    def bucket(self) -> Selector:
        """The histogram's ``_bucket`` series."""
        return self.histogram.renamed(self.histogram.metric + "_bucket")


Measure = RateMeasure | RatioMeasure | GaugeMeasure | QuantileMeasure


@dataclass(frozen=True)
class Threshold:
    """The measure above (``>``) or below (``<``) a value."""

    kind: ClassVar[str] = "threshold"
    measure: Measure
    op: str  # ">" or "<"
    value: Decimal
    window: Duration | None = None  # None for gauges
    min_events: int = 0  # events the window must hold (ratios and quantiles); 0 = no guard


@dataclass(frozen=True)
class NewEvents:
    """Any new event of a counter, including the first sample of a series never seen before."""

    kind: ClassVar[str] = "new_events"
    counter: Selector
    window: Duration  # how long the alert stays after the last new event
    lookback: Duration  # a series is new when it had no sample for this long before


@dataclass(frozen=True)
class NoData:
    """Series, counters or a scrape target that deliver nothing for a window."""

    kind: ClassVar[str] = "no_data"
    window: Duration
    lookback: Duration  # with group_by: label sets seen this recently that went silent
    job: str | None = None  # scrape target: up{job=...} is 0 or missing for the window
    series: tuple[Selector, ...] = ()  # no samples for the window
    counters: tuple[Selector, ...] = ()  # no samples, or no increase, for the window

    @property
    def up(self) -> Selector | None:
        """The scrape target's health series, ``up{job="..."}``, if a job is watched."""
        return None if self.job is None else up_selector(self.job)


def up_selector(job: str) -> Selector:
    """Prometheus's health series of a scrape job: 1 while scrapes succeed, 0 when they fail."""
    return Selector("up", (Matcher("job", "=", job),))


@dataclass(frozen=True)
class Baseline:
    """The measure above ``factor`` times its own earlier value, and above ``floor``."""

    kind: ClassVar[str] = "baseline"
    measure: Measure
    factor: Decimal
    floor: Decimal
    baseline_window: Duration  # the window the baseline is measured over
    window: Duration | None = None  # the current value's window (None for gauges)
    baseline_offset: Duration | None = None  # e.g. 1w: the same time one week earlier
    min_events: int = 0


@dataclass(frozen=True)
class Trend:
    """A gauge rising (least-squares slope over the window), optionally while above a value."""

    kind: ClassVar[str] = "trend"
    gauge: Selector
    window: Duration
    aggregate: str = "max"
    rising_faster_than: Decimal = Decimal(0)  # in units per ``per`` (per second by default)
    per: Duration | None = None
    above: Decimal | None = None

    @property
    def scale(self) -> int:
        """Factor from units per second to the unit of ``rising_faster_than``."""
        return self.per.seconds if self.per else 1


@dataclass(frozen=True)
class RawPromQL:
    """An alert expression written in PromQL: parsed and checked, but used as written."""

    kind: ClassVar[str] = "promql"
    expr: str


Condition = Threshold | NewEvents | NoData | Baseline | Trend | RawPromQL
# The kinds as specs name them, in the union's order (a kind added to the union is listed).
CONDITION_KINDS: tuple[str, ...] = tuple(kind.kind for kind in get_args(Condition))


@dataclass(frozen=True)
class Signal:
    """One alert of a service that is not a burn rate."""

    service: str
    name: str  # the alert name
    severity: str
    condition: Condition
    group_by: tuple[str, ...] = ()
    for_: Duration | None = None
    clear_after: Duration | None = None  # keep firing this long after the condition clears
    description: str = ""
    summary: str | None = None  # replaces the generated summary annotation
    labels: Labels = ()  # the service's labels and the signal's own
    annotations: Labels = ()
    runbook_url: str | None = None
    telemetry: str | None = None  # pipeline the data arrives through; None: scraped directly
    pipeline_down: str | None = None  # this alert reports that pipeline down
    location: Location = field(default=Location(""), compare=False)

    @property
    def kind(self) -> str:
        """The condition's kind as the spec names it."""
        return self.condition.kind

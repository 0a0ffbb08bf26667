"""The compiled form of specs: frozen dataclasses that every output target reads.

Nothing here knows YAML or PromQL text layout; targets turn these values into rules,
tests, dashboards and configs. Labels are kept as sorted tuples so that models hash,
compare and print deterministically.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from compiler import burn_rate
from compiler.dashboard_model import DeclaredDashboard
from compiler.diagnostics import Location
from compiler.durations import Duration
from compiler.promql import Selector, parse, selectors_in, substitute_window

if TYPE_CHECKING:  # these modules build on the basic types defined here
    from compiler.environment_model import Environment
    from compiler.routing_model import Routing
    from compiler.signal_model import Signal
    from compiler.span_metrics import SpanSelection

Labels = tuple[tuple[str, str], ...]

if TYPE_CHECKING:
    from compiler.drills import Drill


def labels_of(mapping: Mapping[str, str] | None) -> Labels:
    """A label mapping as a sorted tuple."""
    return tuple(sorted((mapping or {}).items()))


@dataclass(frozen=True)
class Service:
    """Who runs the service and where its runbooks live."""

    name: str
    owner: str
    description: str = ""
    runbook_base_url: str | None = None
    labels: Labels = ()
    telemetry: str | None = None  # pipeline the service's metrics arrive through (None: direct)


@dataclass(frozen=True)
class Metric:
    """A raw series a spec declares (histograms by base name)."""

    name: str
    type: str
    help: str = ""
    labels: tuple[str, ...] = ()
    buckets: tuple[float, ...] = ()


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

    total: Events
    bad: Events | None = None
    good: Events | None = None


@dataclass(frozen=True)
class LatencySLI:
    """Events slower than ``threshold`` are bad; counted from a histogram's buckets."""

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
    runbook_url: str | None = None
    labels: Labels = ()
    annotations: Labels = ()

    @property
    def guarded(self) -> bool:
        """Whether the low-traffic guard applies to this tier."""
        return self.min_events > 0 or self.min_bad_events > 0


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


DEFAULT_GATE_LOOKBACK = Duration.parse("7d")


@dataclass(frozen=True)
class GatePolicy:
    """How ``slo gate`` judges a service's SLOs; the defaults are runbook 002's rule."""

    lookback: Duration = DEFAULT_GATE_LOOKBACK  # a firing this recent is an episode
    clear_windows: int = 2  # clear for this many long windows of each tier that fired
    signoff: bool = True  # an episode needs the owner's sign-off
    freeze_below: Decimal | None = None  # percent of budget remaining; None: no freeze
    max_gap_evaluations: int = 3  # longer holes in the evidence make a decision UNKNOWN


@dataclass(frozen=True)
class ServiceSpec:
    """Everything one spec file declares about one service."""

    service: Service
    source: str
    metrics: tuple[Metric, ...] = ()
    slos: tuple[SLO, ...] = ()
    location: Location = field(default=Location(""), compare=False)
    drills: tuple[Drill, ...] = ()  # tabletop drills (compiler/drills.py)
    dashboards: tuple[DeclaredDashboard, ...] = ()
    signals: tuple[Signal, ...] = ()
    gate: GatePolicy = GatePolicy()

    def metric(self, name: str) -> Metric | None:
        """The declared metric called ``name``, if any."""
        return next((m for m in self.metrics if m.name == name), None)


@dataclass(frozen=True)
class SpecSet:
    """All services compiled together, in a stable order (by service name)."""

    services: tuple[ServiceSpec, ...] = ()
    routing: Routing | None = None
    environments: tuple[Environment, ...] = ()

    @property
    def slos(self) -> tuple[SLO, ...]:
        """Every SLO of every service."""
        return tuple(slo for spec in self.services for slo in spec.slos)

    @property
    def signals(self) -> tuple[Signal, ...]:
        """Every signal of every service."""
        return tuple(signal for spec in self.services for signal in spec.signals)

"""A service as one spec file declares it, and the set of all services compiled together.

These are the roots of the model that every output target reads: a service's SLOs, signals,
drills, dashboards and gate policy, plus the routing and environments of the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from compiler.diagnostics import Location
from compiler.durations import Duration
from compiler.model.dashboard import DeclaredDashboard
from compiler.model.drill import Drill
from compiler.model.environment import Environment
from compiler.model.routing import Routing
from compiler.model.signal import Signal
from compiler.model.slo import SLO, Labels, Metric


@dataclass(frozen=True)
class Service:
    """Who runs the service and where its runbooks live."""

    name: str
    owner: str
    description: str = ""
    runbook_base_url: str | None = None
    labels: Labels = ()
    telemetry: str | None = None  # pipeline the service's metrics arrive through (None: direct)


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
    drills: tuple[Drill, ...] = ()  # tabletop drills (compiler/model/drill.py)
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

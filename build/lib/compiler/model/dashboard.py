"""Dashboards a spec declares over its own series (``dashboards:``), as frozen dataclasses.

Every service gets its SLO dashboard without declaring anything; these are the others a
runbook names (runbook 000's "Quota" dashboard, the telemetry pipeline's health). Panels
only read series the spec declares under ``metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.diagnostics import Location
from compiler.promql import Selector

# Panel kinds and the query each becomes (see compiler/targets/grafana/declared_dashboard.py).
RATE = "rate"  # per-second rate of a counter
INCREASE = "increase"  # a counter's increase over the time range shown
RATIO = "ratio"  # rate of numerator / rate of denominator
VALUE = "value"  # a gauge's value
QUANTILE = "quantile"  # a histogram quantile

TIMESERIES = "timeseries"
BARGAUGE = "bargauge"


@dataclass(frozen=True)
class ThresholdStep:
    """One colour step: ``color`` from ``start`` up (the base step has no start)."""

    color: str
    start: float | None = None


@dataclass(frozen=True)
class DeclaredPanel:
    """One panel over declared series."""

    title: str
    description: str
    kind: str
    unit: str
    display: str
    series: Selector | None = None  # rate, increase, value, quantile
    numerator: Selector | None = None  # ratio
    denominator: Selector | None = None  # ratio
    by: tuple[str, ...] = ()
    aggregate: str = "max"  # value
    quantile: float | None = None  # quantile
    thresholds: tuple[ThresholdStep, ...] = ()
    width: int = 12
    # Dashboard variables whose label every series of this panel carries.
    filtered_by: tuple[str, ...] = ()

    @property
    def selectors(self) -> tuple[Selector, ...]:
        """Every series selector the panel reads."""
        return tuple(s for s in (self.series, self.numerator, self.denominator) if s is not None)


@dataclass(frozen=True)
class LabelVariable:
    """A dashboard variable that selects values of ``label``, read from ``metric``."""

    label: str
    metric: str


@dataclass(frozen=True)
class DeclaredDashboard:
    """A dashboard a service spec declares."""

    service: str
    name: str
    title: str
    description: str = ""
    variables: tuple[LabelVariable, ...] = ()
    panels: tuple[DeclaredPanel, ...] = ()
    location: Location = field(default=Location(""), compare=False)


# The ids Grafana's unit picker writes into fieldConfig.defaults.unit. dashboard-linter's
# panel-units-rule accepts these (it lists Grafana's categories.ts); rarer physical units
# are left out on purpose: a typo should be caught, not matched against "radsvh".
GRAFANA_UNITS = frozenset(
    {
        # misc
        "none", "string", "short", "percent", "percentunit", "sci", "locale",
        # time
        "ns", "µs", "ms", "s", "m", "h", "d", "dtdurationms", "dtdurations", "dthms", "dtdhms",
        "clockms", "clocks", "hertz",
        # throughput
        "cps", "ops", "reqps", "rps", "wps", "iops", "cpm", "opm", "rpm", "wpm",
        # data and data rate
        "bytes", "decbytes", "bits", "decbits", "kbytes", "deckbytes", "mbytes", "decmbytes",
        "gbytes", "decgbytes", "tbytes", "dectbytes", "pps", "binBps", "Bps", "binbps", "bps",
        "KiBs", "KBs", "MiBs", "MBs", "GiBs", "GBs",
        # currency
        "currencyUSD", "currencyEUR", "currencyGBP", "currencyJPY", "currencyCHF",
        # boolean
        "bool", "bool_yes_no", "bool_on_off",
        # dates
        "dateTimeAsIso", "dateTimeAsLocal", "dateTimeFromNow",
    }
)  # fmt: skip

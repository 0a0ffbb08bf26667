"""Panel shapes shared by the dashboards: time series, stats and bar gauges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from grafana_foundation_sdk.builders import bargauge, stat, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm

from compiler.targets.grafana import sdk

PanelBuilder = TypeVar("PanelBuilder", timeseries.Panel, stat.Panel, bargauge.Panel)


@dataclass(frozen=True)
class Described:
    """What every data panel has: id, title, description, unit, queries and place."""

    panel_id: int
    title: str
    description: str
    unit: str
    targets: Sequence[prom.Dataquery]
    where: dm.GridPos

    def on(self, panel: PanelBuilder) -> PanelBuilder:
        """``panel`` with these, and Prometheus as its data source."""
        panel = (
            panel.id(self.panel_id)
            .title(self.title)
            .description(self.description)
            .datasource(sdk.DATASOURCE)
            .unit(self.unit)
            .grid_pos(self.where)
        )
        for query in self.targets:
            panel = panel.with_target(query)
        return panel


def time_series(
    described: Described,
    *,
    scale: common.ScaleDistribution = common.ScaleDistribution.LINEAR,
    limits: ThresholdsConfig | None = None,
) -> timeseries.Panel:
    """Lines over time with a table legend (last and max value per series).

    ``limits`` draws thresholds as dashed lines; without it the base colour stays green.
    """
    panel = (
        described.on(timeseries.Panel())
        .line_width(2)
        .fill_opacity(0)
        .show_points(common.VisibilityMode.NEVER)
        .span_nulls(False)
        .legend(
            cb.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.TABLE)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
            .calcs(["lastNotNull", "max"])
        )
        .tooltip(
            cb.VizTooltipOptions()
            .mode(common.TooltipDisplayMode.MULTI)
            .sort(common.SortOrder.DESCENDING)
        )
    )
    if scale is common.ScaleDistribution.SYMLOG:
        # Burn rates span 0 (healthy) to 1000 (outage): symlog keeps 0 and shows both.
        panel = panel.scale_distribution(
            cb.ScaleDistributionConfig().type(scale).log(10).linear_threshold(1)
        )
    elif scale is common.ScaleDistribution.LOG:
        panel = panel.scale_distribution(cb.ScaleDistributionConfig().type(scale).log(10))
    if limits is not None:
        panel = panel.thresholds(limits).thresholds_style(
            cb.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)
        )
    else:
        panel = panel.thresholds(sdk.thresholds(sdk.GREEN))
    return panel


def single_stat(described: Described, limits: ThresholdsConfig) -> stat.Panel:
    """The latest value of each series, coloured by ``limits``, with its trend behind it."""
    return (
        _latest(described.on(stat.Panel()), limits)
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.AREA)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
    )


def bar_gauge(described: Described, limits: ThresholdsConfig) -> bargauge.Panel:
    """One horizontal bar per series (its latest value), coloured by ``limits``."""
    return (
        _latest(described.on(bargauge.Panel()), limits)
        .min(0)
        .display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .orientation(common.VizOrientation.HORIZONTAL)
    )


LatestPanel = TypeVar("LatestPanel", stat.Panel, bargauge.Panel)


def _latest(panel: LatestPanel, limits: ThresholdsConfig) -> LatestPanel:
    """A panel of each series' latest value, coloured by ``limits``."""
    return panel.thresholds(limits).reduce_options(
        cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)
    )

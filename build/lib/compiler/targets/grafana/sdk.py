"""Small helpers over grafana-foundation-sdk, shaped by what Grafana's schema accepts.

The SDK's own conveniences sometimes write what its JSON Schema rejects: overrides by
name or query carry string matcher options, override values must be objects, and a data
link needs every key. The helpers here only build shapes that validate, so the dashboard
modules can stay about what the panels show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    DashboardLink,
    DatasourceVariable,
    QueryVariable,
    ThresholdsConfig,
    TimePicker,
)
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

# dashboard-linter's template-datasource-rule: one datasource variable named "datasource",
# labelled "Data source"; every panel, target and query variable uses it as ${datasource}.
DATASOURCE_VARIABLE = "datasource"
DATASOURCE_UID = "${datasource}"
DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
GRID_COLUMNS = 24

# Colours by name, as Grafana's palette calls them.
RED, ORANGE, GREEN, BLUE, GREY = "red", "orange", "green", "blue", "text"
SEVERITY_COLORS = {"critical": RED, "warning": ORANGE, "info": BLUE}


def target(
    expr: str, ref: str, legend: str, *, instant: bool = False, table: bool = False
) -> prom.Dataquery:
    """A Prometheus query on ${datasource} (set per target, as Grafana 8.3+ stores it)."""
    query = prom.Dataquery().expr(expr).ref_id(ref).legend_format(legend).datasource(DATASOURCE)
    query = query.instant() if instant else query.range()
    return query.format(PromQueryFormat.TABLE) if table else query


def thresholds(base: str, *steps: tuple[float, str]) -> ThresholdsConfig:
    """Absolute colour steps: ``base`` below the first value, then each colour from its value."""
    return (
        ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps(
            [dm.Threshold(value=None, color=base)]
            + [dm.Threshold(value=value, color=color) for value, color in steps]
        )
    )


def by_names(names: Sequence[str]) -> dm.MatcherConfig:
    """Fields whose display name is one of ``names`` (object options: schema-valid)."""
    return dm.MatcherConfig(id_val="byNames", options={"mode": "include", "names": list(names)})


def reference_line(color: str) -> list[dm.DynamicConfigValue]:
    """Override properties drawing a series as a dashed reference line in ``color``."""
    return [
        dm.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color}),
        dm.DynamicConfigValue(id_val="custom.lineStyle", value={"fill": "dash", "dash": [10, 10]}),
    ]


def position(x: int, y: int, w: int, h: int) -> dm.GridPos:
    """A place on Grafana's 24-column grid."""
    return dm.GridPos(x=x, y=y, w=w, h=h)


def link(title: str, url: str, tooltip: str) -> DashboardLink:
    """A data link with every key the schema requires."""
    return (
        DashboardLink(title)
        .type(dm.DashboardLinkType.LINK)
        .url(url)
        .tooltip(tooltip)
        .icon("dashboard")
        .tags([])
        .as_dropdown(False)
        .target_blank(False)
        .include_vars(False)
        .keep_time(False)
    )


def datasource_variable() -> DatasourceVariable:
    """The Prometheus data source every query runs on."""
    return DatasourceVariable(DATASOURCE_VARIABLE).label("Data source").type("prometheus")


def query_variable(
    name: str,
    label: str,
    query: str,
    *,
    description: str,
    multi: bool = True,
    current: str | None = None,
) -> QueryVariable:
    """A variable from ``label_values(...)``, refreshed with the time range (linter rule).

    Multi-value variables offer "All", matching any value (and, as ``.*``, a missing label).
    """
    variable = (
        QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(multi)
    )
    if multi:
        variable = variable.all_value(".*")
    if current is not None:
        variable = variable.current(dm.VariableOption(selected=True, text=current, value=current))
    return variable


def dashboard(uid: str, title: str, description: str, tags: Sequence[str], time: str) -> Dashboard:
    """A read-only dashboard with the data source variable, refreshed every minute."""
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(list(tags))
        .time(f"now-{time}", "now")
        .refresh("1m")
        .timepicker(TimePicker().refresh_intervals(["1m", "5m", "15m", "1h"]))
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .readonly()
        .with_variable(datasource_variable())
    )


# Keys a reader looks for first; the SDK's order follows its model, schemaVersion first.
_LEADING_KEYS = ("uid", "title", "description", "tags")


def to_plain(built: Any) -> dict[str, Any]:
    """A built SDK model as plain JSON data (the SDK's own encoder walks nested models)."""
    data: dict[str, Any] = json.loads(JSONEncoder().encode(built))
    leading = {key: data.pop(key) for key in _LEADING_KEYS if key in data}
    return {**leading, **data}

"""Drawing a dashboard's panels with matplotlib, from the results of their real queries.

This is a reviewer's approximation of what Grafana shows, not a Grafana: the layout
follows each panel's gridPos (rows repeated per value), time series use the panel's
unit, scale, thresholds and dashed reference lines, stats and bar gauges their threshold
colours, state timelines their value mappings, and the overview table Grafana's merge,
organize and sort transformations. Firing alerts are shaded on time series, as Grafana
draws the dashboard's alert annotations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: never a display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from matplotlib.ticker import MultipleLocator

COLORS = {
    "red": "#E02F44",
    "orange": "#FF9830",
    "green": "#56A64B",
    "blue": "#3274D9",
    "text": "#6E6E6E",
}
PALETTE = ("#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9", "#705DA0")
GRID_UNIT_INCHES = 0.32  # one Grafana grid row (30 px) in the picture
WIDTH_INCHES = 22.0
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass
class Series:
    """One result series: its name as the legend shows it, and its points."""

    name: str
    labels: dict[str, str]
    times: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)


@dataclass
class PanelResult:
    """A panel (one repetition of it) with the series its targets returned, by refId."""

    panel: dict[str, Any]
    top: int  # grid row of its top edge in the expanded dashboard
    series: dict[str, list[Series]] = field(default_factory=dict)
    repeat: str | None = None


def legend(template: str, labels: dict[str, str]) -> str:
    """A legend format with ``{{label}}`` filled in, as Grafana writes series names."""
    if not template or template == "__auto":
        inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
        return f"{labels.get('__name__', '')}{{{inner}}}"
    return " ".join(_LEGEND.sub(lambda m: labels.get(m.group(1), ""), template).split())


def series_from(result: Sequence[dict[str, Any]], template: str) -> list[Series]:
    """Prometheus API results (vector or matrix) as :class:`Series`."""
    found = []
    for item in result:
        labels = dict(item["metric"])
        points = item.get("values") or [item["value"]]
        found.append(
            Series(
                legend(template, labels),
                labels,
                [float(t) for t, _ in points],
                [float(v) for _, v in points],
            )
        )
    return sorted(found, key=lambda s: s.name)


def _color(name: str | None, fallback: str = COLORS["text"]) -> str:
    if not name:
        return fallback
    return COLORS.get(name, name if name.startswith("#") else fallback)


def _threshold_color(panel: dict[str, Any], value: float) -> str:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    color = "green"
    for step in steps:
        if step.get("value") is None or value >= step["value"]:
            color = step.get("color", color)
    return _color(color)


def format_value(value: float, unit: str, decimals: int | None = None) -> str:
    """A number as the panel's unit shows it."""
    if value != value:  # NaN
        return "NaN"
    if unit == "percentunit":
        return f"{value * 100:.{2 if decimals is None else decimals}f}%"
    if unit == "percent":
        return f"{value:.{2 if decimals is None else decimals}f}%"
    if unit in ("s",):
        return f"{value:.3g} s"
    if unit in ("reqps", "cps", "ops"):
        return f"{value:.3g} /s"
    if decimals is not None:
        return f"{value:.{decimals}f}"
    if abs(value) >= 1000:
        return f"{value / 1000:.3g}K" if abs(value) < 1e6 else f"{value / 1e6:.3g}M"
    return f"{value:.3g}"


def _overrides(panel: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """Series name → (colour, dashed) from byNames overrides."""
    styled: dict[str, tuple[str, bool]] = {}
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        matcher = override.get("matcher", {})
        if matcher.get("id") != "byNames":
            continue
        color, dashed = COLORS["text"], False
        for prop in override.get("properties", []):
            if prop.get("id") == "color":
                color = _color(prop["value"].get("fixedColor"))
            if prop.get("id") == "custom.lineStyle":
                dashed = prop["value"].get("fill") == "dash"
        for name in matcher.get("options", {}).get("names", []):
            styled[name] = (color, dashed)
    return styled


def _time_axis(axes: Axes) -> None:
    """Times are plotted in days since the epoch (matplotlib's date numbers), shown as UTC."""
    axes.xaxis.set_major_locator(MultipleLocator(1 / 24))  # every hour
    axes.xaxis.set_major_formatter(
        lambda value, _: datetime.fromtimestamp(value * 86400, UTC).strftime("%H:%M")
    )
    axes.tick_params(labelsize=7)
    axes.grid(alpha=0.3)


def _days(times: Sequence[float]) -> list[float]:
    return [t / 86400 for t in times]


def draw_time_series(
    axes: Axes, result: PanelResult, firing: Sequence[tuple[float, float]]
) -> None:
    """Lines per series, reference lines dashed, thresholds dashed, alerts shaded."""
    panel = result.panel
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    unit = defaults.get("unit", "none")
    styled = _overrides(panel)
    palette = iter(PALETTE * 8)
    for start, end in firing:
        axes.axvspan(start / 86400, end / 86400, color=COLORS["red"], alpha=0.08, lw=0)
    for ref in sorted(result.series):
        for one in result.series[ref]:
            values = [v * 100 if unit == "percentunit" else v for v in one.values]
            color, dashed = styled.get(one.name, (next(palette), False))
            axes.plot(
                _days(one.times),
                values,
                color=color,
                linestyle="--" if dashed else "-",
                linewidth=1.4,
                label=one.name[:48],
            )
    custom = defaults.get("custom", {})
    if custom.get("thresholdsStyle", {}).get("mode") in ("dashed", "line"):
        for step in defaults.get("thresholds", {}).get("steps", [])[1:]:
            level = step["value"] * (100 if unit == "percentunit" else 1)
            axes.axhline(level, color=_color(step.get("color")), linestyle="--", linewidth=1)
    scale = custom.get("scaleDistribution", {})
    if scale.get("type") == "symlog":
        axes.set_yscale("symlog", linthresh=scale.get("linearThreshold", 1))
    elif scale.get("type") == "log":
        axes.set_yscale("log")
    if unit == "percentunit":
        axes.yaxis.set_major_formatter(lambda v, _: f"{v:.4g}%")
    _time_axis(axes)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=6, loc="upper left", ncol=2, framealpha=0.6)


def draw_stat(axes: Axes, result: PanelResult, horizontal_bars: bool = False) -> None:
    """The last value of each series, on its threshold colour (or as bars)."""
    panel = result.panel
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    unit = defaults.get("unit", "none")
    shown = [one for ref in sorted(result.series) for one in result.series[ref] if one.values]
    axes.set_axis_off()
    if not shown:
        axes.text(0.5, 0.5, "No data", ha="center", va="center", fontsize=10)
        return
    height = 1 / len(shown)
    top = max((one.values[-1] for one in shown), default=1) or 1
    for index, one in enumerate(shown):
        value = one.values[-1]
        color = _threshold_color(panel, value)
        y = 1 - (index + 1) * height
        if horizontal_bars:
            axes.barh(
                y + height / 2, max(value, 0) / top * 0.6, height * 0.6, left=0.35, color=color
            )
            axes.text(0.0, y + height / 2, one.name[:28], va="center", fontsize=7)
            axes.text(
                0.97, y + height / 2, format_value(value, unit), va="center", ha="right", fontsize=8
            )
            continue
        axes.add_patch(Rectangle((0, y + 0.02), 1, height - 0.04, color=color, alpha=0.85))
        axes.text(0.03, y + height * 0.7, one.name[:40], fontsize=7, color="white", va="center")
        axes.text(
            0.5,
            y + height * 0.35,
            format_value(value, unit, defaults.get("decimals")),
            fontsize=min(20, 60 * height),
            color="white",
            ha="center",
            va="center",
            weight="bold",
        )
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)


def draw_state_timeline(axes: Axes, result: PanelResult) -> None:
    """One lane per series, coloured by the panel's value mappings."""
    panel = result.panel
    mapping: dict[str, dict[str, Any]] = {}
    for value_map in panel.get("fieldConfig", {}).get("defaults", {}).get("mappings", []):
        mapping.update(value_map.get("options", {}))
    lanes = [one for ref in sorted(result.series) for one in result.series[ref]]
    for lane, one in enumerate(lanes):
        # Runs of one value become one bar, as Grafana's "merge equal values" draws them.
        runs: list[tuple[float, float, float]] = []
        for stamp, value in zip(one.times, one.values, strict=True):
            if runs and runs[-1][2] == value and stamp - runs[-1][1] <= 120:
                runs[-1] = (runs[-1][0], stamp, value)
            else:
                runs.append((stamp, stamp, value))
        for start, end, value in runs:
            color = _color(mapping.get(format(value, "g"), {}).get("color"), COLORS["text"])
            axes.barh(lane, (end - start + 60) / 86400, left=start / 86400, color=color, height=0.7)
    axes.set_yticks(range(len(lanes)), [one.name[:40] for one in lanes], fontsize=7)
    _time_axis(axes)


def merged_table(result: PanelResult) -> tuple[list[str], list[list[Any]]]:
    """Grafana's merge → organize → sortBy on instant table results: header and rows."""
    rows: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for ref in sorted(result.series):
        for one in result.series[ref]:
            key_labels = {k: v for k, v in one.labels.items() if k not in ("__name__", "alerts")}
            row = rows.setdefault(tuple(sorted(key_labels.items())), dict(key_labels))
            row.update({k: v for k, v in one.labels.items() if k == "alerts"})
            row[f"Value #{ref}"] = one.values[-1] if one.values else None
    organize: dict[str, Any] = {}
    sort: list[dict[str, Any]] = []
    for transformation in result.panel.get("transformations", []):
        if transformation["id"] == "organize":
            organize = transformation["options"]
        if transformation["id"] == "sortBy":
            sort = transformation["options"].get("sort", [])
    order = organize.get("indexByName", {})
    excluded = {k for k, v in organize.get("excludeByName", {}).items() if v}
    names = sorted(
        {name for row in rows.values() for name in row} - excluded,
        key=lambda n: (order.get(n, len(order)), n),
    )
    renamed = [organize.get("renameByName", {}).get(n, n) for n in names]
    table = [[row.get(n, "") for n in names] for row in rows.values()]
    for rule in reversed(sort):
        if rule["field"] in renamed:
            column = renamed.index(rule["field"])
            table.sort(
                key=lambda r: r[column] if isinstance(r[column], float) else float("inf"),
                reverse=bool(rule.get("desc")),
            )
    return renamed, table


def draw_table(axes: Axes, result: PanelResult) -> None:
    """The merged table, with the overrides' cell colours."""
    axes.set_axis_off()
    header, rows = merged_table(result)
    if not rows:
        axes.text(0.5, 0.5, "No data", ha="center", va="center")
        return
    defaults = result.panel.get("fieldConfig", {}).get("defaults", {})
    mapping: dict[str, dict[str, Any]] = {}
    for value_map in defaults.get("mappings", []):
        mapping.update(value_map.get("options", {}))
    column_steps: dict[str, list[dict[str, Any]]] = {}
    for override in result.panel.get("fieldConfig", {}).get("overrides", []):
        for prop in override.get("properties", []):
            if prop.get("id") == "thresholds":
                for name in override["matcher"].get("options", {}).get("names", []):
                    column_steps[name] = prop["value"]["steps"]
    cells, colors = [], []
    for row in rows:
        texts, tints = [], []
        for name, value in zip(header, row, strict=True):
            tint = "white"
            if isinstance(value, float):
                texts.append(f"{value:.{defaults.get('decimals', 3)}f}")
                for step in column_steps.get(name, []):
                    if step.get("value") is None or value >= step["value"]:
                        tint = _color(step["color"])
            else:
                texts.append(str(value))
                if str(value) in mapping:
                    tint = _color(mapping[str(value)].get("color"))
            tints.append(tint if tint == "white" else tint + "80")
        cells.append(texts)
        colors.append(tints)
    drawn = axes.table(cellText=cells, colLabels=header, cellColours=colors, loc="upper center")
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(7)
    drawn.scale(1, 1.3)


def render(
    title: str,
    results: Sequence[PanelResult],
    firing: Sequence[tuple[float, float]],
    path: Path,
    note: str = "",
) -> Path:
    """Draw every panel where its gridPos puts it and save the picture as PNG."""
    bottom = max((r.top + r.panel["gridPos"]["h"] for r in results), default=1)
    header = 0.7  # inches above the grid for the dashboard's title
    height = header + bottom * GRID_UNIT_INCHES
    figure = plt.figure(figsize=(WIDTH_INCHES, height), dpi=80)
    figure.text(0.005, 1 - 0.25 / height, title, fontsize=14, weight="bold", va="center")
    if note:
        figure.text(0.005, 1 - 0.55 / height, note, fontsize=9, color=COLORS["text"], va="center")
    for result in results:
        grid = result.panel["gridPos"]
        kind = result.panel["type"]
        box_left = grid["x"] / 24 * WIDTH_INCHES
        box_top = header + result.top * GRID_UNIT_INCHES
        box_width = grid["w"] / 24 * WIDTH_INCHES
        box_height = grid["h"] * GRID_UNIT_INCHES
        if kind == "row":
            text = result.panel.get("title", "").replace("$slo", result.repeat or "")
            y = 1 - (box_top + box_height / 2) / height
            figure.text(0.005, y, text, fontsize=12, weight="bold", va="center")
            continue
        margins = {"timeseries": 0.6, "state-timeline": 3.2}  # room for tick labels
        left = box_left + margins.get(kind, 0.1)
        right = box_left + box_width - 0.15
        top = box_top + 0.3
        bottom = box_top + box_height - (0.35 if kind in margins else 0.1)
        axes = figure.add_axes(
            (
                left / WIDTH_INCHES,
                1 - bottom / height,
                (right - left) / WIDTH_INCHES,
                (bottom - top) / height,
            )
        )
        name = result.panel.get("title", "")
        axes.set_title(name, fontsize=9, loc="left")
        if kind == "timeseries":
            draw_time_series(axes, result, firing)
        elif kind == "state-timeline":
            draw_state_timeline(axes, result)
        elif kind == "table":
            draw_table(axes, result)
        else:
            draw_stat(axes, result, horizontal_bars=kind == "bargauge")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, facecolor="white")
    plt.close(figure)
    return path

"""`slo explain --plot`: each tier's time to fire against the error ratio, drawn to PNG.

The curve is the exact model's (compiler.review.alerting), not the workbook's hyperbola, so
it shows the base window's ramp and the evaluation steps; the workbook's ``W * θ / e`` is
drawn dashed beside each tier for comparison.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never a display

import matplotlib.pyplot as plt

from compiler.review import alerting
from compiler.review.explain import Explanation

POINTS = 24  # error ratios per tier, spaced evenly on a log scale from threshold to 100 %


def ratios(threshold: Fraction) -> list[Fraction]:
    """Error ratios from just above ``threshold`` to 1, evenly spaced on a log scale."""
    low = float(threshold * alerting.JUST_ABOVE)
    return [
        Fraction(low * (1 / low) ** (i / (POINTS - 1))).limit_denominator(10**9)
        for i in range(POINTS)
    ]


def curve(found: Explanation, index: int) -> list[tuple[float, float]]:
    """(error ratio, minutes to fire) of one tier, where it fires."""
    slo, report = found.slo, found.tiers[index]
    points = []
    for ratio in ratios(Fraction(report.threshold)):
        fires = alerting.time_to_fire(slo, report.tier, min(ratio, Fraction(1)))
        if fires is not None:
            points.append((float(ratio), fires / 60))
    return points


def detection_plot(found: Explanation, path: Path) -> None:
    """Draw the time to fire of every tier that can fire to ``path`` (PNG)."""
    figure, axes = plt.subplots(figsize=(9, 5.5), dpi=100)
    for index, report in enumerate(found.tiers):
        points = curve(found, index)
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        line = axes.plot(
            [x * 100 for x in xs],
            ys,
            marker="o",
            markersize=3,
            label=f"{alerting.label(report.tier)} ({report.tier.severity})",
        )[0]
        window = report.tier.long_window.seconds / 60
        hold = report.tier.for_.seconds / 60 if report.tier.for_ else 0
        workbook = [window * float(report.threshold) / x + hold for x in xs]
        axes.plot(
            [x * 100 for x in xs], workbook, linestyle="--", color=line.get_color(), alpha=0.5
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("error ratio (%)")
    axes.set_ylabel("minutes from the step to the alert firing")
    axes.set_title(
        f"{found.slo.service}/{found.slo.name}: time to fire by error ratio "
        "(dashed: the SRE workbook's W x threshold / ratio)",
        fontsize=10,
    )
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, facecolor="white")
    plt.close(figure)

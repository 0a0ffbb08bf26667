"""PromQL of the SLO panels: every window and objective comes from a recorded series.

Windows are a label on the recorded series, and which windows matter is itself recorded:
the period is ``slo:info``'s ``period`` label, each tier's windows are the ``long_window``
and ``short_window`` labels of ``slo:alert_burn_factor:ratio``. Queries join on those with
``label_replace``, so a new SLO, period or tier shows up without changing a dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler import conventions as c
from compiler.promql import quote

W = c.WINDOW_LABEL
ON_SLO_WINDOW = f"on ({c.SERVICE_LABEL}, {c.SLO_LABEL}, {W})"
FROM_SECONDS = "${__from:date:seconds}"


def regex_matcher(label: str, variable: str, *, or_missing: bool = False) -> str:
    """``label=~"$variable"``; ``or_missing`` also matches series without the label."""
    value = f"${variable}|" if or_missing else f"${variable}"
    return f"{label}=~{quote(value)}"


class SloQueries:
    """Queries of one dashboard, filtered by its variables.

    ``slo`` selects meta series of the chosen SLOs; ``group`` also filters by the group
    labels (tenant, ...), keeping SLOs that are not split by them.
    """

    def __init__(self, service_matcher: str, slo_matcher: str, group_labels: Sequence[str]):
        self.slo = f"{service_matcher}, {slo_matcher}"
        groups = [regex_matcher(label, label, or_missing=True) for label in group_labels]
        self.group = ", ".join([self.slo, *groups])

    def _with_window_of(self, meta: str, label: str) -> str:
        """``meta`` with ``window`` set to the value of its ``label``."""
        return f'label_replace({meta}, "{W}", "$1", "{label}", "(.*)")'

    def period_window(self) -> str:
        """One series per SLO whose ``window`` label is the SLO's period."""
        return self._with_window_of(f"{c.INFO}{{{self.slo}}}", "period")

    def tier_windows(self, which: str = c.LONG_WINDOW_LABEL) -> str:
        """One series per tier whose ``window`` is its long (or short) window."""
        return self._with_window_of(f"{c.TIER_BURN_FACTOR}{{{self.slo}}}", which)

    def fastest_tier_window(self) -> str:
        """The long window of the tier with the highest burn factor, per SLO."""
        fastest = (
            f"topk by ({c.SERVICE_LABEL}, {c.SLO_LABEL}) (1, {c.TIER_BURN_FACTOR}{{{self.slo}}})"
        )
        return self._with_window_of(fastest, c.LONG_WINDOW_LABEL)

    def sli_over(self, windows: str) -> str:
        """SLI (good / total) over the windows that ``windows`` names."""
        return f"1 - ({c.ERROR_RATIO}{{{self.group}}}\nand {ON_SLO_WINDOW}\n{windows})"

    def objective(self) -> str:
        """The objective as a ratio (0.999)."""
        return f"{c.OBJECTIVE}{{{self.slo}}}"

    def budget_remaining(self) -> str:
        """Share of the period's error budget left (negative when overspent)."""
        return f"{c.BUDGET_REMAINING}{{{self.group}}}"

    def burn_rate_over(self, windows: str) -> str:
        """Burn rate over the windows that ``windows`` names."""
        return f"{c.BURN_RATE}{{{self.group}}}\nand {ON_SLO_WINDOW}\n({windows})"

    def burn_rates(self) -> str:
        """Burn rate over every window a tier watches, long and short."""
        long, short = c.LONG_WINDOW_LABEL, c.SHORT_WINDOW_LABEL
        return self.burn_rate_over(f"{self.tier_windows(long)}\nor {self.tier_windows(short)}")

    def fastest_burn(self) -> str:
        """Burn rate over the long window of the tier with the highest factor."""
        return self.burn_rate_over(self.fastest_tier_window())

    def tier_thresholds(self) -> str:
        """Each tier's burn factor (the threshold both its windows must exceed)."""
        return f"{c.TIER_BURN_FACTOR}{{{self.slo}}}"

    def budget_consumed(self) -> str:
        """Share of the period's budget consumed since the start of the time range shown.

        The recorded consumption per second, averaged over the part of the range up to each
        point (the subquery keeps only steps after the range start) times the time elapsed.
        """
        after_start = f"(vector(time()) >= {FROM_SECONDS})"
        consumption = f"{c.BUDGET_CONSUMPTION}{{{self.group}}}"
        return (
            f"avg_over_time(({consumption} and on () {after_start})[$__range:$__interval])\n"
            f"* (time() - {FROM_SECONDS})"
        )

    def constant_burn(self) -> str:
        """What a constant burn at 1x (exactly the budget over the period) consumes."""
        return f"(time() - {FROM_SECONDS}) / {c.PERIOD}{{{self.slo}}}"

    def events_per_tier_window(self) -> str:
        """Events in each tier's long window (rate times the window's length)."""
        seconds = f"{c.WINDOW_SECONDS}{{{self.slo}}}"
        events = f"{c.EVENTS_TOTAL}{{{self.group}}} * {ON_SLO_WINDOW} group_left () {seconds}"
        return f"({events})\nand {ON_SLO_WINDOW}\n{self.tier_windows()}"

    def guard_levels(self) -> str:
        """Events a tier's long window must hold before the tier may fire (guarded tiers)."""
        by = f"{c.SERVICE_LABEL}, {c.SLO_LABEL}, {c.LONG_WINDOW_LABEL}"
        return f"max by ({by}) ({c.TIER_MIN_EVENTS}{{{self.slo}}} > 0)"

    def alert_states(self) -> str:
        """Per tier: 2 firing, 1 pending, 0 quiet (over the selected groups)."""
        tier = (c.ALERT_LABEL, c.SEVERITY_LABEL, c.LONG_WINDOW_LABEL, c.SHORT_WINDOW_LABEL)
        by = ", ".join(tier)
        firing = f'ALERTS{{alertstate="firing", {self.group}}} * 2'
        pending = f'ALERTS{{alertstate="pending", {self.group}}}'
        renamed = (
            f'label_replace({firing}\nor {pending}, "{c.ALERT_LABEL}", "$1", "alertname", "(.*)")'
        )
        quiet = f"0 * max by ({by}) ({c.TIER_BURN_FACTOR}{{{self.slo}}})"
        return f"max by ({by}) (\n  {renamed}\n)\nor {quiet}"

    def firing_alerts(self) -> str:
        """The SLOs' firing alerts, for annotations."""
        return f'ALERTS{{alertstate="firing", {self.group}}}'

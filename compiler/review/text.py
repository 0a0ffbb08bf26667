"""Review reports as plain text for a terminal: aligned columns, no markup."""

from __future__ import annotations

from collections.abc import Sequence

from compiler import burn_rate
from compiler.review import alerting
from compiler.review.diff_rows import counts, routing_rows, service_rows
from compiler.review.explain import Explanation, describe_sli, sli_fields
from compiler.review.semantic_diff import ModelDiff


def table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Rows as lines with columns padded to their widest cell (the first row is the head)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        (
            indent + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def percent(ratio: object) -> str:
    """A ratio (Decimal or Fraction) as a percentage with at most 3 significant decimals."""
    value = float(ratio) * 100  # type: ignore[arg-type]
    text = f"{value:.3g}" if value < 10 else f"{value:.1f}".removesuffix(".0")
    return f"{text}%"


def timing(seconds: int | None, spent: object | None) -> str:
    """``3m (6.94 % of budget)`` or ``never``."""
    if seconds is None or spent is None:
        return "never"
    return f"{alerting.format_seconds(seconds)} ({percent(spent)} budget)"


def tier_rows(reports: Sequence[alerting.TierReport]) -> list[list[str]]:
    """The tiers table: head and one row per tier."""
    rows = [
        [
            "alert",
            "severity",
            "windows",
            "for",
            "fires above",
            "full outage",
            "burn at factor",
            "resets",
            "guard",
        ]
    ]
    for report in reports:
        tier = report.tier
        guard = []
        if tier.min_events:
            guard.append(f">={tier.min_events} events")
        if tier.min_bad_events:
            guard.append(f">={tier.min_bad_events} bad")
        if tier.outage_floor:
            guard = [" & ".join(guard) + f" | >={tier.outage_floor} failed"]
        rows.append(
            [
                tier.alert,
                tier.severity,
                f"{tier.long_window}/{tier.short_window}",
                str(tier.for_) if tier.for_ else "-",
                f"{percent(report.threshold)} ({burn_rate.format_number(tier.burn_factor)}x)",
                timing(report.outage.fires_after, report.outage.budget_spent),
                timing(report.at_factor.fires_after, report.at_factor.budget_spent),
                alerting.format_seconds(report.reset_after),
                ", ".join(guard) or "-",
            ]
        )
    return rows


def explanation(found: Explanation) -> str:
    """The whole `slo explain` report."""
    slo, spec = found.slo, found.spec
    budget = slo.error_budget
    one_in = 1 / budget
    lines = [
        f"{slo.service}/{slo.name}" + (f": {slo.description}" if slo.description else ""),
        f"  spec          {slo.location.file}:{slo.location.line}",
        f"  owner         {spec.service.owner}",
        f"  SLI           {describe_sli(slo)}"
        + (f", per {', '.join(slo.group_by)}" if slo.group_by else ""),
        *(
            f"    {name.removeprefix('SLI ').ljust(10)}  {value}"
            for name, value in sli_fields(slo).items()
        ),
        f"  objective     {burn_rate.format_number(slo.objective)}% over {slo.period}",
        f"  error budget  {burn_rate.format_percent(budget)} of events (1 in "
        f"{burn_rate.format_number(one_in)}); "
        f"{alerting.format_seconds(found.budget_seconds)} of full outage per {slo.period}",
    ]
    if found.traffic:
        for group, rate in sorted(found.traffic.items()):
            events = alerting.budget_in_events(slo, rate)
            who = group or ("a group" if slo.group_by else "all")
            lines.append(
                f"    {who}: {rate:.3g} events/s {found.traffic_source}, {events:,.0f} bad "
                f"events per {slo.period} at that rate"
            )
    lines += [
        "",
        "Tiers (rules evaluated every 1m; after a step from no errors at steady traffic,",
        "enough for every guard; budget: share of the period's spent before it fires)",
    ]
    lines += table(tier_rows(found.tiers)) if found.tiers else ["  none: this SLO never pages"]
    guarded = [r for r in found.tiers if r.min_events_per_second is not None]
    if guarded:
        lines += ["", "Low-traffic guard (below it the tier never fires)"]
        for report in guarded:
            assert report.min_events_per_second is not None
            lines.append(
                f"  {alerting.label(report.tier)}: {report.tier.min_events} events in "
                f"{report.tier.long_window}, i.e. at least "
                f"{float(report.min_events_per_second):.3g} events/s"
                + (" per group" if slo.group_by else "")
            )
    for name, rows in found.guards:
        when = "current" if found.traffic_source == "now" else "the expected"
        lines.append(f"  {name} at {when} traffic:")
        for row in rows:
            state = (
                f"met; a full outage pages after {alerting.format_seconds(row.fires_after)}"
                if row.met
                else "NOT met: a full outage would not page"
            )
            who = row.group or ("a group" if slo.group_by else "all")
            lines.append(f"    {who} ({row.events_per_second:.3g}/s): {state}")
    lines += ["", "Produces"]
    lines += [f"  rules       {rule}" for rule in found.rules]
    lines += [f"  tests       {test}" for test in found.tests]
    lines += [f"  dashboards  {board}" for board in found.dashboards]
    lines += [f"  route       {severity} -> {receiver}" for severity, receiver in found.routes]
    return "\n".join(lines) + "\n"


def diff_report(found: ModelDiff, base: str, head: str) -> str:
    """`slo diff` for a terminal: per service, rows indented by SLO and tier."""
    lines = [f"slo diff: {base} -> {head}"]
    if found.empty:
        return "\n".join([*lines, "no change to SLOs, signals, alerting or routing"]) + "\n"
    lines.append(counts(found))
    groups = [
        (
            f"{s.name}" + ("" if s.status.value == "changed" else f" ({s.status.value})"),
            service_rows(s.items, s.fields),
        )
        for s in found.services
    ]
    if found.routing:
        groups.append(("routing", routing_rows(found)))
    for title, rows in groups:
        lines += ["", title]
        table_rows: list[list[str]] = []
        previous = None
        for row in rows:
            subject = "" if row.subject == previous else "  " * row.depth + row.subject
            previous = row.subject
            # A row that only names an SLO (or a removal) has nothing on either side.
            bare = not row.before and row.after in ("", "-")
            arrow = "" if bare else f"{row.before} -> {row.after}"
            table_rows.append(
                [subject, row.change, arrow, f"[weaker: {row.weaker}]" if row.weaker else ""]
            )
        lines += table(table_rows)
    return "\n".join(lines) + "\n"

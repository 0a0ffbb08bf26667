"""A model diff as rows (subject, change, before, after, weaker), which the text and Markdown
reports lay out, one group of rows per service and one for routing."""

from __future__ import annotations

from dataclasses import dataclass

from compiler.review.semantic_diff import (
    FieldChange,
    ItemChange,
    ModelDiff,
    Status,
    TierChange,
)

NONE = "-"
OUTAGE = "fires on full outage after"
THRESHOLD = "fires above"


@dataclass(frozen=True)
class Row:
    """One line of a report; ``depth`` 0 for an SLO or signal, 1 for a tier."""

    subject: str
    change: str
    before: str
    after: str
    weaker: str = ""  # the reasons, joined; empty when paging is not weaker
    depth: int = 0


def service_rows(items: tuple[ItemChange, ...], fields: tuple[FieldChange, ...]) -> list[Row]:
    """Rows of one service: its own fields, then each SLO and signal, then their tiers."""
    rows = [_field_row("service", change) for change in fields]
    for item in items:
        rows.extend(item_rows(item))
    return rows


def item_rows(item: ItemChange) -> list[Row]:
    """An SLO's or signal's rows: its status, its fields, its tiers."""
    subject = f"{'SLO' if item.kind == 'slo' else 'signal'} {item.name}"
    rows: list[Row] = []
    if item.status is Status.ADDED:
        facts = ", ".join(change.after for change in item.summary)
        rows.append(Row(subject, "added", NONE, facts))
    elif item.status is Status.REMOVED:
        rows.append(Row(subject, "removed", "", NONE, "removed"))
    elif item.status is Status.RENAMED:
        rows.append(Row(subject, "renamed", item.old_name or NONE, item.name))
    elif not item.fields:  # only its tiers changed: a row to hang them under
        rows.append(Row(subject, "changed", "", ""))
    rows += [_field_row(subject, change) for change in item.fields]
    for tier in item.tiers:
        rows.extend(tier_rows(tier))
    return rows


def tier_rows(tier: TierChange) -> list[Row]:
    """A tier's rows: added and removed ones in one row, changed ones field by field."""
    subject = tier.name
    if tier.status is Status.REMOVED:
        return [Row(subject, "removed", _facts(tier.fields, before=True), NONE, "removed", 1)]
    if tier.status is Status.ADDED:
        facts = _facts(tier.fields, before=False)
        effects = "; ".join(f"{e.name} {e.after}" for e in tier.effects[:3])
        return [Row(subject, "added", NONE, f"{facts}; {effects}", "", 1)]
    return [_field_row(subject, change, 1) for change in (*tier.fields, *tier.effects)]


def _facts(fields: tuple[FieldChange, ...], before: bool) -> str:
    shown = {"severity", "windows", "burn factor", "for", "guard"}
    return ", ".join(
        f"{change.name} {change.before if before else change.after}"
        for change in fields
        if change.name in shown and (change.before if before else change.after) != NONE
    )


def _field_row(subject: str, change: FieldChange, depth: int = 0) -> Row:
    return Row(subject, change.name, change.before, change.after, change.weaker or "", depth)


def routing_rows(diff: ModelDiff) -> list[Row]:
    """Routing's rows."""
    return [_field_row("routing", change) for change in diff.routing]


def counts(diff: ModelDiff) -> str:
    """``1 service added, 1 SLO changed, 2 signals renamed; 1 weaker``: the summary line."""
    tally: dict[tuple[str, str], int] = {}
    for service in diff.services:
        if service.status is not Status.CHANGED or service.fields:
            key = ("service", service.status.value)
            tally[key] = tally.get(key, 0) + 1
        for item in service.items:
            key = ("SLO" if item.kind == "slo" else "signal", item.status.value)
            tally[key] = tally.get(key, 0) + 1
    parts = [f"{_plural(count, kind)} {status}" for (kind, status), count in tally.items()]
    if diff.routing:
        parts.append("routing changed")
    items = [item for service in diff.services for item in service.items]
    weaker = sum(bool(item.weaker) for item in items) + sum(
        bool(change.weaker) for change in diff.routing
    )
    return f"{', '.join(parts)}; {weaker} weaker"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def headlines(diff: ModelDiff) -> list[str]:
    """One sentence per SLO whose paging moved: which tiers page sooner or later on a full
    outage, with the times, and which are gone or new."""
    lines = []
    for service in diff.services:
        for item in service.items:
            if item.kind != "slo" or item.status in (Status.ADDED, Status.REMOVED):
                continue
            sooner: list[str] = []
            later: list[str] = []
            other: list[str] = []
            for tier in item.tiers:
                if tier.status is Status.REMOVED:
                    other.append(f"{tier.name} no longer pages")
                    continue
                if tier.status is Status.ADDED:
                    other.append(f"{tier.name} is new")
                    continue
                outage = next((e for e in tier.effects if e.name == OUTAGE), None)
                threshold = next((e for e in tier.effects if e.name == THRESHOLD), None)
                if outage is None or outage.before == outage.after:
                    continue
                text = f"{tier.name} after {outage.after} (was {outage.before})"
                if threshold is not None and threshold.before != threshold.after:
                    text += f", above {threshold.after} errors (was {threshold.before})"
                (later if outage.weaker else sooner).append(text)
            parts = []
            if sooner:
                parts.append("pages sooner on a full outage: " + "; ".join(sooner))
            if later:
                parts.append("pages later on a full outage: " + "; ".join(later))
            parts += other
            if parts:
                lines.append(f"{service.name}/{item.name} " + ". ".join(parts) + ".")
    return lines

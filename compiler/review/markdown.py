"""The diff as Markdown for a pull-request comment: one table per service, a marker on every
change that makes an alert slower or quieter, or removes one."""

from __future__ import annotations

from compiler.review.diff_rows import Row, counts, headlines, routing_rows, service_rows
from compiler.review.semantic_diff import ModelDiff

# The hidden marker lets a workflow find and update its own comment (docs/examples).
MARKER = "<!-- slo-diff -->"
WEAKER = "⚠️"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") if text else ""


def _code(text: str) -> str:
    """``SLO `name```: the kind in words, the name as code."""
    kind, _, name = text.partition(" ")
    if kind in ("SLO", "signal") and name:
        return f"{kind} `{name}`"
    return f"`{text}`" if text and text not in ("-", "service", "routing") else text


def _table(rows: list[Row]) -> list[str]:
    lines = ["| | change | before | after | |", "|---|---|---|---|---|"]
    previous = None
    for row in rows:
        subject = (
            "" if row.subject == previous else ("↳ " if row.depth else "") + _code(row.subject)
        )
        previous = row.subject
        mark = f"{WEAKER} {row.weaker}" if row.weaker else ""
        cells = [subject, row.change, row.before, row.after, mark]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def render(diff: ModelDiff, base: str, head: str) -> str:
    """The whole comment."""
    lines = [MARKER, f"### SLO changes: `{base}` → `{head}`", ""]
    if diff.empty:
        return "\n".join([*lines, "No change to SLOs, signals, alerting or routing.", ""])
    lines += [counts(diff), ""]
    lines += [f"- {line}" for line in headlines(diff)]
    lines += [""] if headlines(diff) else []
    for service in diff.services:
        status = "" if service.status.value == "changed" else f" ({service.status.value})"
        lines += [f"**{service.name}**{status}", ""]
        lines += _table(service_rows(service.items, service.fields))
        lines.append("")
    if diff.routing:
        lines += ["**routing**", "", *_table(routing_rows(diff)), ""]
    lines.append(
        f"{WEAKER} marks a change that makes an alert fire later, at a higher error ratio or "
        "less loudly, or removes it. Times: after a step from no errors, rules evaluated "
        "every minute (docs/review.md)."
    )
    return "\n".join(lines) + "\n"

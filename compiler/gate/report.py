"""The gate's decision for people and machines: a table, JSON, JUnit XML, GitHub output.

Each function turns a :class:`GateReport` into text; the command decides where it goes.
The JSON layout is documented in docs/gate.md ("JSON report") and versioned.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from typing import Any

from compiler import writer
from compiler.diagnostics import Diagnostic, annotation, as_dict, workflow_command
from compiler.gate.decision import Reason, Verdict
from compiler.gate.evidence import SloResult
from compiler.gate.times import format_time

JSON_VERSION = 1
_ICONS = {Verdict.PASS: "✅", Verdict.BLOCK: "⛔", Verdict.UNKNOWN: "❓"}


@dataclass(frozen=True)
class GateReport:
    """Everything one run decided."""

    verdict: Verdict
    prometheus: str
    evaluated_at: float | None
    results: tuple[SloResult, ...]
    problems: tuple[Diagnostic, ...] = ()  # spec and sign-off diagnostics

    @property
    def counts(self) -> dict[str, int]:
        """SLOs per decision, in a fixed order."""
        found = Counter(result.verdict for result in self.results)
        return {verdict.value: found[verdict] for verdict in Verdict}

    @property
    def headline(self) -> str:
        """``BLOCK (exit 1): 15 SLOs: 3 PASS, 10 BLOCK, 2 UNKNOWN``."""
        counts = ", ".join(f"{n} {name}" for name, n in self.counts.items() if n)
        total = len(self.results)
        return (
            f"{self.verdict.value} (exit {self.verdict.exit_code}): "
            f"{total} SLO{'s' if total != 1 else ''}{': ' + counts if counts else ''}"
        )


def _time(seconds: float | None) -> str | None:
    return None if seconds is None else format_time(seconds)


def result_message(result: SloResult) -> str:
    """The reasons behind an SLO's decision, one per line."""
    return "\n".join(reason.message for reason in result.deciding)


# -- text ----------------------------------------------------------------------------


def text(report: GateReport) -> str:
    """A table: SLO, decision, since when, reasons (the ones that decided first)."""
    rows = [("SLO", "DECISION", "SINCE", "REASON")]
    for result in report.results:
        reasons = result.deciding + [r for r in result.reasons if r not in result.deciding]
        lines = [_reason_line(reason, result.verdict) for reason in reasons] or [""]
        since = _time(result.since) or "-"
        rows.append((f"{result.service}/{result.slo}", result.verdict.value, since, lines[0]))
        rows.extend(("", "", "", line) for line in lines[1:])
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    out = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows
    ]
    out.append("")
    for problem in report.problems:
        out.append(str(problem))
    where = f" at {format_time(report.evaluated_at)}" if report.evaluated_at else ""
    out.append(f"{report.headline} (server {report.prometheus}{where})")
    return "\n".join(line.rstrip() for line in out) + "\n"


def _reason_line(reason: Reason, verdict: Verdict) -> str:
    prefix = "" if reason.verdict is verdict else f"also {reason.verdict.value}: "
    return f"{prefix}{reason.message} [{reason.code}]"


# -- JSON ----------------------------------------------------------------------------


def json_data(report: GateReport) -> dict[str, Any]:
    """The report as plain data (schema: docs/gate.md, "JSON report")."""
    return {
        "version": JSON_VERSION,
        "decision": report.verdict.value,
        "exit_code": report.verdict.exit_code,
        "prometheus": report.prometheus,
        "evaluated_at": _time(report.evaluated_at),
        "counts": report.counts,
        "slos": [_result_data(result) for result in report.results],
        "problems": [as_dict(problem) for problem in report.problems],
    }


def json_text(report: GateReport) -> str:
    """:func:`json_data`, serialized."""
    return writer.to_json(json_data(report))


def _result_data(result: SloResult) -> dict[str, Any]:
    evidence = result.evidence
    return {
        "service": result.service,
        "slo": result.slo,
        "owner": result.owner,
        "spec": {"file": result.source, "line": result.line} if result.source else None,
        "decision": result.verdict.value,
        "since": _time(result.since),
        "reasons": [
            {
                "decision": reason.verdict.value,
                "code": reason.code,
                "message": reason.message,
                "since": _time(reason.since),
                "until": _time(reason.until),
            }
            for reason in result.reasons
        ],
        "evidence": None
        if evidence is None
        else {
            "evaluated_at": _time(evidence.evaluated_at),
            "evaluation_interval_seconds": evidence.evaluation_interval,
            "rules_evaluated_at": _time(evidence.rules_evaluated_at),
            "checked_from": _time(evidence.checked_from),
            "checked_to": _time(evidence.checked_to),
            "history_from": _time(evidence.history_from),
            "episode": None
            if evidence.episode is None
            else {
                "began": _time(evidence.episode.began),
                "last_firing": _time(evidence.episode.last_firing),
                "clear_until": _time(evidence.episode.clear_until),
                "alerts": list(evidence.episode.alerts),
            },
            "signoff": None
            if evidence.signoff is None
            else {
                "file": evidence.signoff.file,
                "line": evidence.signoff.line,
                "incident": evidence.signoff.incident,
                "owner": evidence.signoff.owner,
                "signed_at": _time(evidence.signoff.signed_at),
            },
            "alerts_now": [
                {**alert, "since": _time(alert["since"])} for alert in evidence.alerts_now
            ],
        },
    }


# -- JUnit XML -----------------------------------------------------------------------


def junit(report: GateReport) -> str:
    """JUnit XML: one test case per SLO; ``failure`` for BLOCK, ``error`` for UNKNOWN,
    the message repeated in the element's body (CI tools show one or the other)."""
    counts = report.counts
    attributes = {
        "name": "slo gate",
        "tests": str(len(report.results)),
        "failures": str(counts[Verdict.BLOCK.value]),
        "errors": str(counts[Verdict.UNKNOWN.value]),
        "skipped": "0",
    }
    if report.evaluated_at is not None:
        attributes["timestamp"] = format_time(report.evaluated_at)
    suites = ET.Element("testsuites", attributes)
    suite = ET.SubElement(suites, "testsuite", attributes)
    properties = ET.SubElement(suite, "properties")
    for name, value in (("decision", report.verdict.value), ("prometheus", report.prometheus)):
        ET.SubElement(properties, "property", {"name": name, "value": value})
    for result in report.results:
        case = ET.SubElement(suite, "testcase", {"classname": result.service, "name": result.slo})
        if result.source:
            case.set("file", result.source)
            if result.line:
                case.set("line", str(result.line))
        message = result_message(result)
        if result.verdict is not Verdict.PASS:
            tag = "failure" if result.verdict is Verdict.BLOCK else "error"
            element = ET.SubElement(
                case, tag, {"type": result.deciding[0].code, "message": message}
            )
            element.text = message
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(_reason_line(r, result.verdict) for r in result.reasons)
    if report.problems:
        err = ET.SubElement(suite, "system-err")
        err.text = "\n".join(str(problem) for problem in report.problems)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


# -- GitHub Actions ------------------------------------------------------------------


def github_annotations(report: GateReport) -> str:
    """``::error`` workflow commands: one per SLO that did not pass, one per problem."""
    lines = []
    for result in report.results:
        if result.verdict is Verdict.PASS:
            continue
        lines.append(
            workflow_command(
                "error",
                result_message(result),
                file=result.source,
                line=result.line,
                title=f"slo gate {result.verdict.value}: {result.service}/{result.slo}",
            )
        )
    lines.extend(annotation(problem, "slo gate") for problem in report.problems)
    lines.append(report.headline)
    return "\n".join(lines) + "\n"


def github_summary(report: GateReport) -> str:
    """The Markdown job summary: the decision, then a table of every SLO."""
    where = f" at {format_time(report.evaluated_at)}" if report.evaluated_at else ""
    out = [
        f"## {_ICONS[report.verdict]} Release gate: {report.verdict.value}",
        "",
        f"`slo gate` against `{report.prometheus}`{where}: {report.headline}.",
        "",
        "| SLO | Decision | Since | Reason |",
        "|---|---|---|---|",
    ]
    for result in report.results:
        reasons = "<br>".join(_cell(r.message) for r in result.deciding)
        out.append(
            f"| `{result.service}/{result.slo}` | {_ICONS[result.verdict]} "
            f"{result.verdict.value} | {_time(result.since) or ''} | {reasons} |"
        )
    if report.problems:
        out += ["", "Problems:", ""] + [f"- `{_cell(str(p))}`" for p in report.problems]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")

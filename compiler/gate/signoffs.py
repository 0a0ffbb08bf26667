"""Sign-off files: the incident owner's word that an episode's mitigation holds.

They live in the repository (default ``signoffs/``) and are reviewed like any change. Each
is checked like a spec (schema, then meaning, every problem with file and line). A file
with an error is reported and ignored: a sign-off can only ever open the gate, so
ignoring a broken one keeps it closed, and the SLO's reason names the ignored file.
Whether a valid sign-off counts for an episode (owner, date) is decided later, against
the server's evidence (:func:`compiler.gate.decision.signoff_problems`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Location, Severity, SpecError
from compiler.gate.decision import SignOff
from compiler.gate.times import parse_rfc3339
from compiler.load.discovery import SPEC_SUFFIXES, display_path
from compiler.load.loader import Document, load_file
from compiler.load.schema_check import check
from compiler.model.service import SpecSet


@dataclass(frozen=True)
class SignOffSet:
    """The valid sign-offs, what was wrong with the others, and whom those concerned."""

    signoffs: tuple[SignOff, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    # Files ignored because of errors, by the (service, SLO) they name; "" where they do not.
    ignored: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    def for_slo(self, service: str, slo: str) -> list[SignOff]:
        """Valid sign-offs about one SLO."""
        return [s for s in self.signoffs if s.covers(service, slo)]

    def ignored_for(self, service: str, slo: str) -> tuple[str, ...]:
        """Files with errors that might have been this SLO's sign-off."""
        return tuple(
            file
            for (named_service, named_slo), files in sorted(self.ignored.items())
            if named_service in ("", service) and named_slo in ("", slo)
            for file in files
        )


def load_signoffs(directory: Path | None, specs: SpecSet) -> SignOffSet:
    """Every sign-off file (``*.yaml``, ``*.yml``, recursively) in ``directory``."""
    if directory is None or not directory.is_dir():
        return SignOffSet()
    found: list[SignOff] = []
    diagnostics: list[Diagnostic] = []
    ignored: dict[tuple[str, str], list[str]] = {}
    for path in sorted(p for p in directory.rglob("*") if p.suffix in SPEC_SUFFIXES):
        if not path.is_file():
            continue
        name = display_path(path)
        try:
            documents = load_file(path, name)
        except SpecError as error:
            diagnostics.extend(error.diagnostics)
            ignored.setdefault(("", ""), []).append(name)
            continue
        for document in documents:
            signoff, problems = _signoff(document, specs)
            diagnostics.extend(problems)
            if signoff is not None:
                found.append(signoff)
            elif any(p.severity is Severity.ERROR for p in problems):
                ignored.setdefault(_names(document.data, specs), []).append(name)
    return SignOffSet(
        tuple(found),
        tuple(sorted(diagnostics, key=lambda d: d.sort_key)),
        {named: tuple(files) for named, files in ignored.items()},
    )


def review(signoffs: SignOffSet, specs: SpecSet) -> list[Diagnostic]:
    """What the pull request adding sign-offs should hear (``slo validate --signoffs``).

    Every problem of the files, and, as errors, sign-offs by someone other than the
    service's owner: the gate would never count them, so they are better refused at review
    than discovered when a release stays blocked.
    """
    owners = {spec.service.name: spec.service.owner for spec in specs.services}
    problems = list(signoffs.diagnostics)
    for signoff in signoffs.signoffs:
        owner = owners.get(signoff.service)
        if owner is not None and signoff.owner != owner:
            problems.append(
                Diagnostic(
                    Location(signoff.file, signoff.owner_line, "owner"),
                    f"'{signoff.owner}' is not the owner of service '{signoff.service}' "
                    f"(service.owner: '{owner}'); the release gate will not count this "
                    "sign-off",
                )
            )
    return sorted(problems, key=lambda d: d.sort_key)


def _names(data: Any, specs: SpecSet) -> tuple[str, str]:
    """The (service, SLO) a broken sign-off seems to be about; "" for unknown or all."""
    fields = data if isinstance(data, dict) else {}
    service, slo = fields.get("service"), fields.get("slo")
    known = {(s.service.name, slo.name) for s in specs.services for slo in s.slos}
    if not isinstance(service, str):
        return "", ""
    return service, slo if isinstance(slo, str) and (service, slo) in known else ""


def _signoff(document: Document, specs: SpecSet) -> tuple[SignOff | None, list[Diagnostic]]:
    if not isinstance(document.data, dict):
        return None, [Diagnostic(document.locate(()), "a sign-off must be a mapping of fields")]
    data = dict(document.data)
    stamp = data.get("signed_at")
    if isinstance(stamp, dt.date):
        # YAML reads an unquoted time as a timestamp; check the text it was written as.
        data["signed_at"] = stamp.isoformat()
    document = dataclasses.replace(document, data=data)
    problems = check(document, "signoff-v1.schema.json")
    if problems:
        return None, problems

    def error(key: str, message: str, severity: Severity = Severity.ERROR) -> Diagnostic:
        return Diagnostic(document.locate((key,)), message, severity)

    try:
        signed_at = parse_rfc3339(data["signed_at"])
    except ValueError as exc:
        hint = "; write the zone too (Z for UTC)" if "not an RFC 3339 time" in str(exc) else ""
        problems.append(error("signed_at", f"{exc}{hint}"))
    service = next((s for s in specs.services if s.service.name == data["service"]), None)
    if service is None:
        known = [s.service.name for s in specs.services]
        close = difflib.get_close_matches(data["service"], known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            error(
                "service",
                f"service '{data['service']}' is not in the specs{hint}; this sign-off "
                "applies to nothing the gate checks",
                Severity.WARNING,
            )
        )
    elif "slo" in data and data["slo"] not in {slo.name for slo in service.slos}:
        names = [slo.name for slo in service.slos]
        close = difflib.get_close_matches(data["slo"], names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f"; its SLOs: {', '.join(names)}"
        problems.append(
            error("slo", f"service '{service.service.name}' has no SLO '{data['slo']}'{hint}")
        )
    if any(p.severity is Severity.ERROR for p in problems):
        return None, problems
    return (
        SignOff(
            file=document.file,
            line=document.line(()),
            incident=data["incident"],
            service=data["service"],
            slo=data.get("slo"),
            owner=data["owner"],
            signed_at=signed_at,
            mitigation=data["mitigation"],
            owner_line=document.line(("owner",)),
        ),
        problems,
    )

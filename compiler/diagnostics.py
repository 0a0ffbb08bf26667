"""Problems found in specs, as values that carry their location.

Every stage collects diagnostics instead of raising on the first problem, so a person
editing a spec sees everything that is wrong at once, each as ``file:line: path: message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Severity(Enum):
    """How bad a diagnostic is: errors stop compilation, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Location:
    """Where in which spec file something was written (line is 1-based; 0 when unknown)."""

    file: str
    line: int = 0
    path: str = ""


@dataclass(frozen=True)
class Diagnostic:
    """One problem with its location."""

    location: Location
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = self.location.file
        if self.location.line:
            where += f":{self.location.line}"
        prefix = f"{where}: "
        if self.location.path:
            prefix += f"{self.location.path}: "
        if self.severity is Severity.WARNING:
            prefix += "warning: "
        return prefix + self.message

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        """Order by file, then line, so reports read top to bottom."""
        return (self.location.file, self.location.line, self.location.path, self.message)


class SpecError(Exception):
    """The project's one error type for bad input: it carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(sorted(diagnostics, key=lambda d: d.sort_key))
        super().__init__("\n".join(str(d) for d in self.diagnostics))


def errors(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Only the diagnostics that stop compilation."""
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def as_dict(diagnostic: Diagnostic) -> dict[str, Any]:
    """A diagnostic as JSON-ready data (null for a line or field that is not known)."""
    location = diagnostic.location
    return {
        "severity": diagnostic.severity.value,
        "file": location.file,
        "line": location.line or None,
        "field": location.path or None,
        "message": diagnostic.message,
    }


def annotation(diagnostic: Diagnostic, tool: str) -> str:
    """A diagnostic as a GitHub Actions workflow command: an annotation at its file and line."""
    location = diagnostic.location
    return workflow_command(
        diagnostic.severity.value,
        diagnostic.message,
        file=location.file,
        line=location.line or None,
        title=f"{tool}: {location.path or 'file'}",
    )


def workflow_command(kind: str, message: str, **properties: str | int | None) -> str:
    """``::kind prop=value,...::message`` with the runner's escaping (no property: left out)."""
    props = ",".join(
        f"{name}={escape_property(str(value))}"
        for name, value in properties.items()
        if value is not None
    )
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}"


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (also ``:`` and ``,`` are escaped)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")

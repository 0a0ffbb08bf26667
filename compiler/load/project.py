"""The project file, ``slo.yaml``: what is per repository, configured once.

It is found by walking up from the working directory, so every command behaves the same from
any directory of the repository; paths in it are relative to it. Command-line flags override
it. Unknown keys are errors at their line, as in specs (``compiler/schema/project-v1``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Location, SpecError
from compiler.load.discovery import PROJECT_FILE, is_project_file
from compiler.load.loader import Document, load_file
from compiler.load.schema_check import check

KIND = "Project"


@dataclass(frozen=True)
class Project:
    """A repository's settings; every path absolute."""

    root: Path  # where slo.yaml is (the working directory when there is none)
    file: Path | None = None
    specs: tuple[Path, ...] = ()
    generated: Path = Path()
    dashboards: Path = Path()
    signoffs: Path = Path()
    rule_formats: tuple[str, ...] = ()
    operator_namespace: str | None = None
    operator_labels: Mapping[str, str] = field(default_factory=dict)
    templates: Path | None = None
    gate: Mapping[str, Any] = field(default_factory=dict)
    lint_disable: tuple[str, ...] = ()  # lint codes turned off (compiler/review/lint.py)


def defaults(root: Path) -> Project:
    """The settings of a repository without a project file."""
    return Project(
        root=root,
        specs=(root / "slos",),
        generated=root / "generated",
        dashboards=root / "dashboards",
        signoffs=root / "signoffs",
    )


def find(start: Path) -> Path | None:
    """The nearest ``slo.yaml`` in ``start`` or a directory above it."""
    for directory in (start, *start.parents):
        candidate = directory / PROJECT_FILE
        if candidate.is_file() and is_project_file(candidate):
            return candidate
    return None


def load(file: Path, shown: str) -> Project:
    """The project file ``file`` (``shown`` in messages); :class:`SpecError` with every
    problem, each at its line, if it is not valid."""
    documents = load_file(file, shown)
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise SpecError([Diagnostic(Location(shown, 1), "a project file holds one mapping")])
    document = documents[0]
    problems = check(document, "project-v1.schema.json")
    if problems:
        raise SpecError(problems)
    data: dict[str, Any] = document.data
    root = file.resolve().parent
    problems = list(_problems(document, root))
    if problems:
        raise SpecError(problems)
    base = defaults(root)
    outputs = data.get("outputs", {})
    rules = data.get("rules", {})
    operator = rules.get("operator", {})
    return Project(
        root=root,
        file=file.resolve(),
        specs=tuple(root / s for s in data["specs"]) if "specs" in data else base.specs,
        generated=root / outputs["generated"] if "generated" in outputs else base.generated,
        dashboards=root / outputs["dashboards"] if "dashboards" in outputs else base.dashboards,
        signoffs=root / data["signoffs"] if "signoffs" in data else base.signoffs,
        rule_formats=tuple(rules.get("formats", ())),
        operator_namespace=operator.get("namespace"),
        operator_labels=dict(operator.get("labels", {})),
        templates=root / data["templates"] if "templates" in data else None,
        gate={**data.get("gate", {})},
        lint_disable=tuple(data.get("lint", {}).get("disable", ())),
    )


def _problems(document: Document, root: Path) -> Iterator[Diagnostic]:
    """What the schema cannot check: settings that need one another, files that must exist."""
    data: dict[str, Any] = document.data
    rules = data.get("rules", {})
    if "operator" in rules and "prometheus-operator" not in rules.get("formats", ()):
        message = "operator settings need formats: [prometheus-operator]"
        yield Diagnostic(document.locate(("rules", "operator")), message)
    if "templates" in data and not (root / data["templates"]).is_dir():
        yield Diagnostic(document.locate(("templates",)), f"no directory {data['templates']}")
    ca_file = data.get("gate", {}).get("ca_file")
    if ca_file is not None and not (root / ca_file).is_file():
        yield Diagnostic(document.locate(("gate", "ca_file")), f"no file {ca_file}")

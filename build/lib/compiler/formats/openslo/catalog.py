"""The OpenSLO objects of one run, checked and indexed so that references resolve.

OpenSLO splits an SLO over objects that name each other (an SLO's ``indicatorRef`` names an
SLI, ``alertPolicies`` name AlertPolicies, whose ``conditionRef`` names an AlertCondition,
whose metrics may name a DataSource), and those may sit in different files of a run.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from compiler.formats.draft import Findings
from compiler.load.loader import Document, PathKey
from compiler.load.schema_check import check

V1 = "openslo/v1"
V1ALPHA = "openslo/v1alpha"
VERSIONS = (V1, V1ALPHA)
_SCHEMAS = {V1: "openslo-v1.schema.json", V1ALPHA: "openslo-v1alpha.schema.json"}


@dataclass(frozen=True)
class OpenSLOObject:
    """One OpenSLO object and where it was written (``base``: its path in the document)."""

    version: str
    kind: str
    name: str
    document: Document
    base: PathKey
    data: dict[str, Any]

    def at(self, *path: str | int) -> PathKey:
        """A path inside this object, from the document's root."""
        return (*self.base, *path)

    @property
    def spec(self) -> dict[str, Any]:
        """The object's ``spec``."""
        spec: dict[str, Any] = self.data["spec"]
        return spec

    @property
    def format(self) -> str:
        """How messages and headers name this object's format."""
        return f"OpenSLO {self.version.split('/')[1]}"


class Catalog:
    """Every valid OpenSLO object of a run by kind and name, and what was found wrong."""

    def __init__(self) -> None:
        self.objects: list[OpenSLOObject] = []
        self.found = Findings()
        self._index: dict[tuple[str, str], OpenSLOObject] = {}

    def add(self, document: Document, base: PathKey, data: dict[str, Any]) -> None:
        """Check one object against its version's schema and keep it."""
        version = data["apiVersion"]
        problems = check(document, _SCHEMAS[version], base)
        if problems:
            self.found.extend(problems)
            return
        name = data["metadata"]["name"]
        obj = OpenSLOObject(version, data["kind"], name, document, base, data)
        first = self._index.get((obj.kind, name))
        if first is not None:
            where = first.document.locate(first.at("metadata", "name"))
            self.found.error(
                document,
                obj.at("metadata", "name"),
                f"{obj.kind} '{name}' is also defined in {where.file}:{where.line}",
            )
            return
        self._index[obj.kind, name] = obj
        self.objects.append(obj)

    def find(self, kind: str, name: str) -> OpenSLOObject | None:
        """The object of ``kind`` called ``name``, if there is one."""
        return self._index.get((kind, name))

    def get(self, kind: str, name: str, document: Document, path: PathKey) -> OpenSLOObject | None:
        """The object a reference at ``path`` names, or an error saying what exists."""
        obj = self._index.get((kind, name))
        if obj is None:
            names = sorted(n for k, n in self._index if k == kind)
            close = difflib.get_close_matches(name, names, n=1)
            if close:
                hint = f" (did you mean '{close[0]}'?)"
            elif names:
                hint = f"; {kind} objects found: {', '.join(names)}"
            else:
                hint = f"; no {kind} object was found in the files given"
            self.found.error(document, path, f"no {kind} named '{name}'{hint}")
        return obj

"""Native spec data built from a foreign document, remembering where each part came from.

An adapter turns each foreign SLO into a :class:`SloDraft`: the SLO as a mapping in the
``slo-compiler/v1`` shape, plus the foreign file, line and field of every part it wrote.
Drafts of one service (from any number of files) become one :class:`ConvertedDocument`, which
the rest of the pipeline checks like any spec while every message still points at the
original file, line and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Diagnostic, Location, Severity
from compiler.load.loader import Document, PathKey


@dataclass(frozen=True)
class Origin:
    """Where a native field was written in a foreign document.

    With ``same_shape`` the native field holds a copy of the foreign one (labels, say), so a
    path below it maps onto the same path below the foreign field.
    """

    document: Document
    path: PathKey
    same_shape: bool = False

    def locate(self, below: PathKey = ()) -> Location:
        """The foreign location of this field, or of a field ``below`` it."""
        return self.document.locate((*self.path, *below) if self.same_shape else self.path)


def _nearest(origins: Mapping[PathKey, Origin], path: PathKey) -> Location | None:
    """The location of ``path`` by its nearest recorded ancestor, if it has one."""
    probe = path
    while probe not in origins and probe:
        probe = probe[:-1]
    origin = origins.get(probe)
    return None if origin is None else origin.locate(path[len(probe) :])


@dataclass(frozen=True)
class ConvertedDocument(Document):
    """A native spec converted from foreign documents; locations point at those documents."""

    origins: dict[PathKey, Origin] = field(default_factory=dict, repr=False)
    formats: tuple[str, ...] = ()  # the foreign formats it came from, for headers

    def line(self, path: PathKey) -> int:
        """Line in the foreign file of the field at ``path`` (or its nearest ancestor)."""
        return self.locate(path).line

    def locate(self, path: PathKey) -> Location:
        """The foreign file, line and field that the native field at ``path`` came from."""
        found = _nearest(self.origins, path)
        return Location(self.file) if found is None else found


@dataclass
class SloDraft:
    """One converted SLO: its native mapping and the origin of each part (paths relative to
    the SLO), the service it belongs to and what the foreign document says about that."""

    service: str
    service_origin: Origin
    data: dict[str, Any]
    format: str
    origins: dict[PathKey, Origin] = field(default_factory=dict)
    owner: str | None = None
    owner_origin: Origin | None = None
    service_description: str = ""

    def trace(
        self, path: PathKey, document: Document, foreign: PathKey, copy: bool = False
    ) -> None:
        """Record that the native field at ``path`` (relative to the SLO) came from ``foreign``."""
        self.origins[path] = Origin(document, foreign, copy)

    def locate(self, path: PathKey) -> Location:
        """Where the native field at ``path`` (or its nearest traced ancestor) was written."""
        return _nearest(self.origins, path) or self.service_origin.locate()


class Findings:
    """Diagnostics an adapter collects while it converts."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, document: Document, path: PathKey, message: str) -> None:
        """A problem that stops compilation."""
        self.diagnostics.append(Diagnostic(document.locate(path), message))

    def warn(self, document: Document, path: PathKey, message: str) -> None:
        """Something the user should know that does not stop compilation."""
        self.diagnostics.append(Diagnostic(document.locate(path), message, Severity.WARNING))

    @property
    def failed(self) -> bool:
        """Whether any error was found."""
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def extend(self, diagnostics: list[Diagnostic]) -> None:
        """Add diagnostics found by another stage."""
        self.diagnostics.extend(diagnostics)


def native_document(drafts: list[SloDraft], owner: str) -> ConvertedDocument:
    """One native service document from the drafts of one service (in the order given)."""
    first = drafts[0]
    service: dict[str, Any] = {"name": first.service, "owner": owner}
    description = next((d.service_description for d in drafts if d.service_description), "")
    if description:
        service["description"] = description
    origins: dict[PathKey, Origin] = {
        (): first.service_origin,
        ("service",): first.service_origin,
        ("service", "name"): first.service_origin,
    }
    owner_origin = next((d.owner_origin for d in drafts if d.owner_origin), None)
    if owner_origin is not None:
        origins["service", "owner"] = owner_origin
    for index, draft in enumerate(drafts):
        for path, origin in draft.origins.items():
            origins["slos", index, *path] = origin
    # Every file that contributed, in order: an SLO's indicator may live in another file.
    files = tuple(dict.fromkeys(origin.document.file for origin in origins.values()))
    data = {
        "apiVersion": "slo-compiler/v1",
        "kind": "Service",
        "service": service,
        "slos": [d.data for d in drafts],
    }
    formats = tuple(dict.fromkeys(d.format for d in drafts))
    return ConvertedDocument(", ".join(files), data, {}, 0, origins, formats)


def owner_from_labels(labels: Mapping[str, Any]) -> str | None:
    """The owner a foreign spec names in its labels (``owner``, else ``team``), if any."""
    for key in ("owner", "team"):
        value = labels.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str) and value:
            return value
    return None

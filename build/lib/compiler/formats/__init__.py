"""The peers' spec formats, read as native specs.

Documents are recognized by their version fields: ``version: prometheus/v1`` (Sloth),
``apiVersion: sloth.slok.dev/v1`` with ``kind: PrometheusServiceLevel`` (Sloth on
Kubernetes), ``apiVersion: openslo/v1`` or ``openslo/v1alpha`` (OpenSLO, also as a YAML list
of objects). Each becomes native spec data (``slo-compiler/v1``) in a
:class:`~compiler.formats.draft.ConvertedDocument`, so schema and semantic checks, the model
and every target treat it as any spec, and every message points at the original file, line
and field. The SLOs of one service are gathered into one spec whichever files and formats
they come from.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compiler import conventions
from compiler.diagnostics import Diagnostic
from compiler.formats import openslo, sloth
from compiler.formats.draft import ConvertedDocument, Findings, SloDraft, native_document
from compiler.load.loader import Document
from compiler.outputs import OutputFile

NATIVE_API_VERSION = "slo-compiler/v1"
UNKNOWN_OWNER = "unknown"
SUPPORTED = (
    "also read: Sloth's version: prometheus/v1 and apiVersion: sloth.slok.dev/v1 "
    "(kind: PrometheusServiceLevel), OpenSLO's apiVersion: openslo/v1 and openslo/v1alpha"
)

__all__ = ["SUPPORTED", "ConvertedDocument", "converted_specs", "to_native"]


def to_native(documents: Sequence[Document]) -> tuple[list[Document], list[Diagnostic]]:
    """Native documents as they are, foreign ones converted (one per service).

    Documents that are neither native nor of a known foreign format are passed on, so that
    the native checks report them.
    """
    found = Findings()
    passed: list[Document] = []
    drafts: list[SloDraft] = []
    catalog = openslo.Catalog()
    for document in documents:
        data = document.data
        if isinstance(data, list) and data and all(_is_openslo(item) for item in data):
            for index, item in enumerate(data):
                catalog.add(document, (index,), item)
            continue
        if not isinstance(data, dict):
            passed.append(document)
            continue
        api_version, version = data.get("apiVersion"), data.get("version")
        if api_version is None and version is not None:
            if version == "prometheus/v1":
                drafts.extend(_keep(found, sloth.convert(document, sloth.PROMETHEUS_V1)))
            else:
                found.error(
                    document,
                    ("version",),
                    f"version '{version}' is not a known spec format (Sloth's is prometheus/v1; "
                    f"{SUPPORTED})",
                )
        elif api_version == "sloth.slok.dev/v1":
            if data.get("kind") == "PrometheusServiceLevel":
                drafts.extend(_keep(found, sloth.convert(document, sloth.KUBERNETES)))
            else:
                found.error(
                    document,
                    ("kind",),
                    f"kind '{data.get('kind')}' of sloth.slok.dev/v1 is not read: only "
                    "PrometheusServiceLevel (for Sloth's AlertWindows, set the period and tiers "
                    "in the converted spec)",
                )
        elif _is_openslo(data):
            catalog.add(document, (), data)
        else:
            passed.append(document)
    drafts.extend(_keep(found, openslo.convert(catalog)))
    converted = _services(drafts, found)
    return passed + converted, found.diagnostics


def _is_openslo(data: Any) -> bool:
    return isinstance(data, dict) and data.get("apiVersion") in openslo.VERSIONS


def _keep(found: Findings, result: tuple[list[SloDraft], list[Diagnostic]]) -> list[SloDraft]:
    drafts, diagnostics = result
    found.extend(diagnostics)
    return drafts


def _services(drafts: list[SloDraft], found: Findings) -> list[Document]:
    """One native document per service, SLOs in the order they were found."""
    by_service: dict[str, list[SloDraft]] = {}
    for draft in drafts:
        by_service.setdefault(draft.service, []).append(draft)
    documents: list[Document] = []
    for service, group in by_service.items():
        kept: dict[str, SloDraft] = {}
        for draft in group:
            name = draft.data["name"]
            if name in kept:
                first = kept[name].locate(("name",))
                found.diagnostics.append(
                    Diagnostic(
                        draft.locate(("name",)),
                        f"SLO '{name}' of service '{service}' is also defined at "
                        f"{first.file}:{first.line}",
                    )
                )
                continue
            kept[name] = draft
        unique = list(kept.values())
        owner = next((d.owner for d in unique if d.owner), None)
        if owner is None:
            origin = unique[0].service_origin
            found.warn(
                origin.document,
                origin.path,
                f"service '{service}' names no owner (a label 'owner' or 'team'), so its owner "
                f"is '{UNKNOWN_OWNER}'; the release gate accepts sign-offs from the owner only",
            )
        documents.append(native_document(unique, owner or UNKNOWN_OWNER))
    return documents


def converted_specs(documents: Sequence[Document]) -> list[OutputFile]:
    """The native spec file of each converted document (what `slo convert` writes)."""
    files = []
    for document in documents:
        if not isinstance(document, ConvertedDocument):
            continue
        service = document.data["service"]["name"]
        header = (
            f"Converted by slo-compiler from {document.file} ({', '.join(document.formats)}).\n"
            f"Compile this spec or the original, not both: each defines service '{service}'."
        )
        files.append(
            OutputFile(conventions.converted_spec_path(service), document.data, header=header)
        )
    return files

"""Grafana's dashboard JSON Schema (draft-07, from grafana-foundation-sdk) as validators.

The schema files live outside the repository, in the shared reference data
(``shared/peers/grafana/``); ``SLO_GRAFANA_SCHEMA_DIR`` points elsewhere. The dashboard
schema leaves panel options, custom field config and targets open; the per-plugin files
describe those, so panels are checked against them too where a file exists.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.support.paths import ROOT
from tests.support.shared_data import unavailable

_CANDIDATES = (
    ROOT.parent / "shared" / "peers" / "grafana",  # /work/main → /work/shared
    ROOT.parent.parent / "shared" / "peers" / "grafana",  # a worktree under /work/wt
)
SCHEMA_ENV = "SLO_GRAFANA_SCHEMA_DIR"
_BASE = "https://grafana-schema.invalid/"
# Panel types with a schema file for their options and custom field config.
PANEL_SCHEMAS = {
    "timeseries": "timeseries.jsonschema.json",
    "stat": "stat.jsonschema.json",
    "table": "table.jsonschema.json",
    "gauge": "gauge.jsonschema.json",
}


def schema_dir() -> Path:
    """Where the schema files are; where they are missing, the test that needs them skips (or
    fails, where the shared data is required: tests/support/shared_data.py)."""
    configured = os.environ.get(SCHEMA_ENV)
    candidates = (Path(configured),) if configured else _CANDIDATES
    for candidate in candidates:
        if (candidate / "dashboard.jsonschema.json").is_file():
            return candidate
    shown = ", ".join(str(c) for c in candidates)
    unavailable("Grafana's dashboard JSON Schema", shown, SCHEMA_ENV)


@cache
def _registry() -> Registry:
    resources = [
        (_BASE + path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT7))
        for path in sorted(schema_dir().glob("*.jsonschema.json"))
    ]
    registry: Registry = Registry().with_resources(resources)
    return registry


@cache
def _validator(file: str, pointer: str = "") -> Draft7Validator:
    uri = _BASE + file
    if pointer:
        schema: dict[str, Any] = {"$ref": f"{uri}#{pointer}"}
    else:
        # The whole document, with an $id so that its "#/definitions/..." refs resolve.
        schema = {**_registry().contents(uri), "$id": uri}
    return Draft7Validator(schema, registry=_registry())


def _describe(error: ValidationError, prefix: str = "") -> str:
    """One line per error; for oneOf/anyOf, the errors of the branch that came closest."""
    where = prefix + "/".join(str(p) for p in error.absolute_path)
    if error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = min(branches.values(), key=len)
        return "; ".join(
            f"{where}/{'/'.join(str(p) for p in sub.relative_path)}: {sub.message}"
            for sub in closest
        )
    return f"{where}: {error.message}"


def dashboard_errors(board: dict[str, Any]) -> list[str]:
    """Violations of the dashboard schema itself."""
    return [_describe(e) for e in _validator("dashboard.jsonschema.json").iter_errors(board)]


def _panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def panel_errors(board: dict[str, Any]) -> list[str]:
    """Violations of the per-plugin schemas: options, custom field config, Prometheus targets."""
    found = []
    for panel in _panels(board):
        where = f"panel {panel.get('id')} ({panel.get('type')}) "
        file = PANEL_SCHEMAS.get(panel.get("type", ""))
        if file:
            if "options" in panel:
                validator = _validator(file, "/definitions/Options")
                found += [
                    _describe(e, where + "options/")
                    for e in validator.iter_errors(panel["options"])
                ]
            custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
            if custom is not None:
                validator = _validator(file, "/definitions/FieldConfig")
                found += [_describe(e, where + "custom/") for e in validator.iter_errors(custom)]
        for index, query in enumerate(panel.get("targets", [])):
            validator = _validator("prometheus.jsonschema.json", "/definitions/Dataquery")
            found += [
                _describe(e, f"{where}targets/{index}/") for e in validator.iter_errors(query)
            ]
    return found

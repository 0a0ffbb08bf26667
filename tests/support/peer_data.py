"""The peers' own test data (read-only, outside the repository) and how to read it.

Sloth's fixtures live in the team's shared directory (``shared/peers/sloth`` next to the
checkout, or wherever ``$SLO_PEERS_DATA`` points). Its golden outputs are Go templates
(``out-*.yaml.tpl``) or PrometheusRule objects; :func:`sloth_groups` turns either into the
rule groups promtool loads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import ROOT
from tests.support.shared_data import unavailable

PEERS_ENV = "SLO_PEERS_DATA"
SLOTH_VERSION = "v0.16.0"
_VERSION_ACTION = re.compile(r"\{\{\s*\.version\s*\}\}")
# Sloth's goldens escape Prometheus templates as Go string actions: {{"{{$labels.x}}"}}.
_STRING_ACTION = re.compile(r'\{\{"((?:[^"\\]|\\.)*)"\}\}')


def peers_dir() -> Path:
    """The shared peers directory; where it is missing, the test that needs it skips (or
    fails, where the shared data is required: tests/support/shared_data.py)."""
    if os.environ.get(PEERS_ENV):
        found = Path(os.environ[PEERS_ENV])
        assert found.is_dir(), f"${PEERS_ENV} is {found}, which is not a directory"
        return found
    for parent in ROOT.parents:
        candidate = parent / "shared" / "peers"
        if (candidate / "sloth").is_dir():
            return candidate
    looked = ", ".join(str(parent / "shared" / "peers") for parent in ROOT.parents[:2])
    unavailable("the peers' test data (shared/peers/sloth)", looked, PEERS_ENV)


def sloth_dir() -> Path:
    """Sloth v0.16's fixtures."""
    return peers_dir() / "sloth"


def sloth_groups(path: Path) -> list[dict[str, Any]]:
    """The rule groups of one of Sloth's outputs, rendered as Sloth's own test renders them."""
    text = path.read_text(encoding="utf-8")
    text = _VERSION_ACTION.sub(SLOTH_VERSION, text)
    text = _STRING_ACTION.sub(lambda m: m.group(1), text)
    groups: list[dict[str, Any]] = []
    for document in yaml.safe_load_all(text):
        if not document:
            continue
        if document.get("kind") == "PrometheusRule":
            groups.extend(document["spec"]["groups"])
        else:
            groups.extend(document["groups"])
    return groups

"""The dashboards the suite checks: the checked-in ones and the test specs' goldens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT

CHECKED_IN = sorted((ROOT / "dashboards").glob("*.json"))
GOLDEN = sorted((ROOT / "tests" / "golden").glob("*/*.json"))
ALL = [*CHECKED_IN, *GOLDEN]
# Those whose queries run on the shared Prometheus (tests/support/prometheus_history.py).
LIVE = [*CHECKED_IN, *sorted((ROOT / "tests" / "golden" / "dashboards").glob("*.json"))]


def label(path: Path) -> str:
    """A readable test id: dashboards/x.json or golden/<spec>/x.json."""
    if path.parent.parent.name == "golden":
        return f"golden/{path.parent.name}/{path.name}"
    return f"{path.parent.name}/{path.name}"


def load(path: Path) -> dict[str, Any]:
    """A dashboard file as plain data."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def rule_files_for(path: Path) -> list[Path]:
    """The rule files a dashboard's queries are checked against."""
    if path.parent.parent.name == "golden":
        return sorted((path.parent / "prometheus").glob("*.rules.yml"))
    return sorted((ROOT / "generated" / "prometheus").glob("*.rules.yml"))


def spec_paths_for(path: Path) -> list[Path]:
    """The specs that produced a dashboard."""
    if path.parent.parent.name == "golden":
        return [ROOT / "tests" / "specs" / f"{path.parent.name}.yaml"]
    return [ROOT / "slos"]

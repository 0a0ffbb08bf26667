"""Every metric the reference platform's catalog names is read by a rule or a dashboard panel
of slos/ (docs/runbook-coverage.md says where each runbook requirement is met)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from compiler.model.service import SpecSet
from compiler.targets.otel.series_read import service_reads
from tests.support.paths import ROOT
from tests.support.shared_data import unavailable

_CATALOG_ROW = re.compile(r"^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)` \|", re.MULTILINE)


REFERENCE_ENV = "SLO_REFERENCE_DATA"


def _platform() -> Path:
    """The catalog in shared/reference beside the checkout, or under $SLO_REFERENCE_DATA."""
    if os.environ.get(REFERENCE_ENV):
        return Path(os.environ[REFERENCE_ENV]) / "platform.md"
    for parent in ROOT.parents:
        candidate = parent / "shared" / "reference" / "platform.md"
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(p / "shared" / "reference") for p in ROOT.parents[:2])
    unavailable(
        "the reference platform's catalog (shared/reference/platform.md)", looked, REFERENCE_ENV
    )


def test_every_catalog_metric_is_read(reference_specs: SpecSet) -> None:
    catalog = _CATALOG_ROW.findall(_platform().read_text(encoding="utf-8"))
    assert len(catalog) >= 20, "the catalog's tables were not found"
    read = set().union(*(service_reads(spec) for spec in reference_specs.services))
    # A histogram is read through its _bucket, _count or _sum series.
    read |= {re.sub(r"_(bucket|count|sum)$", "", name) for name in read}
    assert [name for name in catalog if name not in read] == []

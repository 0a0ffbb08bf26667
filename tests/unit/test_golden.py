"""Golden files: the exact rules generated for the specs in tests/specs/.

Run `pytest tests/unit/test_golden.py --update-golden` after an intended change, and review the
diff of tests/golden/ like any other change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import pipeline, writer
from compiler.load import discovery
from tests.support.paths import ROOT

SPECS = sorted((ROOT / "tests" / "specs").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_rules_match_golden_file(spec: Path, update_golden: bool) -> None:
    result = pipeline.compile_specs([spec])
    assert result.ok, result.diagnostics
    outputs = pipeline.outputs(result.specs)
    for output in outputs:
        golden = GOLDEN / spec.stem / output.path
        actual = writer.serialize(output).decode()
        # Headers name the spec by path; keep goldens independent of where tests run from.
        actual = actual.replace(discovery.display_path(spec), f"tests/specs/{spec.name}")
        if update_golden:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(actual)
        assert golden.exists(), f"no golden file {golden}: run pytest --update-golden"
        assert actual == golden.read_text(), f"{golden} differs: review, then --update-golden"
    kept = {p.relative_to(GOLDEN / spec.stem).as_posix() for p in (GOLDEN / spec.stem).rglob("*")}
    leftover = {p for p in kept if (GOLDEN / spec.stem / p).is_file()} - {o.path for o in outputs}
    assert not leftover, f"golden files no longer generated: {sorted(leftover)}"

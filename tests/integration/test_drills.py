"""Drills under promtool: a drill passes, and a wrong claim in it fails."""

from __future__ import annotations

from pathlib import Path

from compiler import pipeline, writer
from compiler.outputs import Root
from tests.support.drills import DRILL, drill_spec
from tests.support.rule_tests import slo_test
from tests.support.specs import SERVICE_SPEC


def test_a_drill_passes_under_promtool_and_a_wrong_claim_fails(
    tmp_path: Path, promtool_path: str
) -> None:
    """The drill compiles into a test group named after it; promtool checks its claims, and
    an alert it did not expect (t2 failing too) fails it with promtool's diff."""
    for name, text, passes in (
        ("right", SERVICE_SPEC + DRILL, True),
        (
            "wrong",
            SERVICE_SPEC
            + DRILL.replace(
                '{counter: \'http_requests_total{tenant="t2", code="200"}\', rate: 50/s}',
                '{counter: \'http_requests_total{tenant="t2", code="500"}\', '
                "rate: [0/s, 50/s from 10m]}",
            ),
            False,
        ),
    ):
        directory = tmp_path / name
        directory.mkdir()
        spec = drill_spec(directory, text)
        result = pipeline.compile_specs([spec])
        assert result.ok, result.diagnostics
        roots = {Root.GENERATED: directory / "generated", Root.DASHBOARDS: directory / "d"}
        writer.write(writer.plan(pipeline.outputs(result.specs), roots))
        generated = str(directory / "generated")
        tested = slo_test(str(spec), "--generated", generated, "--match", "drill ")
        assert (tested.exit_code == 0) is passes, tested.output
        assert ("PASS" if passes else "FAIL") + " drill tenant-outage" in tested.output
        if not passes:
            assert 'tenant="t2"' in tested.output and "got:" in tested.output

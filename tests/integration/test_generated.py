"""The checked-in outputs: current, deterministic, and accepted by promtool."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from compiler import pipeline, writer
from compiler.cli import main
from compiler.outputs import Root
from compiler.synthetic import promtool
from tests.support.paths import GENERATED, ROOT


def test_generated_and_dashboards_are_up_to_date(monkeypatch: object) -> None:
    """CI fails when someone changed a spec or the compiler without regenerating."""
    import os

    old = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(main, ["compile", "--check"])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output + "\nrun `make generate` and commit"


def test_compiling_twice_is_byte_identical(tmp_path: Path) -> None:
    roots = {Root.GENERATED: tmp_path / "g", Root.DASHBOARDS: tmp_path / "d"}
    first = writer.plan(pipeline.outputs(pipeline.compile_specs([ROOT / "slos"]).specs), roots)
    second = writer.plan(pipeline.outputs(pipeline.compile_specs([ROOT / "slos"]).specs), roots)
    assert first.files == second.files


def test_every_generated_rule_file_passes_promtool(promtool_path: str) -> None:
    files = sorted((GENERATED / "prometheus").glob("*.yml"))
    assert files
    result = promtool.check_rules(files)
    assert result.ok, result.output

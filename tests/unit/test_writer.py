"""The writer: deterministic serialization and all-or-nothing writes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from compiler import pipeline, writer
from compiler.outputs import OutputFile, Root
from tests.support.paths import ROOT


def test_libyaml_and_pure_python_emitters_agree() -> None:
    """Machines whose PyYAML lacks libyaml still produce byte-identical files."""
    outputs = pipeline.outputs(pipeline.compile_specs([ROOT / "slos"]).specs)
    yaml_outputs = [o for o in outputs if o.path.endswith((".yml", ".yaml"))]
    assert yaml.__with_libyaml__, "this PyYAML has no libyaml: the comparison would be vacuous"
    assert yaml_outputs
    for output in yaml_outputs:
        fast = writer.to_yaml(output.data, output.header)
        pure = writer.to_yaml(output.data, output.header, dumper=writer.PurePythonDumper)
        assert fast == pure, output.path


def test_multi_line_strings_are_literal_blocks_and_nothing_is_aliased() -> None:
    shared = {"a": "1"}
    text = writer.to_yaml({"x": shared, "y": shared, "expr": "a\nor b"}, "line one\nline two")
    assert text == ("# line one\n# line two\nx:\n  a: '1'\ny:\n  a: '1'\nexpr: |-\n  a\n  or b\n")


def _outputs(*names: str) -> list[OutputFile]:
    return [OutputFile(f"sub/{name}.yml", {"name": name}) for name in names]


def test_a_failed_write_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    roots = {Root.GENERATED: tmp_path}
    writer.write(writer.plan(_outputs("a", "b"), roots))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    changed = [OutputFile("sub/a.yml", {"name": "A"}), OutputFile("sub/b.yml", {"name": "B"})]
    with pytest.raises(writer.WriteError, match="disk full; nothing written"):
        writer.write(writer.plan(changed, roots))
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # neither file replaced, no temporary files left


def test_unchanged_files_are_not_rewritten(tmp_path: Path) -> None:
    roots = {Root.GENERATED: tmp_path}
    first = writer.write(writer.plan(_outputs("a"), roots))
    assert len(first.written) == 2  # the file and the manifest
    mtime = (tmp_path / "sub" / "a.yml").stat().st_mtime_ns
    second = writer.write(writer.plan(_outputs("a"), roots))
    assert second.written == () and second.unchanged == 2
    assert (tmp_path / "sub" / "a.yml").stat().st_mtime_ns == mtime


def test_only_files_the_manifest_lists_are_removed(tmp_path: Path) -> None:
    roots = {Root.GENERATED: tmp_path}
    writer.write(writer.plan(_outputs("a", "b"), roots))
    (tmp_path / "sub" / "mine.txt").write_text("not generated")
    report = writer.write(writer.plan(_outputs("a"), roots))
    assert report.removed == (tmp_path / "sub" / "b.yml",)
    assert (tmp_path / "sub" / "mine.txt").exists()


def test_two_outputs_for_one_path_are_a_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two outputs write"):
        writer.plan(_outputs("a", "a"), {Root.GENERATED: tmp_path})


def _snapshot(directory: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_a_staged_plan_writes_the_same_files(tmp_path: Path) -> None:
    """Streaming (stage=True) changes when bytes reach the disk, not which."""
    whole, streamed = tmp_path / "whole", tmp_path / "streamed"
    outputs = _outputs("a", "b", "c")
    writer.write(writer.plan(outputs, {Root.GENERATED: whole}))
    report = writer.write(writer.plan(outputs, {Root.GENERATED: streamed}, stage=True))
    assert len(report.written) == 4
    relative = {p.relative_to(streamed): data for p, data in _snapshot(streamed).items()}
    assert relative == {p.relative_to(whole): data for p, data in _snapshot(whole).items()}
    again = writer.plan(outputs, {Root.GENERATED: streamed}, stage=True)
    assert not again.staged and writer.compare(again).unchanged == 4


def test_a_failure_while_streaming_leaves_nothing_behind(tmp_path: Path) -> None:
    """Outputs staged before a target fails are removed: no temporary, no new directory,
    no file replaced."""
    roots = {Root.GENERATED: tmp_path}
    writer.write(writer.plan(_outputs("a"), roots))
    before = _snapshot(tmp_path)

    def failing() -> Iterator[OutputFile]:
        yield OutputFile("sub/a.yml", {"name": "changed"})
        yield OutputFile("new/dir/b.yml", {"name": "b"})
        raise RuntimeError("a target failed")

    with pytest.raises(RuntimeError, match="a target failed"):
        writer.plan(failing(), roots, stage=True)
    assert _snapshot(tmp_path) == before
    assert not (tmp_path / "new").exists()
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.yml"]


def test_a_file_that_cannot_be_staged_stops_the_plan_and_leaves_nothing(tmp_path: Path) -> None:
    """The staging threads' failure (a directory where an output goes) reaches the caller
    as a WriteError once every thread has stopped; nothing staged before or after it is
    left, and no file is replaced."""
    roots = {Root.GENERATED: tmp_path}
    writer.write(writer.plan(_outputs("a"), roots))
    (tmp_path / "sub" / "c.yml").mkdir()
    before = _snapshot(tmp_path)
    outputs = [OutputFile("sub/a.yml", {"name": "changed"}), *_outputs("b", "c", "d", "e")]
    with pytest.raises(writer.WriteError, match="a directory is in its place"):
        writer.plan(outputs, roots, stage=True)
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["a.yml", "c.yml"]


def test_a_staged_plan_can_be_discarded(tmp_path: Path) -> None:
    roots = {Root.GENERATED: tmp_path}
    planned = writer.plan(_outputs("a", "b"), roots, stage=True)
    assert len(planned.staged) == 2  # the manifest is written with write()
    planned.discard()
    assert not any(tmp_path.iterdir())


def test_an_interrupted_compile_leaves_no_temporary_file(
    in_tmp_cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staged temporaries are removed when the compile stops before renaming them."""
    from click.testing import CliRunner

    from compiler.cli import main
    from tests.support.specs import SERVICE_SPEC

    (in_tmp_cwd / "slos").mkdir()
    (in_tmp_cwd / "slos" / "checkout.yaml").write_text(SERVICE_SPEC)

    def interrupted(planned: writer.Plan) -> writer.Report:
        assert planned.staged  # the outputs were staged as temporaries
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "write", interrupted)
    result = CliRunner().invoke(main, ["compile", "--no-cache"])
    assert result.exit_code == 1  # click reports the interrupt as "Aborted!"
    left = [p for p in in_tmp_cwd.rglob("*") if p.is_file() and "slos" not in p.parts]
    assert left == []

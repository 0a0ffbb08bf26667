"""The spec cache: a compile that reads specs from it builds the same model and reports the
same diagnostics as one that does not; only clean native service files are stored; an entry
that does not check out is ignored; and its unpickler builds nothing but the model."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import pipeline
from compiler.cli import main
from compiler.diagnostics import Location
from compiler.spec_cache import FORMAT, Built, SpecCache
from tests.support.paths import SLOS


@pytest.fixture()
def project(in_tmp_cwd: Path) -> Path:
    shutil.copytree(SLOS, in_tmp_cwd / "slos")
    return in_tmp_cwd


def _entries(cache: SpecCache) -> list[Path]:
    return sorted(p for p in cache.directory.rglob("*") if p.is_file())


def _same(first: pipeline.Compilation, second: pipeline.Compilation) -> None:
    assert first.specs == second.specs
    assert first.diagnostics == second.diagnostics
    assert first.digests == second.digests


def test_a_compile_from_the_cache_builds_the_same_model(project: Path) -> None:
    plain = pipeline.compile_specs([project / "slos"])
    cache = SpecCache(project / "cache")
    filling = pipeline.compile_specs([project / "slos"], cache=cache)
    _same(filling, plain)
    services = {spec.source for spec in plain.specs.services}
    # One entry per file of service specs (environments and routing are built every time).
    assert len(_entries(cache)) == len(services) and cache.hits == 0
    cache = SpecCache(project / "cache")
    _same(pipeline.compile_specs([project / "slos"], cache=cache), plain)
    others = len(plain.files) - len(services)  # looked up, never stored
    assert others and cache.hits == len(services) and cache.misses == others


def test_an_edited_file_is_built_again_and_only_it(project: Path) -> None:
    pipeline.compile_specs([project / "slos"], cache=SpecCache(project / "cache"))
    spec = project / "slos" / "agent-api.yaml"
    spec.write_text(spec.read_text().replace("99.9", "99.5", 1))
    cache = SpecCache(project / "cache")
    cached = pipeline.compile_specs([project / "slos"], cache=cache)
    services = {spec.source for spec in cached.specs.services}
    assert cache.hits == len(services) - 1  # every file of services but the edited one
    _same(cached, pipeline.compile_specs([project / "slos"]))


def test_a_file_with_an_error_is_not_stored_and_reports_the_same(project: Path) -> None:
    spec = project / "slos" / "agent-api.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9", "objective: 101", 1))
    cache = SpecCache(project / "cache")
    plain = pipeline.compile_specs([project / "slos"])
    assert not plain.ok
    for _ in range(2):
        _same(pipeline.compile_specs([project / "slos"], cache=cache), plain)
    stored = {built.spec.source for e in _entries(cache) for built in _load(e)}
    assert stored and "slos/agent-api.yaml" not in stored


def test_services_keep_their_order_whichever_files_come_from_the_cache(project: Path) -> None:
    """A service defined twice is reported at the same file, cache cold, warm or mixed."""
    twin = project / "slos" / "zz-twin.yaml"
    shutil.copy(project / "slos" / "agent-api.yaml", twin)
    plain = pipeline.compile_specs([project / "slos"])
    assert any("also defined in" in d.message for d in plain.diagnostics)
    cache = SpecCache(project / "cache")
    _same(pipeline.compile_specs([project / "slos"], cache=cache), plain)  # cold
    _same(pipeline.compile_specs([project / "slos"], cache=cache), plain)  # warm
    twin.write_text(twin.read_text() + "\n")  # the twin misses, the original hits
    again = pipeline.compile_specs([project / "slos"])
    _same(pipeline.compile_specs([project / "slos"], cache=cache), again)


def _load(entry: Path) -> list[Built]:
    found = SpecCache(entry.parents[2]).get(entry.name)
    assert found is not None
    return found


def _plant(cache: SpecCache, key: str, payload: bytes) -> None:
    """An entry that passes every check but the unpickler's."""
    entry = cache.directory / key[:2] / key
    entry.parent.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256(payload).hexdigest().encode()
    entry.write_bytes(b"%s %s\n%d %s\n" % (FORMAT, key.encode(), len(payload), sha) + payload)


class _Runs:
    """Pickles as a call of os.system: what a planted entry would try."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (self.command,))


def test_a_planted_entry_cannot_run_anything(tmp_path: Path) -> None:
    cache = SpecCache(tmp_path)
    marker = tmp_path / "ran"
    _plant(cache, "a" * 64, pickle.dumps([_Runs(f"touch {marker}")]))
    assert cache.get("a" * 64) is None
    assert not marker.exists()


@pytest.mark.parametrize(
    "value",
    [
        [SpecCache(Path("x"))],  # a class of the compiler's that is not part of the model
        {"not": "a list of Built"},
        [Location("a.yaml", 1)],  # the model's, but not what an entry holds
    ],
    ids=["not-model", "not-list", "not-built"],
)
def test_an_entry_of_anything_else_is_ignored(tmp_path: Path, value: object) -> None:
    cache = SpecCache(tmp_path)
    _plant(cache, "b" * 64, pickle.dumps(value))
    assert cache.get("b" * 64) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-1],  # truncated
        lambda raw: raw[:-2] + bytes([raw[-2] ^ 1]) + raw[-1:],  # a byte changed
        lambda raw: raw + b"more",  # something after the payload
        lambda raw: b"",
        lambda raw: raw.replace(b"cache 1 ", b"cache 0 ", 1),  # another format
    ],
    ids=["truncated", "bit-flip", "trailing", "empty", "format"],
)
def test_a_damaged_entry_is_ignored_and_rebuilt(project: Path, damage: object) -> None:
    plain = pipeline.compile_specs([project / "slos"])
    cache = SpecCache(project / "cache")
    pipeline.compile_specs([project / "slos"], cache=cache)
    for entry in _entries(cache):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    cache = SpecCache(project / "cache")
    _same(pipeline.compile_specs([project / "slos"], cache=cache), plain)
    assert cache.hits == 0
    cache = SpecCache(project / "cache")
    pipeline.compile_specs([project / "slos"], cache=cache)
    assert cache.hits == len(_entries(cache))  # the damaged entries were replaced


def test_another_keys_entry_is_not_trusted(project: Path) -> None:
    cache = SpecCache(project / "cache")
    pipeline.compile_specs([project / "slos"], cache=cache)
    entry = _entries(cache)[0]
    other = cache.directory / "ff" / ("f" * 64)
    other.parent.mkdir(exist_ok=True)
    shutil.copy(entry, other)
    assert cache.get("f" * 64) is None


def test_compile_uses_the_spec_cache_and_no_cache_reads_none(project: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(main, ["compile", "--cache-dir", "cache"])
    assert first.exit_code == 0, first.output
    assert list((project / "cache" / "specs").rglob("*"))
    shutil.rmtree(project / "cache")
    again = runner.invoke(main, ["compile", "--no-cache"])
    assert again.exit_code == 0, again.output
    assert not (project / "cache").exists()


def test_specs_read_in_worker_processes_build_the_same_model(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--jobs 2: the same model and diagnostics, cache or not, as one process reads."""
    monkeypatch.setattr(pipeline, "_PARALLEL_FROM", 1)
    plain = pipeline.compile_specs([project / "slos"])
    _same(pipeline.compile_specs([project / "slos"], jobs=2), plain)
    cache = SpecCache(project / "cache")
    _same(pipeline.compile_specs([project / "slos"], cache=cache, jobs=2), plain)  # fills it
    _same(pipeline.compile_specs([project / "slos"], cache=cache, jobs=2), plain)  # from it

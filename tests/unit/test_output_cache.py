"""The output cache: a hit gives the bytes a build gives; an entry that does not check out
(corrupt, truncated, another key's, a path leaving its root) is ignored and rebuilt."""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import output_cache, pipeline, workers, writer
from compiler.cli import main
from compiler.output_cache import CachedFile, OutputCache
from compiler.outputs import Root
from compiler.spec_cache import SUBDIRECTORY
from compiler.targets.rule_tests import promtool_files
from tests.support.paths import SLOS


def _compile(*args: str) -> str:
    result = CliRunner().invoke(main, ["compile", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _entries(cache: Path) -> list[Path]:
    """The output entries (the spec cache's, under specs/, are tests/unit/test_spec_cache.py's)."""
    specs = cache / SUBDIRECTORY
    return sorted(
        p
        for p in cache.rglob("*")
        if p.is_file() and specs not in p.parents and p.name != ".pruned"
    )


class _Recording(OutputCache):
    """An output cache that remembers the keys it had no entry for."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.missed: set[str] = set()

    def has(self, key: str) -> bool:
        found = super().has(key)
        if not found:
            self.missed.add(key)
        return found


@pytest.fixture()
def project(in_tmp_cwd: Path) -> Path:
    shutil.copytree(SLOS, in_tmp_cwd / "slos")
    return in_tmp_cwd


def test_cached_outputs_are_the_built_ones(project: Path) -> None:
    _compile("--no-cache", "--out", "built")
    assert not (project / "cache").exists()
    _compile("--cache-dir", "cache", "--out", "first")  # fills the cache
    entries = _entries(project / "cache")
    assert entries
    specs = pipeline.compile_specs([project / "slos"]).specs
    # One entry per service, and one per rule shape (its tests).
    assert len(entries) == len(specs.services) + len(promtool_files.shapes_of(specs))
    _compile("--cache-dir", "cache", "--out", "second")  # every service from the cache
    assert _files(project / "second") == _files(project / "built") == _files(project / "first")


def test_an_edited_spec_is_rebuilt_and_only_it(project: Path) -> None:
    _compile("--cache-dir", "cache")
    spec = sorted((project / "slos").glob("*.yaml"))[0]
    spec.write_text(spec.read_text().replace("99.9", "99.5", 1))
    recording = _Recording(project / "cache")
    compiled = pipeline.compile_specs([project / "slos"])
    list(pipeline.stream(compiled.specs, recording, compiled.digests))
    keys = pipeline._cache_keys(compiled.specs, compiled.digests)
    edited = {keys[s.source] for s in compiled.specs.services if s.source.endswith(spec.name)}
    assert recording.missed & set(keys.values()) == edited  # the edited service, only it
    cache = OutputCache(project / "cache")
    fresh = [writer.serialize(f) for f in pipeline.outputs(compiled.specs)]
    streamed = [
        writer.serialize(f) for f in pipeline.stream(compiled.specs, cache, compiled.digests)
    ]
    assert sorted(streamed) == sorted(fresh)


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-1],  # truncated
        lambda raw: raw[:-2] + b"X" + raw[-1:],  # a byte changed: its hash fails
        lambda raw: raw + b"more",  # something after the last file
        lambda raw: b"",  # empty
        lambda raw: raw.replace(b"cache 1 ", b"cache 0 ", 1),  # another format
        lambda raw: raw.replace(b"\ngenerated\t", b"\nelsewhere\t", 1),  # no such root
    ],
    ids=["truncated", "bit-flip", "trailing", "empty", "format", "root"],
)
def test_a_damaged_entry_is_ignored_and_rebuilt(project: Path, damage: object) -> None:
    _compile("--no-cache", "--out", "built")
    _compile("--cache-dir", "cache", "--out", "cached")
    for entry in _entries(project / "cache"):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
        assert OutputCache(project / "cache").get(entry.name) is None
    shutil.rmtree(project / "cached")
    _compile("--cache-dir", "cache", "--out", "cached")
    assert _files(project / "cached") == _files(project / "built")
    cache = OutputCache(project / "cache")
    compiled = pipeline.compile_specs([project / "slos"])
    list(pipeline.stream(compiled.specs, cache, compiled.digests))
    assert cache.misses == 0  # the second compile replaced every damaged entry


def test_another_keys_entry_is_not_trusted(tmp_path: Path) -> None:
    cache = OutputCache(tmp_path)
    files = [CachedFile(Root.GENERATED, "prometheus/a.rules.yml", "slos/a.yaml", b"groups: []\n")]
    cache.put("a" * 64, files)
    assert cache.get("a" * 64) == files
    (tmp_path / "bb").mkdir()
    shutil.copy(tmp_path / "aa" / ("a" * 64), tmp_path / "bb" / ("b" * 64))
    assert cache.get("b" * 64) is None


@pytest.mark.parametrize("path", ["../escape.yml", "/etc/passwd", "a//b.yml", "a/./b.yml", ""])
def test_an_entry_cannot_name_a_path_outside_its_root(tmp_path: Path, path: str) -> None:
    cache = OutputCache(tmp_path)
    cache.put("c" * 64, [CachedFile(Root.GENERATED, path, None, b"x")])
    assert cache.get("c" * 64) is None


def test_the_key_follows_the_compilers_own_files(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "t.j2").write_text("a")
    before = output_cache.tree_digest([tmp_path])
    (tmp_path / "one" / "t.j2").write_text("b")
    assert output_cache.tree_digest([tmp_path]) != before


def test_templates_from_the_environment_change_the_keys(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled = pipeline.compile_specs([project / "slos"])
    before = pipeline.compiler_fingerprint()
    (project / "templates").mkdir()
    (project / "templates" / "slo_alert_summary.j2").write_text("override")
    monkeypatch.setenv("SLO_COMPILER_TEMPLATES", str(project / "templates"))
    assert pipeline.compiler_fingerprint() != before
    assert compiled.digests  # every spec file's bytes were hashed


def test_services_built_in_worker_processes_are_the_same(
    reference_specs: pipeline.SpecSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--jobs 2: the same files, in the same order, as one process builds."""
    monkeypatch.setattr(pipeline, "_PARALLEL_FROM", 1)
    serial = [(f.path, writer.serialize(f)) for f in pipeline.stream(reference_specs)]
    parallel = [(f.path, writer.serialize(f)) for f in pipeline.stream(reference_specs, jobs=2)]
    assert parallel == serial


@pytest.mark.parametrize(
    ("cores", "runnable", "jobs"),
    [(8, [1, 1, 1], 8), (8, [6, 6, 7], 3), (8, [6, 1, 6], 8), (2, [4, 3, 3], 1), (1, [1], 1)],
)
def test_auto_jobs_leave_the_cores_busy_now_alone(
    monkeypatch: pytest.MonkeyPatch, cores: int, runnable: list[int], jobs: int
) -> None:
    """Tasks runnable now, less this one, are busy cores (the fewest of a few looks: one
    that ran for an instant is not); the load average, which still counts the compile that
    just ended, is not read where that count exists."""
    looks = iter(runnable)
    monkeypatch.setattr(workers, "available_cores", lambda: cores)
    monkeypatch.setattr(workers, "_runnable_now", lambda: next(looks))
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert workers.idle_cores() == jobs


@pytest.mark.parametrize(("cores", "load", "jobs"), [(8, 0.3, 8), (8, 5.9, 3), (2, 3.5, 1)])
def test_auto_jobs_read_the_load_average_without_a_runnable_count(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float, jobs: int
) -> None:
    monkeypatch.setattr(workers, "available_cores", lambda: cores)
    monkeypatch.setattr(workers, "_LOADAVG", Path("/nonexistent/loadavg"))
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (load, load, load))
    assert workers.idle_cores() == jobs


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="no /proc/loadavg (not Linux)")
def test_the_kernel_counts_this_process_as_runnable() -> None:
    runnable = workers._runnable_now()
    assert runnable is not None and runnable >= 1


def test_compile_jobs_takes_a_number_or_auto(project: Path) -> None:
    for jobs in ("auto", "2", "1"):
        _compile("--no-cache", "--jobs", jobs, "--out", f"out-{jobs}")
    assert _files(project / "out-auto") == _files(project / "out-2") == _files(project / "out-1")
    refused = CliRunner().invoke(main, ["compile", "--jobs", "0"])
    assert refused.exit_code == 2 and "or auto" in refused.output


def test_entries_unused_for_a_month_are_pruned_once_a_day(project: Path) -> None:
    _compile("--cache-dir", "cache")
    cache = project / "cache"
    entries = sorted(p for p in cache.rglob("*") if p.is_file() and p.name != ".pruned")
    assert entries and (cache / "specs").is_dir()  # output and spec entries
    stale, fresh = entries[0], entries[1]
    now = time.time()
    month_ago = now - output_cache.KEEP_UNUSED - 60
    os.utime(stale, (month_ago, month_ago))
    (cache / "notes.txt").write_text("not an entry")
    os.utime(cache / "notes.txt", (month_ago, month_ago))
    (cache / ".pruned").unlink(missing_ok=True)
    assert output_cache.prune(cache, now) == 1
    assert not stale.exists() and fresh.exists() and (cache / "notes.txt").exists()
    os.utime(fresh, (month_ago, month_ago))
    assert output_cache.prune(cache, now + 60) == 0  # pruned less than a day ago
    assert output_cache.prune(cache, now + output_cache.PRUNE_EVERY + 1) == 1


def test_an_entry_used_is_kept(project: Path) -> None:
    _compile("--cache-dir", "cache")
    cache = project / "cache"
    month_ago = time.time() - output_cache.KEEP_UNUSED - 60
    for entry in cache.rglob("*"):
        if entry.is_file():
            os.utime(entry, (month_ago, month_ago))
    _compile("--cache-dir", "cache", "--out", "again")  # every entry used: marked
    assert output_cache.prune(cache, time.time() + output_cache.PRUNE_EVERY + 1) == 0


def test_a_parallel_compile_with_a_cache_writes_what_one_process_writes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers build the services, rule shapes and set files the cache does not hold; the
    files are those one process without a cache writes, before and after an edit."""
    monkeypatch.setattr(pipeline, "_PARALLEL_FROM", 1)
    spec = project / "slos" / "agent-api.yaml"
    for round_ in range(2):
        _compile("--no-cache", "--jobs", "1", "--out", f"serial-{round_}")
        _compile("--cache-dir", "cache", "--jobs", "2", "--out", f"parallel-{round_}")
        assert _files(project / f"parallel-{round_}") == _files(project / f"serial-{round_}")
        spec.write_text(spec.read_text().replace("99.9", "99.5", 1))


def _square(n: int) -> int:
    return n * n


def _running(pid: int) -> bool:
    """Whether ``pid`` is a child of this process not yet reaped."""
    try:
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return False


def test_ordered_map_forks_at_the_call_keeps_the_order_and_closes() -> None:
    """The workers exist once ordered_map returns (threads the caller starts after it are
    never forked with), results come back in order, and close() stops and reaps them."""
    results = workers.ordered_map(_square, range(50), 2)
    try:
        assert len(results.pids) == 2 and all(_running(pid) for pid in results.pids)
        assert list(results) == [n * n for n in range(50)]
    finally:
        results.close()
    assert results.pids == ()
    stopped = workers.ordered_map(_square, range(50), 2)
    pids = stopped.pids
    assert next(stopped) == 0
    stopped.close()  # early: the rest is never asked for
    assert not any(_running(pid) for pid in pids)
    serial = workers.ordered_map(_square, range(5), 1)
    assert serial.pids == () and list(serial) == [0, 1, 4, 9, 16]


def _frozen_here(_: int) -> bool:
    return gc.get_freeze_count() > 0


def test_what_workers_inherit_stays_out_of_their_collectors_passes() -> None:
    """A worker freezes what it inherits (the collector would copy every page it walks);
    the caller's own heap is not frozen by forking."""
    assert gc.get_freeze_count() == 0
    assert list(workers.ordered_map(_frozen_here, range(4), 2)) == [True] * 4
    assert gc.get_freeze_count() == 0


def _fails_at_three(n: int) -> int:
    if n == 3:
        raise ValueError(f"item {n} is bad")
    return n


def _exits_at_three(n: int) -> int:
    if n == 3:
        os._exit(9)  # as a worker killed by the system would
    return n


def test_ordered_map_raises_what_a_worker_raised_in_its_turn() -> None:
    """Results before the failing item arrive; its exception is raised by next(), with the
    worker's traceback as a note, and the workers are gone."""
    results = workers.ordered_map(_fails_at_three, range(10), 2)
    pids = results.pids
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="item 3 is bad") as raised:
        next(results)
    assert "In a worker process" in "".join(raised.value.__notes__)
    assert results.pids == () and not any(_running(pid) for pid in pids)


def _unpicklable(n: int) -> object:
    return (lambda: n) if n == 2 else n


def test_ordered_map_says_when_a_result_cannot_be_sent_back() -> None:
    """Pickling's own error, raised in the result's turn, not a worker that dies."""
    results = workers.ordered_map(_unpicklable, range(5), 2)
    assert [next(results), next(results)] == [0, 1]
    # AttributeError up to Python 3.13, PicklingError after
    with pytest.raises((AttributeError, pickle.PicklingError), match="pickle") as raised:
        next(results)
    assert "In a worker process" in "".join(raised.value.__notes__)
    assert results.pids == ()


def test_ordered_map_says_when_a_worker_died() -> None:
    """A worker that stops without its result (killed, out of memory) is an error, not a
    hang or a short list."""
    results = workers.ordered_map(_exits_at_three, range(10), 2)
    pids = results.pids
    with pytest.raises(workers.WorkerError, match="stopped without its result"):
        list(results)
    assert not any(_running(pid) for pid in pids)

"""The one place outputs become bytes on disk: deterministic, atomic, checkable.

Every target returns plain data; this module serializes it (YAML or JSON by file suffix),
writes all changed files through temporary files that are renamed into place only once
every one of them was written, removes files an earlier run generated that are no longer
produced (listed in each root's MANIFEST), and can instead report what is stale.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler import json_text, yaml_text
from compiler.outputs import OutputFile, Root

MANIFEST = "MANIFEST"


try:  # libyaml's emitter is ~20x faster; output is identical (tests/unit/test_writer.py checks).
    _BaseDumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseDumper = yaml.SafeDumper


def _dumper(base: type[yaml.SafeDumper], anchors: bool = False) -> type[yaml.SafeDumper]:
    """A dumper class on ``base``: insertion order, literal multi-line strings, and no
    anchors unless ``anchors`` (then an object the data holds twice is written once)."""

    class Dumper(base):  # type: ignore[valid-type, misc]
        def ignore_aliases(self, data: Any) -> bool:
            # Shared values are written out in full: anchors make generated files hard to read.
            return True if not anchors else bool(super().ignore_aliases(data))

    Dumper.add_representer(str, _represent_str)
    return Dumper


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper = _dumper(_BaseDumper)
_AnchoringDumper = _dumper(_BaseDumper, anchors=True)
PurePythonDumper = _dumper(yaml.SafeDumper)


def to_yaml(data: Any, header: str = "", dumper: type[yaml.SafeDumper] | None = None) -> str:
    """YAML text for ``data`` with ``header`` as leading comment lines.

    Without ``dumper``, the shapes our targets produce are written by compiler.yaml_text
    (the same bytes, without PyYAML's representer) and anything else by PyYAML.
    """
    if dumper is not None:
        return _comments(header) + pyyaml_text(data, dumper)
    try:
        body = yaml_text.dump(data)
    except yaml_text.Unsupported:
        body = pyyaml_text(data, _Dumper)
    return _comments(header) + body


def pyyaml_text(data: Any, dumper: type[yaml.SafeDumper]) -> str:
    """``data`` through PyYAML with the writer's options (the fast path's reference)."""
    return yaml.dump(
        data,
        Dumper=dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
    )


def _to_yaml_sharing(data: Any, header: str) -> str:
    """:func:`to_yaml` with an object ``data`` holds twice written once and referenced."""
    try:
        body = yaml_text.dump(data, anchors=True)
    except yaml_text.Unsupported:
        body = pyyaml_text(data, _AnchoringDumper)
    return _comments(header) + body


def _comments(header: str) -> str:
    return "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())


def to_json(data: Any) -> str:
    """JSON text for ``data``: two-space indent, keys in the order given, final newline
    (``json.dumps``'s text, written by compiler.json_text)."""
    return json_text.dumps(data) + "\n"


def serialize(file: OutputFile) -> bytes:
    """The exact bytes of one output file."""
    if file.text is not None:
        return file.text
    if file.path.endswith(".json"):
        return to_json(file.data).encode("utf-8")
    if file.path.endswith((".yml", ".yaml")):
        if file.share_repeated:
            return _to_yaml_sharing(file.data, file.header).encode("utf-8")
        return to_yaml(file.data, file.header).encode("utf-8")
    if isinstance(file.data, str):
        return file.data.encode("utf-8")
    raise ValueError(f"no serialization for {file.path}")


# The owner of an output built from the whole set of specs, in a MANIFEST.
WHOLE_SET = "*"


@dataclass
class Plan:
    """Files to write per root, with each root's manifest included.

    A plan made with ``stage=True`` (what `slo compile` writes) holds no file's bytes for
    long: each output is compared with the disk as it is serialized, and a changed one is
    written at once to a temporary file beside its target (``staged``), so memory does not
    grow with the number of services; :func:`write` renames them all, or :meth:`discard`
    removes them. Without staging, ``files`` holds the bytes of every output (a check, a
    diff, a command's own small set of files).
    """

    files: dict[Path, bytes] = field(default_factory=dict)
    previous: set[Path] = field(default_factory=set)  # listed in the manifests on disk
    # Outputs of the whole set that a compile of some specs leaves as they are, with what a
    # compile of the whole set would write there.
    left_alone: dict[Path, bytes] = field(default_factory=dict)
    staged: dict[Path, Path] = field(default_factory=dict)  # target -> its temporary file
    unchanged: set[Path] = field(default_factory=set)  # produced, and already so on disk
    created: list[Path] = field(default_factory=list)  # directories made for staged files

    @property
    def produced(self) -> set[Path]:
        """Every file this plan writes or finds already written."""
        return set(self.files) | set(self.staged) | self.unchanged

    @property
    def stale(self) -> list[Path]:
        """Files an earlier run generated that this run no longer produces."""
        produced = self.produced
        return sorted(p for p in self.previous if p not in produced)

    @property
    def outdated_left_alone(self) -> list[Path]:
        """Outputs left alone that are not what compiling the whole set would write."""
        return sorted(p for p, data in self.left_alone.items() if read(p) != data)

    # Written by the staging threads as they go (a set's add and a dict's store are atomic).
    _staging: _Staging | None = field(default=None, repr=False)
    _directories: set[Path] = field(default_factory=set, repr=False)  # known to exist

    def stage(self, target: Path, data: bytes) -> None:
        """Compare ``data`` with ``target`` on disk; if it differs, write it to a temporary
        file beside ``target`` (renamed by :func:`write`). The disk work is done by a few
        threads while the caller builds the next output: :meth:`settle` waits for it."""
        try:
            self._make_parents(target)
        except OSError as exc:
            raise _write_error(exc, target) from exc
        if self._staging is None:
            self._staging = _Staging()
        self._staging.submit(self._stage_now, target, data)

    def settle(self) -> None:
        """Wait until every staged file is compared or written; raise the first failure."""
        if self._staging is not None:
            staging, self._staging = self._staging, None
            staging.finish()

    def _make_parents(self, target: Path) -> None:
        """Make the missing directories above ``target`` here, in order, so that
        :meth:`discard` can remove them again."""
        parent = target.parent
        if parent in self._directories:
            return
        missing = [d for d in (parent, *parent.parents) if not d.exists()]
        for directory in reversed(missing):
            directory.mkdir()
            self.created.append(directory)
        self._directories.add(parent)

    def _stage_now(self, target: Path, data: bytes) -> None:
        if read(target) == data:
            self.unchanged.add(target)
            return
        if target.is_dir() and not target.is_symlink():
            raise WriteError(f"cannot write {target}: a directory is in its place; nothing written")
        try:
            handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            self.staged[target] = Path(name)
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise _write_error(exc, target) from exc

    def discard(self) -> None:
        """Remove every staged temporary file and the directories made for them."""
        if self._staging is not None:
            staging, self._staging = self._staging, None
            staging.abandon()
        for temporary in list(self.staged.values()):
            temporary.unlink(missing_ok=True)
        self.staged.clear()
        for directory in reversed(self.created):
            with contextlib.suppress(OSError):
                directory.rmdir()
        self.created.clear()
        self._directories.clear()


def _write_error(exc: OSError, target: Path) -> WriteError:
    where = exc.filename or target
    return WriteError(f"cannot write {where}: {exc.strerror or exc}; nothing written")


class _Staging:
    """A few threads that compare and write staged files. Opening, writing and fsyncing
    wait on the disk with the GIL released, so the build goes on meanwhile; at most
    _PENDING_BYTES of outputs wait to be written, so memory stays flat."""

    _THREADS = 2
    _PENDING_BYTES = 16 * 1024 * 1024

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(self._THREADS, thread_name_prefix="slo-stage")
        self.pending: deque[tuple[Future[None], int]] = deque()
        self.size = 0

    def submit(self, work: Callable[[Path, bytes], None], target: Path, data: bytes) -> None:
        """Run ``work(target, data)`` on a thread, once the bytes in flight allow it."""
        while self.pending and (self.size > self._PENDING_BYTES or self.pending[0][0].done()):
            self._settle_first()
        self.pending.append((self.pool.submit(work, target, data), len(data)))
        self.size += len(data)

    def _settle_first(self) -> None:
        future, size = self.pending.popleft()
        self.size -= size
        future.result()  # a failure surfaces here, in the caller's thread

    def finish(self) -> None:
        """Wait for every file; raise the first failure (after all have stopped)."""
        try:
            while self.pending:
                self._settle_first()
        finally:
            self.abandon()

    def abandon(self) -> None:
        """Stop: files not started are not written, those being written are waited for."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pending.clear()


def plan(
    outputs: Iterable[OutputFile],
    roots: Mapping[Root, Path],
    only: Collection[str] | None = None,
    stage: bool = False,
) -> Plan:
    """Serialize ``outputs`` and work out their paths under ``roots``.

    ``only``: the spec files being compiled when they are part of a larger set. Then only
    outputs compiled from those files are written (or that the MANIFEST says were: an output
    of several specs, whose owners can change), and only files those specs produced before
    can be removed; outputs of the whole set and of other specs are left as they are (each
    root's MANIFEST records which spec owns which file).

    ``stage``: write changed outputs to temporary files as they come (see :class:`Plan`);
    if anything fails on the way, every one of them is removed again.
    """
    result = Plan()
    try:
        _fill(result, outputs, roots, only, stage)
        result.settle()
    except BaseException:
        result.discard()
        raise
    return result


def _fill(
    result: Plan,
    outputs: Iterable[OutputFile],
    roots: Mapping[Root, Path],
    only: Collection[str] | None,
    stage: bool,
) -> None:
    owners: dict[Root, dict[str, str]] = {root: {} for root in roots}
    # Read first: an output some of whose owners changed (a rule shape's tests, owned by the
    # specs of every SLO of that shape) is written by a compile of an owner it had or has.
    manifests = {root: read_manifest(directory) for root, directory in roots.items()}
    seen: set[Path] = set()
    for output in outputs:
        if output.root not in roots:
            continue
        target = roots[output.root] / output.path
        if only is not None and not _owned_by(output.source, only):
            if output.source is None:
                result.left_alone[target] = serialize(output)
            if output.source is None or not _owned_by(
                manifests[output.root].get(output.path), only
            ):
                continue
        if target in seen:
            raise ValueError(f"two outputs write {target}")
        seen.add(target)
        if stage:
            result.stage(target, serialize(output))
        else:
            result.files[target] = serialize(output)
        owners[output.root][output.path] = output.source or WHOLE_SET
    for root, directory in roots.items():
        before = manifests[root]
        if only is not None:  # what other specs (and the whole set) own stays listed
            mine = {name for name, owner in before.items() if _owned_by(owner, only)}
            kept = {name: owner or WHOLE_SET for name, owner in before.items() if name not in mine}
            owners[root] = {**kept, **owners[root]}
            before = {name: before[name] for name in mine}
        result.previous.update(directory / name for name in before)
        if owners[root]:
            result.files[directory / MANIFEST] = _manifest(owners[root])
        elif before:
            result.previous.add(directory / MANIFEST)


def _owned_by(owner: str | None, only: Collection[str]) -> bool:
    """Whether an output's owner (one spec file, or several joined by ", ") is compiled."""
    return owner not in (None, WHOLE_SET) and any(f in only for f in owner.split(", "))


def _manifest(owners: Mapping[str, str]) -> bytes:
    lines = "".join(f"{name}\t{owners[name]}\n" for name in sorted(owners))
    return (
        "# Files generated by slo-compiler into this directory, each with the spec it is\n"
        "# compiled from (* for the whole set); they are removed when no longer produced.\n"
        "# Do not edit.\n" + lines
    ).encode("utf-8")


def read_manifest(directory: Path) -> dict[str, str | None]:
    """The files an earlier run generated in ``directory``, with the spec that owns each
    (None where the manifest does not say).

    Raises :class:`WriteError` for an entry that is not a plain path inside ``directory``
    (absolute, with ``..``, or through a symbolic link): a manifest never makes the compiler
    touch anything outside its root.
    """
    manifest = directory / MANIFEST
    try:
        text = manifest.read_text(encoding="utf-8")
    except OSError:
        return {}
    found: dict[str, str | None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, owner = line.partition("\t")
        name = name.strip()
        if not _inside(directory, name):
            raise WriteError(
                f"{manifest}:{number}: {name!r} is not a file inside {directory} (absolute, "
                "'..', a symbolic link or a directory): remove the line; nothing was written "
                "or removed"
            )
        found[name] = owner.strip() or None
    return found


def _inside(directory: Path, name: str) -> bool:
    """Whether ``name`` names a path under ``directory`` without leaving it on the way."""
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        return False
    here = directory
    for part in relative.parts:
        here = here / part
        if here.is_symlink():
            return False
    return not here.is_dir()


@dataclass(frozen=True)
class Report:
    """What a write changed, or what a check found stale."""

    written: tuple[Path, ...] = ()
    removed: tuple[Path, ...] = ()
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything differs from what is on disk."""
        return bool(self.written or self.removed)


def compare(planned: Plan) -> Report:
    """What writing ``planned`` would change, without touching the disk."""
    differing = [p for p, data in planned.files.items() if read(p) != data]
    written = tuple(sorted([*differing, *planned.staged]))
    removed = tuple(p for p in planned.stale if p.exists())
    unchanged = len(planned.files) - len(differing) + len(planned.unchanged)
    return Report(written, removed, unchanged)


def unified_diff(planned: Plan, report: Report) -> Iterator[str]:
    """Lines of a unified diff from the files on disk to what writing ``planned`` would leave.

    ``report`` is ``compare(planned)``: the diff covers its changed and removed files, in the
    form a reviewer knows from ``git diff`` (new files from /dev/null).
    """
    for path in report.written:
        old = read(path)
        new = planned.files[path] if path in planned.files else read(planned.staged[path])
        yield from difflib.unified_diff(
            _lines(old),
            _lines(new),
            fromfile="/dev/null" if old is None else f"a/{path}",
            tofile=f"b/{path}",
        )
    for path in report.removed:
        yield from difflib.unified_diff(_lines(read(path)), [], f"a/{path}", "/dev/null")


def _lines(data: bytes | None) -> list[str]:
    lines = (data or b"").decode("utf-8", errors="replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


class WriteError(Exception):
    """Outputs that cannot be written (nothing was: every temporary file is removed)."""


def write(planned: Plan) -> Report:
    """Write every changed file atomically: all temporary files first (with those the plan
    staged), then rename them.

    Raises :class:`WriteError` when a file cannot be written (a directory in its place, a
    read-only directory); then nothing is changed.
    """
    try:
        report = compare(planned)
        renames = _write_temporaries(planned, [p for p in report.written if p in planned.files])
    except BaseException:
        planned.discard()
        raise
    for temporary, target in [*renames, *((t, p) for p, t in sorted(planned.staged.items()))]:
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    planned.staged.clear()
    for path in report.removed:
        path.unlink(missing_ok=True)
    return report


def _write_temporaries(planned: Plan, changed: list[Path]) -> list[tuple[Path, Path]]:
    """Write the bytes of ``changed`` files to temporaries beside them: (temporary, target)."""
    for target in changed:
        if target.is_dir() and not target.is_symlink():
            raise WriteError(f"cannot write {target}: a directory is in its place; nothing written")
    temporaries: list[tuple[Path, Path]] = []
    created: list[Path] = []  # directories made for the outputs, removed again on failure
    try:
        for target in changed:
            missing = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
            for directory in reversed(missing):
                directory.mkdir()
                created.append(directory)
            handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            temporaries.append((Path(name), target))
            with os.fdopen(handle, "wb") as stream:
                stream.write(planned.files[target])
                stream.flush()
                os.fsync(stream.fileno())
    except BaseException as exc:
        for temporary, _ in temporaries:
            temporary.unlink(missing_ok=True)
        for directory in reversed(created):
            directory.rmdir()
        if isinstance(exc, OSError):
            where = exc.filename or "the outputs"
            why = exc.strerror or str(exc)
            raise WriteError(f"cannot write {where}: {why}; nothing written") from exc
        raise
    return temporaries


def read(path: Path) -> bytes | None:
    """A file's bytes, or None if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None

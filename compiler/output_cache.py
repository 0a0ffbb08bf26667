"""Content-addressed cache of each service's output files, so an unchanged service is not
rebuilt: its key is a hash of everything its outputs are built from (the spec file's bytes,
the documents shared by the whole set, the compiler's own code and templates), its entry the
exact bytes of its files.

An entry is trusted only when it proves itself: the key it names is the one asked for, every
file's length and SHA-256 match, its paths are plain relative paths under a known root, and
nothing follows the last file. Anything else (truncated, edited, another key's, another
format's) is ignored and rebuilt. Entries are plain bytes, never unpickled, so a planted
entry can at worst be ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Generic, TypeVar

from compiler.outputs import Root

FORMAT = b"slo-compiler output cache 1"
# Entries not used for this long are removed, looked for at most once per PRUNE_EVERY.
KEEP_UNUSED = 30 * 24 * 3600
PRUNE_EVERY = 24 * 3600
_PRUNED_STAMP = ".pruned"
_KEY = re.compile(r"[0-9a-f]{64}")
Entry = TypeVar("Entry")
DIRECTORY_NAME = ".cache"  # under the output root, unless --cache-dir says otherwise


@dataclass(frozen=True)
class CachedFile:
    """One output file as the writer would write it."""

    root: Root
    path: str
    source: str | None
    data: bytes


def digest(*parts: bytes | str) -> str:
    """SHA-256 of ``parts``, each length-prefixed so that no two lists of parts collide."""
    hasher = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(f"{len(raw)}:".encode())
        hasher.update(raw)
    return hasher.hexdigest()


def tree_digest(directories: Iterable[Traversable]) -> str:
    """A hash of every file under ``directories`` (names and bytes): the compiler's code,
    schemas and templates, so that a changed compiler never reuses an entry."""
    parts: list[bytes | str] = []

    def walk(directory: Traversable, prefix: str) -> None:
        for entry in sorted(directory.iterdir(), key=lambda e: e.name):
            if entry.name == "__pycache__" or entry.name.endswith(".pyc"):
                continue
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif entry.is_file():
                parts.extend([prefix + entry.name, entry.read_bytes()])

    for directory in directories:
        parts.append("//")
        walk(directory, "")
    return digest(*parts)


class EntryStore(Generic[Entry]):
    """Entries under ``directory``, one file per key, each written atomically and read
    only through ``parse`` (which returns None for one that does not check out); hits and
    misses counted."""

    def __init__(self, directory: Path, parse: Callable[[bytes, str], Entry | None]) -> None:
        self.directory = directory
        self._parse = parse
        self.hits = 0
        self.misses = 0

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def get(self, key: str) -> Entry | None:
        """What is stored under ``key``, or None when there is no entry to trust."""
        try:
            raw = self._entry(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        found = self._parse(raw, key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
            used(self._entry(key))
        return found

    def _store(self, key: str, data: bytes) -> None:
        """Write an entry atomically; a cache that cannot be written is only slower, never
        an error."""
        entry = self._entry(key)
        with contextlib.suppress(OSError):
            entry.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=".entry.", dir=entry.parent)
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                os.replace(name, entry)
            except OSError:
                Path(name).unlink(missing_ok=True)
                raise


class OutputCache(EntryStore[list[CachedFile]]):
    """Each service's (and rule shape's) output files, by key."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, _parse)

    def has(self, key: str) -> bool:
        """Whether there is an entry for ``key`` (not yet checked: :meth:`get` does); a key
        without one counts as a miss."""
        if self._entry(key).is_file():
            return True
        self.misses += 1
        return False

    def put(self, key: str, files: Sequence[CachedFile]) -> None:
        """Store ``files`` under ``key``."""
        chunks = [FORMAT + b" " + key.encode() + b"\n"]
        for file in files:
            source = file.source if file.source is not None else ""
            head = "\t".join(
                [file.root.value, file.path, source, str(len(file.data)), _sha(file.data)]
            )
            chunks += [head.encode("utf-8") + b"\n", file.data]
        self._store(key, b"".join(chunks))


def used(entry: Path) -> None:
    """Mark a cache entry as used now (its modification time), so pruning keeps it."""
    with contextlib.suppress(OSError):
        os.utime(entry)


def prune(directory: Path, now: float | None = None) -> int:
    """Remove the cache entries under ``directory`` (output and spec entries alike) not
    used for KEEP_UNUSED, at most once per PRUNE_EVERY; the number removed. Only files
    named as keys are removed: a cache directory pointed at the wrong place loses nothing
    else."""
    now = time.time() if now is None else now
    stamp = directory / _PRUNED_STAMP
    try:
        if now - stamp.stat().st_mtime < PRUNE_EVERY:
            return 0
    except OSError:
        pass  # never pruned (or no cache yet)
    if not directory.is_dir():
        return 0
    removed = 0
    for entry in directory.rglob("*"):
        if not _KEY.fullmatch(entry.name) or entry.is_symlink() or not entry.is_file():
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > KEEP_UNUSED:
                entry.unlink()
                removed += 1
    with contextlib.suppress(OSError):
        stamp.touch()
        os.utime(stamp, (now, now))
    return removed


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse(raw: bytes, key: str) -> list[CachedFile] | None:
    """The files of an entry, or None if any part of it does not check out."""
    first, _, rest = raw.partition(b"\n")
    if first != FORMAT + b" " + key.encode():
        return None
    roots = {root.value: root for root in Root}
    files = []
    position = 0
    while position < len(rest):
        end = rest.find(b"\n", position)
        if end < 0:
            return None
        try:
            fields = rest[position:end].decode("utf-8").split("\t")
        except UnicodeDecodeError:
            return None
        if len(fields) != 5 or fields[0] not in roots or not _plain(fields[1]):
            return None
        root, path, source, length, sha = fields
        if not length.isdigit():
            return None
        data = rest[end + 1 : end + 1 + int(length)]
        if len(data) != int(length) or _sha(data) != sha:
            return None
        files.append(CachedFile(roots[root], path, source or None, data))
        position = end + 1 + int(length)
    return files


def _plain(path: str) -> bool:
    """A relative path without ``..``, ``.``, empty or absolute parts: it stays under its
    root, and names the file the way the targets name it."""
    parts = path.split("/")
    return all(part not in ("", ".", "..") for part in parts) and "\\" not in path

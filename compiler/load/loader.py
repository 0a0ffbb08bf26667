"""Reading YAML spec files into plain data, remembering the line of every field.

PyYAML's node graph carries positions; we walk it ourselves so that each value is paired
with the line it was written on, duplicate keys are reported (PyYAML keeps the last one
silently), mapping keys stay strings whatever they look like (``on:`` is not ``True``),
and nothing but :class:`~compiler.diagnostics.SpecError` escapes on any input.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compiler.diagnostics import Diagnostic, Location, SpecError

try:  # The C loader is several times faster on large spec sets; positions are the same.
    from yaml import CSafeLoader as _SafeLoader

    _C_LOADER = True
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

    _C_LOADER = False


class _Loader(_SafeLoader):
    """The safe loader, looking each short scalar's tag up once: a spec set repeats the same
    keys and values thousands of times, and the resolver tries its patterns on every one."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not yaml.ScalarNode or len(value) > _CACHED_SCALAR or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        key = (value, implicit)
        tag = _TAGS.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(_TAGS) >= _TAGS_LIMIT:
                _TAGS.clear()
            _TAGS[key] = tag
        return tag


# A plain or quoted scalar's tag depends only on its text (no path resolvers are set).
_TAGS: dict[tuple[str, tuple[bool, bool]], Any] = {}
_TAGS_LIMIT = 50_000
_CACHED_SCALAR = 64

PathKey = tuple[str | int, ...]

# A spec is small; anything this large is an alias bomb or not a spec at all.
_MAX_NODES = 2_000_000
# Specs nest a few levels; libyaml composes nested collections recursively in C, where a
# deep enough document crashes the process instead of raising.
MAX_DEPTH = 64
# Far more than the largest spec (10,000 SLOs in one file are about 3 MB), and read whole.
MAX_FILE_BYTES = 16 * 1024 * 1024
# The longest value of any field (PromQL has its own, equal bound: compiler.promql).
MAX_TEXT = 64 * 1024
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Document:
    """One YAML document: its data, the line of each field, and where it came from."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(repr=False)
    index: int = 0

    def line(self, path: PathKey) -> int:
        """Line of the field at ``path``, or of its nearest enclosing field."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def locate(self, path: PathKey) -> Location:
        """A :class:`Location` for the field at ``path``."""
        return Location(self.file, self.line(path), format_path(path))


def format_path(path: PathKey) -> str:
    """``("slos", 0, "objective")`` → ``slos[0].objective``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def load_file(path: Path, display_name: str | None = None) -> list[Document]:
    """Read every YAML document in ``path``; raise :class:`SpecError` if it cannot be read."""
    return load_bytes(read_spec(path, display_name), display_name or str(path))


def read_spec(path: Path, display_name: str | None = None) -> bytes:
    """The bytes of the spec file ``path``; raise :class:`SpecError` if it cannot be read or
    is too large to be a spec."""
    name = display_name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            message = f"{size:,} bytes: a spec file holds at most {MAX_FILE_BYTES:,}"
            raise SpecError([Diagnostic(Location(name), message)])
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError([Diagnostic(Location(name), f"cannot read file: {exc}")]) from exc
    if len(raw) > MAX_FILE_BYTES:  # grew since it was measured
        message = f"{len(raw):,} bytes: a spec file holds at most {MAX_FILE_BYTES:,}"
        raise SpecError([Diagnostic(Location(name), message)])
    return raw


def load_bytes(raw: bytes, file: str) -> list[Document]:
    """Parse the UTF-8 bytes of a spec file into documents (see :func:`load_text`)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([Diagnostic(Location(file), f"cannot read file: {exc}")]) from exc
    return load_text(text, file)


def load_text(text: str, file: str) -> list[Document]:
    """Parse YAML text into documents; empty documents are dropped."""
    _check_depth(text, file)
    loader = _Loader(text)
    documents: list[Document] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node guarantees a node
                break
            walker = _Walker(file)
            try:
                data = walker.build(node, ())
            finally:
                walker.dispose()
            if walker.problems:
                raise SpecError(walker.problems)
            if data is not None:
                documents.append(Document(file, data, walker.lines, index))
            index += 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        message = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SpecError([Diagnostic(Location(file, line), f"invalid YAML: {message}")]) from exc
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, at a position
        # libyaml counts bytes of the UTF-8 text (the pure-Python reader, characters).
        position = max(exc.position, 0)
        before = text.encode()[:position] if _C_LOADER else text[:position].encode()
        line = before.count(b"\n") + 1
        character = chr(exc.character) if isinstance(exc.character, int) else exc.character
        message = f"invalid YAML: character {character!r} is not allowed ({exc.reason})"
        raise SpecError([Diagnostic(Location(file, line), message)]) from exc
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(Location(file), f"invalid YAML: {exc}")]) from exc
    except RecursionError as exc:
        raise SpecError([Diagnostic(Location(file), "invalid YAML: nested too deeply")]) from exc
    finally:
        loader.dispose()
    return documents


def _check_depth(text: str, file: str) -> None:
    """Refuse collections nested deeper than :data:`MAX_DEPTH`, from the parser's events
    (which libyaml produces without recursing), before anything is composed."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else 0
                    message = f"invalid YAML: nested more than {MAX_DEPTH} levels deep"
                    raise SpecError([Diagnostic(Location(file, line), message)])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # composing reports it, with its line


class _Walker:
    """Turns one composed node graph into plain data plus a path → line map."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Diagnostic] = []
        self._constructor = yaml.SafeLoader("")
        self._active: set[int] = set()
        self._count = 0

    def dispose(self) -> None:
        """Let go of the constructor's state: it refers to itself, and to every node it
        constructed, so without this each document would leave a cycle of all its nodes for
        the garbage collector to find."""
        self._constructor.dispose()
        self._constructor.constructed_objects.clear()
        self._constructor.recursive_objects.clear()

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self._count += 1
        if self._count > _MAX_NODES:
            raise yaml.YAMLError("document expands to too many values (alias bomb?)")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            self._problem(node, path, "an alias refers to a value that contains it")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
        finally:
            self._active.discard(id(node))
        raise yaml.YAMLError(f"unsupported YAML node {type(node).__name__}")  # pragma: no cover

    def _scalar(self, node: yaml.ScalarNode, path: PathKey) -> Any:
        if len(node.value) > MAX_TEXT:
            # Free text is copied into every rule and notification of its SLO: a 50 MB
            # description made 500 MB of output.
            self._problem(
                node, path, f"a value of {len(node.value):,} characters: at most {MAX_TEXT:,}"
            )
            return None
        try:
            value = self._constructor.construct_object(node, deep=True)
        except Exception as exc:  # PyYAML's constructors raise many types
            # e.g. an explicit !!int tag on text that is not a number, or an impossible date:
            # whatever PyYAML throws while converting a scalar means the value is invalid.
            self._problem(node, path, f"invalid value {node.value!r}: {exc}")
            return node.value
        if isinstance(value, float) and not math.isfinite(value):
            # .nan and .inf pass every numeric comparison a schema makes, and no field of a
            # spec means them.
            self._problem(node, path, f"{node.value} is not a number this field can hold")
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge_source(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, path, "a mapping key must be a plain name")
                continue
            # Keys are names in this format: keep the text as written (no bool/int coercion).
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                first = self.lines.get(child, 0)
                self._problem(key_node, child, f"duplicate key {key!r} (first set on line {first})")
                continue
            self.lines[child] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, child)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def _merge_source(self, node: yaml.Node, path: PathKey) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self._problem(source, path, "'<<' must merge a mapping or a list of mappings")
                continue
            for key, value in self._mapping(source, path).items():
                merged.setdefault(key, value)
        return merged

    def _problem(self, node: yaml.Node, path: PathKey, message: str) -> None:
        location = Location(self.file, node.start_mark.line + 1, format_path(path))
        self.problems.append(Diagnostic(location, message))


def iter_paths(data: Any, path: PathKey = ()) -> Iterator[tuple[PathKey, Any]]:
    """Every (path, value) pair in plain data, depth first."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from iter_paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from iter_paths(value, (*path, index))

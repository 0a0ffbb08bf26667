"""YAML text for the plain data our targets produce, written without PyYAML's representer.

PyYAML builds a node for every value before libyaml emits a character, and that node tree,
not the emitting, is most of a compile's time. The shapes we produce are simple: block
mappings and sequences of ASCII strings, numbers, booleans and nulls. This module writes
exactly what ``yaml.dump`` with the writer's options (block style, insertion order, literal
multi-line strings, width 4096, optional anchors for shared objects) writes for them, and
raises :class:`Unsupported` for anything else (a non-ASCII or control character, a string
PyYAML would quote or fold in a way not reproduced here, a type it does not know), so the
writer can fall back to PyYAML for that file. ``tests/unit/test_yaml_text.py`` checks both
properties with hypothesis: same bytes as PyYAML, and PyYAML loads the text back to the data.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.resolver import Resolver


class Unsupported(Exception):
    """Data outside the shapes this module reproduces byte for byte: use PyYAML."""


_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_RESOLVER = Resolver()


def _tag(text: str) -> str:
    """The tag a plain scalar ``text`` resolves to."""
    return str(_RESOLVER.resolve(yaml.ScalarNode, text, (True, False)))  # type: ignore[no-untyped-call]


# Printable ASCII only: a string with anything else takes PyYAML's path.
_ASCII_LINE = re.compile(r"[\x20-\x7e]*\Z")
_ASCII_TEXT = re.compile(r"[\x20-\x7e\n]*\Z")
# What makes a single-line string unfit for a plain block scalar (PyYAML's analyze_scalar
# and libyaml's agree on these): an indicator first, "---" or "..." first, ": " or a final
# ":", " #", a leading or trailing space.
_INDICATOR_FIRST = frozenset("#,[]{}&*!|>'\"%@`")
_INDICATOR_BEFORE_SPACE = frozenset("-?:")


def _unfit_for_plain(text: str) -> bool:
    """Whether ``text`` (not empty, one line) must be quoted to be read back as written."""
    first = text[0]
    return (
        first in _INDICATOR_FIRST
        or (first in _INDICATOR_BEFORE_SPACE and text[1:2] in ("", " "))
        or text.startswith(("---", "...", " "))
        or text.endswith((":", " "))
        or ": " in text
        or " #" in text
    )


# Long scalars can be folded at the emitter's width (4096 columns); keep well below it.
_LONGEST = 2000
# libyaml writes keys longer than 128 characters in the "? key" form.
_LONGEST_KEY = 100


# The first characters some implicit resolver is registered for: Resolver.resolve tries only
# those of a scalar's first character (and wildcard ones, which PyYAML has none of), so a
# scalar starting with any other character is a string without trying a pattern.
_RESOLVED_FIRST = frozenset(_RESOLVER.yaml_implicit_resolvers)
_ONLY_BY_FIRST = None not in _RESOLVED_FIRST and not _RESOLVER.yaml_path_resolvers


def _resolves_to_str(text: str) -> bool:
    """Whether the plain scalar ``text`` reads back as a string (not a number, bool, null,
    date...), which is what lets PyYAML write it unquoted."""
    if _ONLY_BY_FIRST and text and text[0] not in _RESOLVED_FIRST:
        return True
    return _tag(text) == _STR_TAG


def _single_line(text: str) -> str:
    if len(text) > _LONGEST or not _ASCII_LINE.match(text):
        raise Unsupported(text[:80])
    if text and not _unfit_for_plain(text) and _resolves_to_str(text):
        return text
    return "'" + text.replace("'", "''") + "'"


# Rendered short strings: label names and values, windows, severities repeat in every file.
_CACHE: dict[str, str] = {}
_CACHE_LIMIT = 200_000
_CACHED_LENGTH = 48


def _scalar_str(text: str) -> str:
    """A single-line string as written after ``key: `` or ``- ``."""
    if len(text) <= _CACHED_LENGTH:
        found = _CACHE.get(text)
        if found is None:
            found = _single_line(text)
            if len(_CACHE) >= _CACHE_LIMIT:
                _CACHE.clear()
            _CACHE[text] = found
        return found
    return _single_line(text)


def _literal(text: str, indent: int) -> str:
    """A multi-line string as a literal block (``|-`` or ``|``) whose lines sit at
    ``indent``, starting with the indicator; PyYAML's choice for these strings."""
    if not _ASCII_TEXT.match(text) or text[0] in " \n":
        raise Unsupported(text[:80])
    if text.endswith("\n"):
        if text.endswith("\n\n"):  # "|+" and a document end marker: not reproduced
            raise Unsupported(text[:80])
        indicator, body = "|", text[:-1]
    else:
        indicator, body = "|-", text
    lines = body.split("\n")
    if any(line.endswith(" ") for line in lines):  # PyYAML then double-quotes
        raise Unsupported(text[:80])
    pad = " " * indent
    return indicator + "".join(f"\n{pad}{line}" if line else "\n" for line in lines)


def _float(value: float) -> str:
    """SafeRepresenter.represent_float's text, when it reads back as a float unquoted."""
    if value != value or value in (float("inf"), float("-inf")):
        raise Unsupported(repr(value))
    text = repr(value).lower()
    if "." not in text and "e" in text:
        text = text.replace("e", ".0e", 1)
    if _tag(text) != _FLOAT_TAG:
        raise Unsupported(text)
    return text


def _scalar(value: Any, indent: int) -> str | None:
    """``value`` as the text after ``key:`` or ``-`` (with its leading space), or None for
    a mapping or a sequence."""
    kind = type(value)
    if kind is str:
        if "\n" in value:
            return " " + _literal(value, indent)
        return " " + _scalar_str(value)
    if kind is bool:
        return " true" if value else " false"
    if kind is int:
        return f" {value}"
    if kind is float:
        return " " + _float(value)
    if value is None:
        return " null"
    if kind is dict or kind is list:
        return None
    raise Unsupported(kind.__name__)


_KEYS: dict[str, str] = {}


def _key(key: Any) -> str:
    """``key:`` as written in a mapping (keys are few: field and label names)."""
    if type(key) is not str:
        raise Unsupported(repr(key)[:80])
    found = _KEYS.get(key)
    if found is None:
        if "\n" in key or len(key) > _LONGEST_KEY:
            raise Unsupported(repr(key)[:80])
        found = _single_line(key) + ":"
        if len(_KEYS) < _CACHE_LIMIT:
            _KEYS[key] = found
    return found


class _Emitter:
    """One document's text, built as a list of pieces."""

    def __init__(self, anchors: dict[int, int]) -> None:
        self.out: list[str] = []
        self.anchors = anchors  # id of a shared object -> its anchor number
        self.emitted: set[int] = set()

    def _shared(self, value: Any) -> str | None:
        """`` &idNNN`` the first time a shared object is written, `` *idNNN`` after, None
        for an object written once."""
        number = self.anchors.get(id(value))
        if number is None:
            return None
        if not value:  # PyYAML writes "&id001 []": not reproduced
            raise Unsupported("a shared empty collection")
        if id(value) in self.emitted:
            return f" *id{number:03d}"
        self.emitted.add(id(value))
        return f" &id{number:03d}"

    def mapping(self, data: dict[Any, Any], indent: int, lead: str) -> None:
        """The entries of ``data`` at column ``indent``, the first one after ``lead``."""
        append = self.out.append
        cache = _CACHE
        pad = " " * indent
        prefix = lead
        for key, value in data.items():
            name = _KEYS.get(key) if type(key) is str else None
            if name is None:
                name = _key(key)
            kind = type(value)
            # The common entries written here, without a call per value: strings (short
            # ones seen before come from the cache), and collections when nothing is shared.
            if kind is str:
                text = cache.get(value) if len(value) <= _CACHED_LENGTH else None
                if text is None:
                    multiline = "\n" in value
                    text = _literal(value, indent + 2) if multiline else _scalar_str(value)
                append(f"{prefix}{name} {text}\n")
            elif (kind is dict or kind is list) and value and not self.anchors:
                append(f"{prefix}{name}\n")
                if kind is dict:
                    self.mapping(value, indent + 2, " " * (indent + 2))
                else:
                    self.sequence(value, indent, pad)
            else:
                append(prefix)
                append(name)
                self.value(value, indent)
            prefix = pad

    def sequence(self, data: list[Any], indent: int, lead: str) -> None:
        """The items of ``data`` at column ``indent``, the first one after ``lead``."""
        append = self.out.append
        pad = " " * indent
        prefix = lead
        for item in data:
            append(prefix)
            prefix = pad
            text = _scalar(item, indent + 2)
            if text is not None:
                append(f"-{text}\n")
                continue
            shared = self._shared(item) if self.anchors else None
            if shared is not None:
                append(f"-{shared}\n")
                if shared.startswith(" &"):
                    self.block(item, indent + 2, " " * (indent + 2), inside_mapping=False)
                continue
            if not item:
                append("- {}\n" if type(item) is dict else "- []\n")
            elif type(item) is dict:
                self.mapping(item, indent + 2, "- ")
            else:
                self.sequence(item, indent + 2, "- ")

    def value(self, value: Any, indent: int) -> None:
        """What follows ``key:`` in a mapping at column ``indent``."""
        append = self.out.append
        text = _scalar(value, indent + 2)
        if text is not None:
            append(f"{text}\n")
            return
        shared = self._shared(value) if self.anchors else None
        if shared is not None:
            append(f"{shared}\n")
            if shared.startswith(" &"):
                self.block(value, indent, "", inside_mapping=True)
            return
        if not value:
            append(" {}\n" if type(value) is dict else " []\n")
            return
        append("\n")
        self.block(value, indent, "", inside_mapping=True)

    def block(self, value: Any, indent: int, lead: str, inside_mapping: bool) -> None:
        """A non-empty collection on the lines after its key or dash: a mapping one level
        in, a sequence in a mapping at the mapping's own column (PyYAML's indentless
        sequences)."""
        if type(value) is dict:
            column = indent + 2 if inside_mapping else indent
            self.mapping(value, column, lead or " " * column)
        else:
            self.sequence(value, indent, lead or " " * indent)


def _anchor_numbers(data: Any) -> dict[int, int]:
    """Anchor numbers as PyYAML's serializer gives them: to every mapping or sequence
    met twice, counted in the order of their second meeting (a depth-first walk)."""
    seen: set[int] = set()
    numbers: dict[int, int] = {}

    def walk(value: Any) -> None:
        key = id(value)
        if key in seen:
            if key not in numbers:
                numbers[key] = len(numbers) + 1
            return
        seen.add(key)
        for child in value.values() if type(value) is dict else value:
            kind = type(child)
            if kind is dict or kind is list:
                walk(child)

    walk(data)
    return numbers


def dump(data: Any, anchors: bool = False) -> str:
    """The YAML text of ``data`` (a non-empty mapping or sequence) as the writer's PyYAML
    dumper writes it; ``anchors``: shared objects as ``&idNNN``/``*idNNN``.

    Raises :class:`Unsupported` for data outside the shapes reproduced here.
    """
    if type(data) not in (dict, list) or not data:
        raise Unsupported(type(data).__name__)
    emitter = _Emitter(_anchor_numbers(data) if anchors else {})
    if type(data) is dict:
        emitter.mapping(data, 0, "")
    else:
        emitter.sequence(data, 0, "")
    return "".join(emitter.out)

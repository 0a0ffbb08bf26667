"""JSON text for the plain data our targets produce, as ``json.dumps(data, indent=2,
ensure_ascii=False)`` writes it, without the standard library's pure-Python encoder.

With an indent, ``json.dumps`` leaves its C encoder for a generator per container that
yields every token, and a compile of thousands of dashboards spends most of its JSON time
there. This module walks the data once, appending to one list, and uses the C string
encoder for every string. ``tests/unit/test_json_text.py`` holds it to ``json.dumps`` with
hypothesis: the same text for any data of JSON's types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring
from typing import Any

_INFINITY = float("inf")
# Keys and short values repeat across panels (field names, units, datasource references).
_STRINGS: dict[str, str] = {}
_STRINGS_LIMIT = 100_000
_SHORT = 64


def dumps(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, faster.

    Raises TypeError for a value JSON has no form for, as ``json.dumps`` does, and
    ValueError for a container that contains itself.
    """
    out: list[str] = []
    _value(data, out, "\n", set())
    return "".join(out)


def _string(text: str) -> str:
    if len(text) > _SHORT:
        return str(encode_basestring(text))
    found = _STRINGS.get(text)
    if found is None:
        found = str(encode_basestring(text))
        if len(_STRINGS) >= _STRINGS_LIMIT:
            _STRINGS.clear()
        _STRINGS[text] = found
    return found


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _scalar(value: Any) -> str | None:
    """The text of a value that is not a container, or None for a container."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is float:
        return _float(value)
    if kind is dict or kind is list or kind is tuple:
        return None
    # Subclasses and anything else: what json.dumps makes of it (or its TypeError).
    if isinstance(value, (str, int, float)) or value is None:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (dict, list, tuple)):
        return None
    raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")


def _value(value: Any, out: list[str], newline: str, active: set[int]) -> None:
    """Append ``value``, whose first line is already indented; ``newline`` starts a line at
    the value's own indentation."""
    text = _scalar(value)
    if text is not None:
        out.append(text)
        return
    if not value:
        out.append("{}" if isinstance(value, dict) else "[]")
        return
    marker = id(value)
    if marker in active:
        raise ValueError("Circular reference detected")
    active.add(marker)
    inner = newline + "  "
    if isinstance(value, dict):
        opening, closing = "{", "}"
        entries: Iterable[tuple[str, Any]] = ((_key(k) + ": ", v) for k, v in value.items())
    else:
        opening, closing = "[", "]"
        entries = (("", item) for item in value)
    out.append(opening)
    separator = inner
    for label, item in entries:
        out.append(separator)
        out.append(label)
        text = _scalar(item)
        if text is None:
            _value(item, out, inner, active)
        else:
            out.append(text)
        separator = "," + inner
    out.append(newline + closing)
    active.discard(marker)


def _key(key: Any) -> str:
    """A mapping key as json.dumps writes it: strings as they are, numbers, booleans and
    None as their JSON text in quotes."""
    if type(key) is str:
        return _string(key)
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, float):
        return _string(_float(key))
    if isinstance(key, int):
        return _string(int.__repr__(key))
    if isinstance(key, str):
        return _string(str.__str__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")

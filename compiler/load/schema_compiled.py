"""A JSON Schema turned into plain Python predicates, for the question asked of every spec
document: is it valid? (Only a document that is not goes through jsonschema, which words
the errors.)

jsonschema walks the schema for every value it checks: a validator object per level, a
lookup per keyword. Our schemas use a small set of keywords, so each schema node is compiled
once into a closure that checks exactly what JSON Schema 2020-12 says for them. A schema
with any other keyword is not compiled (:func:`compile_schema` returns None) and the caller
keeps jsonschema; a value a closure cannot judge exactly (an ``enum`` of numbers asked about
a number, items without a hashable form under ``uniqueItems``) raises :class:`Unsure`,
which the caller answers with jsonschema too. ``tests/unit/test_loader.py`` holds the
compiled predicates to jsonschema's verdict on every spec in the repository and thousands of
broken copies of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

# Keywords that only annotate: no effect on validity.
_ANNOTATIONS = frozenset(
    {"description", "title", "examples", "default", "$comment", "deprecated", "markdownDescription"}
)
_SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "enum",
        "const",
        "pattern",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "allOf",
        "oneOf",
        "anyOf",
    }
)


class Unsure(Exception):
    """A value the compiled checks cannot judge exactly: ask jsonschema."""


class Unsupported(Exception):
    """A schema keyword (or form of one) not compiled here."""


def compile_schema(schema: Any) -> Check | None:
    """A predicate that says whether a value is valid against ``schema`` (with no
    ``$ref`` left: see schema_check._inline), or None if the schema uses a keyword this
    module does not compile. The predicate may raise :class:`Unsure`."""
    try:
        return _compile(schema)
    except Unsupported:
        return None


def _compile(schema: Any) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict):
        raise Unsupported(repr(schema)[:40])
    for keyword in schema:
        if keyword not in _ANNOTATIONS and keyword not in _SUPPORTED:
            raise Unsupported(keyword)
    checks: list[Check] = []
    if "type" in schema:
        checks.append(_type(schema["type"]))
    if any(k in schema for k in ("properties", "additionalProperties", "required")):
        checks.append(_object(schema))
    for keyword in ("minProperties", "maxProperties", "propertyNames"):
        if keyword in schema:
            checks.append(_object_size_and_names(schema))
            break
    if any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems")):
        checks.append(_array(schema))
    if any(k in schema for k in ("minLength", "maxLength", "pattern")):
        checks.append(_string(schema))
    if any(k in schema for k in _BOUNDS):
        checks.append(_number(schema))
    if "enum" in schema:
        checks.append(_enum(schema["enum"]))
    if "const" in schema:
        checks.append(_enum([schema["const"]]))
    for keyword, combine in (("allOf", all), ("anyOf", any)):
        if keyword in schema:
            parts = [_compile(part) for part in _schemas(schema[keyword])]
            checks.append(_combined(parts, combine))
    if "oneOf" in schema:
        checks.append(_one_of([_compile(part) for part in _schemas(schema["oneOf"])]))
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _always(value: Any) -> bool:
    return True


def _never(value: Any) -> bool:
    return False


def _schemas(value: Any) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise Unsupported("a combinator without a list of schemas")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": _is_number,
    # 2020-12: a number with a zero fractional part is an integer (1.0 is).
    "integer": lambda v: _is_number(v) and (isinstance(v, int) or float(v).is_integer()),
}


def _type(value: Any) -> Check:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(name in _TYPES for name in names):
        raise Unsupported(f"type {value!r}")
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(test(v) for test in tests)


def _object(schema: dict[str, Any]) -> Check:
    properties = {name: _compile(sub) for name, sub in schema.get("properties", {}).items()}
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else _compile(extra)
    required = tuple(schema.get("required", ()))

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True  # object keywords ignore other types
        for name in required:
            if name not in value:
                return False
        for name, item in value.items():
            found = properties.get(name)
            if found is not None:
                if not found(item):
                    return False
            elif extra_check is not None and not extra_check(item):
                return False
        return True

    return check


def _object_size_and_names(schema: dict[str, Any]) -> Check:
    low = schema.get("minProperties", 0)
    high = schema.get("maxProperties")
    names = _compile(schema["propertyNames"]) if "propertyNames" in schema else None

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        if len(value) < low or (high is not None and len(value) > high):
            return False
        return names is None or all(names(name) for name in value)

    return check


def _array(schema: dict[str, Any]) -> Check:
    items = _compile(schema["items"]) if "items" in schema else None
    low = schema.get("minItems", 0)
    high = schema.get("maxItems")
    unique = schema.get("uniqueItems", False) is True

    def check(value: Any) -> bool:
        if not isinstance(value, list):
            return True
        if len(value) < low or (high is not None and len(value) > high):
            return False
        if items is not None and not all(items(item) for item in value):
            return False
        return not unique or _all_different(value)

    return check


def _all_different(values: list[Any]) -> bool:
    """uniqueItems, exactly, for strings and None, or for numbers (1 and 1.0 are one
    value, as jsonschema counts them); anything else (booleans, NaN, collections) is
    jsonschema's to judge."""
    if all(isinstance(v, str) or v is None for v in values) or all(
        _is_number(v) and v == v for v in values
    ):
        return len(set(values)) == len(values)
    raise Unsure("uniqueItems of booleans, NaN or collections")


def _string(schema: dict[str, Any]) -> Check:
    low = schema.get("minLength", 0)
    high = schema.get("maxLength")
    pattern = re.compile(schema["pattern"]) if "pattern" in schema else None

    def check(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        if len(value) < low or (high is not None and len(value) > high):
            return False
        return pattern is None or pattern.search(value) is not None

    return check


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _number(schema: dict[str, Any]) -> Check:
    bounds = [(keyword, schema[keyword]) for keyword in _BOUNDS if keyword in schema]
    if not all(_is_number(limit) for _, limit in bounds):
        raise Unsupported("a bound that is not a number")

    # The comparisons jsonschema makes, as it makes them (NaN fails none of them).
    def check(value: Any) -> bool:
        if not _is_number(value):
            return True
        for keyword, limit in bounds:
            if keyword == "minimum" and value < limit:
                return False
            if keyword == "maximum" and value > limit:
                return False
            if keyword == "exclusiveMinimum" and value <= limit:
                return False
            if keyword == "exclusiveMaximum" and value >= limit:
                return False
        return True

    return check


def _enum(values: Any) -> Check:
    """enum or const, with jsonschema's equality: true is not 1, 1 is 1.0; NaN, and a
    collection among collections, are jsonschema's to judge."""
    if not isinstance(values, list):
        raise Unsupported("enum without a list")
    strings = frozenset(v for v in values if isinstance(v, str))
    booleans = [v for v in values if isinstance(v, bool)]
    numbers = [v for v in values if _is_number(v)]
    allows_null = any(v is None for v in values)
    collections = any(isinstance(v, (dict, list)) for v in values)

    def check(value: Any) -> bool:
        if isinstance(value, str):
            return value in strings
        if value is None:
            return allows_null
        if isinstance(value, bool):
            return any(value is v for v in booleans)
        if _is_number(value):
            if value != value:
                raise Unsure("NaN in an enum")
            return any(value == v for v in numbers)
        if collections:
            raise Unsure("a collection in an enum of collections")
        return False

    return check


def _combined(parts: list[Check], combine: Callable[[Any], bool]) -> Check:
    return lambda value: combine(part(value) for part in parts)


def _one_of(parts: list[Check]) -> Check:
    return lambda value: sum(1 for part in parts if part(value)) == 1

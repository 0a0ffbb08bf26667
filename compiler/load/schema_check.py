"""JSON Schema validation of spec documents, with messages written for the person editing.

The schemas ship in ``compiler/schema/`` so editors can complete and check specs. jsonschema's
own messages are terse and sometimes misleading ("Additional properties are not allowed");
here each error is reworded, given a did-you-mean where a name is close, and placed on the
line of the field it concerns.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing._core import Resolver
from referencing.jsonschema import DRAFT202012

from compiler.diagnostics import Diagnostic
from compiler.load.loader import Document, PathKey
from compiler.load.schema_compiled import Unsure, compile_schema

_SCHEMA_PACKAGE = "compiler.schema"


@cache
def schema_registry() -> Registry:
    """Every schema file in the package, addressable by its ``$id``."""
    registry: Registry = Registry()
    for entry in sorted(resources.files(_SCHEMA_PACKAGE).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".schema.json"):
            continue
        contents = json.loads(entry.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        registry = registry.with_resource(contents["$id"], resource)
    return registry.crawl()


def load_schema(name: str) -> dict[str, Any]:
    """A shipped schema by file name, e.g. ``spec-v1.schema.json``."""
    text = resources.files(_SCHEMA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def bundled_schema(name: str) -> dict[str, Any]:
    """The shipped schema ``name`` as one self-contained document, for editors and other
    tools: every schema it refers to is embedded under ``$defs`` with its own ``$id`` (JSON
    Schema 2020-12 bundling), so its references resolve without fetching anything."""
    root = load_schema(name)
    embedded: dict[str, Any] = {}
    pending = _referenced_files(root)
    while pending:
        file = pending.pop()
        if file in embedded or file == name:
            continue
        embedded[file] = load_schema(file)
        pending |= _referenced_files(embedded[file])
    if not embedded:
        return root
    defs = {**root.get("$defs", {}), **{f: embedded[f] for f in sorted(embedded)}}
    return {**root, "$defs": defs}


def _referenced_files(schema: Any) -> set[str]:
    """The sibling schema files ``schema`` refers to (``common-v1.schema.json#/...``)."""
    if isinstance(schema, dict):
        found = {
            ref.split("#", 1)[0]
            for key, ref in schema.items()
            if key == "$ref" and isinstance(ref, str) and not ref.startswith("#")
        }
        for value in schema.values():
            found |= _referenced_files(value)
        return found
    if isinstance(schema, list):
        return set().union(*(_referenced_files(item) for item in schema))
    return set()


@cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    """A validator for the shipped schema ``name`` that resolves the sibling files."""
    return jsonschema.Draft202012Validator(load_schema(name), registry=schema_registry())


class _Validity:
    """Whether a document is valid: the schema's compiled predicates where they can judge
    (compiler.load.schema_compiled), jsonschema on the inlined schema where they cannot."""

    def __init__(self, inlined: Any) -> None:
        self.compiled = compile_schema(inlined)
        self.validator = jsonschema.Draft202012Validator(inlined)

    def is_valid(self, data: Any) -> bool:
        if self.compiled is not None:
            try:
                return self.compiled(data)
            except Unsure:
                pass
        return bool(self.validator.is_valid(data))


@cache
def _validity_checker(name: str) -> _Validity | None:
    """A validity check for ``name`` with every ``$ref`` replaced by what it refers to,
    which only answers valid or not, without the registry lookups that are half of a
    jsonschema check's time, and compiled to plain predicates where the schema's keywords
    allow; None for a schema that refers to itself (it cannot be inlined)."""
    schema = load_schema(name)
    inlined = _inline(schema, schema_registry().resolver(base_uri=schema["$id"]), ())
    if inlined is None or '"$ref"' in json.dumps(inlined):
        return None
    return _Validity(inlined)


def _inline(schema: Any, resolver: Resolver[Any], seen: tuple[int, ...]) -> Any:
    """``schema`` with its references inlined (``$ref`` beside other keywords becomes an
    ``allOf`` of both, as 2020-12 applies both); None if a reference recurs."""
    if isinstance(schema, list):
        items = [_inline(item, resolver, seen) for item in schema]
        return None if any(item is None for item in items) else items
    if not isinstance(schema, dict):
        return schema
    if "$dynamicRef" in schema:
        return None
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("$ref", "$defs", "$id", "$schema"):
            continue
        if key in _DATA_KEYWORDS:  # instances, not schemas: copied as they are
            result[key] = value
            continue
        if key in _NAMED_SCHEMAS and isinstance(value, dict):  # names -> schemas
            named = {name: _inline(sub, resolver, seen) for name, sub in value.items()}
            if any(sub is None for sub in named.values()):
                return None
            result[key] = named
            continue
        inlined = _inline(value, resolver, seen)
        if inlined is None:
            return None
        result[key] = inlined
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return result
    resolved = resolver.lookup(ref)
    if id(resolved.contents) in seen:
        return None
    referred = _inline(resolved.contents, resolved.resolver, (*seen, id(resolved.contents)))
    if referred is None:
        return None
    return {"allOf": [referred], **result} if result else referred


# Keywords whose values are instances or names, and those that map names to schemas.
_DATA_KEYWORDS = frozenset({"enum", "const", "examples", "default", "required", "type"})
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "dependentSchemas"})


def check(document: Document, schema_name: str, base: PathKey = ()) -> list[Diagnostic]:
    """Every schema violation in ``document`` (or in its part at ``base``)."""
    data = document.data
    for key in base:
        data = data[key]
    fast = _validity_checker(schema_name)
    if fast is not None and fast.is_valid(data):
        return []  # the common case; the full check below words the errors
    found = []
    for error in validator(schema_name).iter_errors(data):
        for leaf in _leaves(error):
            path: PathKey = (*base, *leaf.absolute_path)
            message, path = _describe(leaf, path, data)
            found.append(Diagnostic(document.locate(path), message))
    return _unique(found)


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Descend into oneOf/anyOf to the error that explains the problem best."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        # Prefer the branch whose type matches the value: its errors say what is wrong.
        matching = [e for e in error.context if e.validator not in ("type", "const")]
        chosen = best_match(matching or error.context)
        if chosen is not None:
            yield from _leaves(chosen)
            return
    yield error


def _describe(error: ValidationError, path: PathKey, root: Any) -> tuple[str, PathKey]:
    """A message for one error, and the path it is best reported at."""
    kind = str(error.validator)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = sorted(schema.get("properties", {}))
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            key = unknown[0]
            return _unknown_field(key, allowed), (*path, key)
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"missing required field '{missing}'", path
    if kind == "type":
        expected = error.validator_value
        hint = ""
        if isinstance(value, bool) and "string" in _as_list(expected):
            hint = " (quote it: YAML reads yes/no/on/off/true/false as booleans)"
        return f"{_show(value)} is not {_type_words(expected)}{hint}", path
    if kind == "exclusiveMaximum":
        return f"{_show(value)} is not below {_show(error.validator_value)}", path
    if kind == "exclusiveMinimum":
        return f"{_show(value)} is not above {_show(error.validator_value)}", path
    if kind == "maximum":
        return f"{_show(value)} is above the maximum {_show(error.validator_value)}", path
    if kind == "minimum":
        return f"{_show(value)} is below the minimum {_show(error.validator_value)}", path
    if kind == "enum":
        return _not_one_of(value, [str(o) for o in _as_list(error.validator_value)]), path
    if kind == "const":
        return f"{_show(value)} must be {_show(error.validator_value)}", path
    if kind == "pattern":
        return f"{_show(value)} {_pattern_words(str(error.validator_value))}", path
    if kind in ("minLength", "minItems", "minProperties") and not value:
        return "must not be empty", path
    if kind == "maxProperties" and isinstance(value, dict):
        return f"give only one of {', '.join(sorted(value))}", path
    if kind == "minProperties":
        options = ", ".join(sorted(schema.get("properties", {})))
        return f"give one of {options}", path
    if kind == "uniqueItems":
        return "lists the same value twice", path
    if kind == "maxLength":
        return f"is longer than {error.validator_value} characters", path
    return error.message, path


def _unknown_field(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field '{key}' (did you mean '{close[0]}'?)"
    if allowed:
        return f"unknown field '{key}'; expected one of: {', '.join(allowed)}"
    return f"unknown field '{key}'"


def _not_one_of(value: Any, options: list[str]) -> str:
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"{_show(value)} is not one of {', '.join(options)}{hint}"


def _pattern_words(pattern: str) -> str:
    known = {
        "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$": "must be lower-case letters, digits and dashes",
        "^[a-zA-Z_][a-zA-Z0-9_]*$": "must be letters, digits and underscores, not starting "
        "with a digit",
        "^[a-zA-Z_:][a-zA-Z0-9_:]*$": "is not a valid metric name",
        "^https?://": "must be an http:// or https:// URL",
        "^\\$\\{env:[A-Za-z_][A-Za-z0-9_]*\\}$": "must be an environment reference such as "
        "${env:PROM_TOKEN}, never the secret itself",
        "^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$": "is not a valid name: letters, digits, "
        "'-', '_' and '.', starting and ending with a letter or digit",
    }
    if pattern in known:
        return known[pattern]
    if pattern.startswith("^([0-9]+y)?"):
        return "is not a duration like 5m, 1h or 30d"
    return f"does not match {pattern}"


def _type_words(expected: Any) -> str:
    words = {
        "string": "a string",
        "number": "a number",
        "integer": "a whole number",
        "object": "a mapping",
        "array": "a list",
        "boolean": "true or false",
        "null": "empty",
    }
    return " or ".join(words.get(t, t) for t in _as_list(expected))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[Diagnostic] = set()
    result = []
    for d in diagnostics:
        if d not in seen:
            seen.add(d)
            result.append(d)
    return result

"""The YAML loader: line numbers, strictness, and nothing but SpecError on bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from compiler.diagnostics import SpecError
from compiler.load.loader import format_path, load_text


def test_every_field_knows_its_line() -> None:
    (document,) = load_text("a: 1\nb:\n  - x: 2\n    y: [3, 4]\n", "f.yaml")
    assert document.data == {"a": 1, "b": [{"x": 2, "y": [3, 4]}]}
    assert document.line(("a",)) == 1
    assert document.line(("b", 0, "x")) == 3
    assert document.line(("b", 0, "y", 1)) == 4
    assert document.line(("b", 0, "missing")) == 3  # nearest enclosing field


def test_paths_print_as_written_in_messages() -> None:
    assert format_path(("slos", 0, "objective")) == "slos[0].objective"
    assert format_path(()) == ""


def test_duplicate_keys_are_errors_with_both_lines() -> None:
    with pytest.raises(SpecError) as caught:
        load_text("service:\n  name: a\n  name: b\n", "f.yaml")
    (problem,) = caught.value.diagnostics
    assert str(problem) == "f.yaml:3: service.name: duplicate key 'name' (first set on line 2)"


def test_malformed_yaml_reports_the_line() -> None:
    with pytest.raises(SpecError) as caught:
        load_text("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    (problem,) = caught.value.diagnostics
    assert problem.location.file == "f.yaml"
    assert problem.location.line == 3
    assert "invalid YAML" in problem.message


def test_keys_stay_names_whatever_they_look_like() -> None:
    (document,) = load_text("labels:\n  on: x\n  1: y\n  null: z\n", "f.yaml")
    assert document.data == {"labels": {"on": "x", "1": "y", "null": "z"}}


def test_merge_keys_fill_in_without_overriding() -> None:
    text = "base: &b {a: 1, b: 2}\nuse:\n  <<: *b\n  b: 3\n"
    (document,) = load_text(text, "f.yaml")
    assert document.data["use"] == {"a": 1, "b": 3}


def test_empty_documents_are_dropped() -> None:
    assert load_text("", "f.yaml") == []
    assert load_text("# only a comment\n---\n", "f.yaml") == []


def test_several_documents_in_one_file() -> None:
    documents = load_text("a: 1\n---\nb: 2\n", "f.yaml")
    assert [d.data for d in documents] == [{"a": 1}, {"b": 2}]
    assert documents[1].line(("b",)) == 3


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(SpecError) as caught:
        load_text("\n".join(lines), "bomb.yaml")
    assert "too many values" in str(caught.value)


def test_recursive_aliases_are_refused() -> None:
    with pytest.raises(SpecError) as caught:
        load_text("a: &a\n  b: *a\n", "loop.yaml")
    assert "contains it" in str(caught.value)


def test_non_scalar_keys_are_refused() -> None:
    with pytest.raises(SpecError) as caught:
        load_text("? [a, b]\n: 1\n", "f.yaml")
    assert "plain name" in str(caught.value)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_spec_errors(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except SpecError as error:
        assert error.diagnostics, "a SpecError always says what is wrong"


_SCALAR_TEXTS = st.one_of(
    st.text(st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=10),
    st.sampled_from(
        ["1", "1.5", "true", "no", "~", "null", "2024-01-01", "0x1f", "1_000", "=", "<<"]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SCALAR_TEXTS, min_size=1, max_size=6), st.booleans())
def test_scalars_read_as_pyyaml_reads_them_each_time(values: list[str], quoted: bool) -> None:
    """Each scalar is read as PyYAML reads it, its text plain or quoted, the first time and
    when it recurs (the loader keeps the tags of texts it has resolved)."""
    items = [json.dumps(value) if quoted else value for value in values]
    text = "".join(f"- {item}\n" for item in items * 2)
    try:
        expected = yaml.safe_load(text)
        documents = load_text(text, "scalars.yaml")
    except (yaml.YAMLError, SpecError):
        assume(False)  # not YAML, or a value specs refuse (.nan)
    # Only scalars: "- ?" is a mapping, whose keys the loader keeps as names.
    assume(isinstance(expected, list) and not any(isinstance(v, dict | list) for v in expected))
    assert [document.data for document in documents] == [expected]


_YAML_ALPHABET = st.sampled_from(
    [*list("abc:-[]{},&*!|>'\"#%@`?\n\t 0123456789."), "<<: ", "!!int ", "!!binary ", "---\n"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_YAML_ALPHABET, max_size=80).map("".join))
def test_yaml_like_noise_raises_only_spec_errors(text: str) -> None:
    try:
        load_text(text, "fuzz.yaml")
    except SpecError as error:
        assert error.diagnostics


def test_the_fast_validity_check_agrees_with_the_full_one() -> None:
    """schema_check answers "valid" from a schema with its references inlined; on every
    spec document of the repository and the tests (valid and not), it must agree."""
    from compiler.load import schema_check
    from compiler.load.discovery import discover
    from compiler.load.loader import load_file
    from tests.support.paths import ROOT

    files, _ = discover([ROOT / "slos", ROOT / "tests"])
    compared = 0
    for name in ("spec-v1.schema.json", "routing-v1.schema.json", "environment-v1.schema.json"):
        fast = schema_check._validity_checker(name)
        assert fast is not None, name
        full = schema_check.validator(name)
        for path in files:
            try:
                documents = load_file(path)
            except Exception:  # files that are not YAML specs at all
                continue
            for document in documents:
                for data in _variants(document.data):
                    assert fast.is_valid(data) == full.is_valid(data), path
                    compared += 1
    assert compared > 1000


def _valid_spec_documents() -> list[tuple[Any, str]]:
    """Every document of the repository and the tests that is valid against its schema,
    with that schema's name."""
    from compiler.load import schema_check
    from compiler.load.discovery import discover
    from compiler.load.loader import load_file
    from tests.support.paths import ROOT

    files, _ = discover([ROOT / "slos", ROOT / "tests"])
    found = []
    for path in files:
        try:
            documents = [d.data for d in load_file(path)]
        except Exception:  # files that are not YAML specs at all
            continue
        for data in documents:
            kind = data.get("kind") if isinstance(data, dict) else None
            name = {"Environment": "environment", "Routing": "routing"}.get(str(kind), "spec")
            schema = f"{name}-v1.schema.json"
            if schema_check.validator(schema).is_valid(data):
                found.append((data, schema))
    return found


_VALID_DOCUMENTS = _valid_spec_documents()


def _leaves_of(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves_of(item)
    else:
        yield value


_LEAVES = sorted(
    {repr(v): v for d, _ in _VALID_DOCUMENTS for v in _leaves_of(d)}.values(), key=repr
)
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 100_001)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "x", "5m", "99.9", "critical", "a b", "rate(x[5m])", "0.5"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_the_compiled_schema_judges_any_change_as_jsonschema_does(data: st.DataObject) -> None:
    """Any value anywhere in any spec of the repository: the compiled predicates (or,
    where they are unsure, jsonschema on the inlined schema) agree with the full check."""
    from compiler.load import schema_check

    document, schema = data.draw(st.sampled_from(_VALID_DOCUMENTS))
    mutated = _mutate(document, data)
    fast = schema_check._validity_checker(schema)
    assert fast is not None and fast.compiled is not None, schema
    assert fast.is_valid(mutated) == schema_check.validator(schema).is_valid(mutated)


def _mutate(value: Any, data: st.DataObject) -> Any:
    """A copy of ``value`` with one value somewhere in it replaced, removed or added."""
    if isinstance(value, dict) and value and data.draw(st.integers(0, 3)):
        key = data.draw(st.sampled_from(sorted(value, key=str)))
        return {**value, key: _mutate(value[key], data)}
    if isinstance(value, list) and value and data.draw(st.integers(0, 3)):
        index = data.draw(st.integers(0, len(value) - 1))
        return [*value[:index], _mutate(value[index], data), *value[index + 1 :]]
    action = data.draw(st.sampled_from(["replace", "drop", "add", "swap", "swap"]))
    if action == "swap":  # a value from another field: often of the right type
        return data.draw(st.sampled_from(_LEAVES))
    if action == "drop" and isinstance(value, dict) and value:
        gone = data.draw(st.sampled_from(sorted(value, key=str)))
        return {k: v for k, v in value.items() if k != gone}
    if action == "add" and isinstance(value, dict):
        return {**value, data.draw(st.text(max_size=6)): data.draw(_JSON_VALUES)}
    return data.draw(_JSON_VALUES)


def _variants(data: Any) -> Iterator[Any]:
    """``data``, and copies with one field (at the top or one level down) removed or given
    a value of the wrong type: most of them invalid."""
    yield data
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        yield {k: v for k, v in data.items() if k != key}
        yield {**data, key: 12345}
        if isinstance(value, dict):
            for inner in value:
                yield {**data, key: {k: v for k, v in value.items() if k != inner}}
                yield {**data, key: {**value, inner: [True]}}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in value[0]:
                first = {k: v for k, v in value[0].items() if k != inner}
                yield {**data, key: [first, *value[1:]]}
                yield {**data, key: [{**value[0], inner: {"x": None}}, *value[1:]]}

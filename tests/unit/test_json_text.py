"""compiler.json_text writes what json.dumps(indent=2, ensure_ascii=False) writes, for any
data of JSON's types, and fails where it fails."""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import json_text
from compiler.targets.grafana import dashboards
from tests.support.paths import SLOS

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_keys = st.text() | st.integers() | st.booleans() | st.none() | st.floats()
_data = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5)
    | st.tuples(inner, inner)
    | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=40,
)


def _reference(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


@given(_data)
def test_the_same_text_as_json_dumps(data: Any) -> None:
    assert json_text.dumps(data) == _reference(data)


class _Level(IntEnum):
    LOW = 1


@pytest.mark.parametrize(
    "data",
    [
        {"a": _Level.LOW, _Level.LOW: [True, 1.0, -0.0, 1e300, "é\u2028\x00\"\\"]},
        [[], {}, [[]], {"": {}}],
        {"many": list(range(20)), "nested": {"x": {"y": {"z": [1, [2, [3]]]}}}},
    ],
    ids=["subclasses-and-escapes", "empties", "nesting"],
)
def test_edge_cases(data: Any) -> None:
    assert json_text.dumps(data) == _reference(data)


def test_what_json_cannot_write_fails_alike() -> None:
    with pytest.raises(TypeError):
        json_text.dumps({"a": object()})
    with pytest.raises(TypeError):
        json_text.dumps({(1, 2): "tuple key"})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        json_text.dumps(loop)


def test_every_dashboard_of_the_reference_specs(reference_specs: Any) -> None:
    files = [f for spec in reference_specs.services for f in dashboards.service_files(spec)]
    files += dashboards.set_files(reference_specs)
    written = [f for f in files if f.path.endswith(".json")]
    assert written and SLOS.is_dir()
    for file in written:
        assert json_text.dumps(file.data) == _reference(file.data)

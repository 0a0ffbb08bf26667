"""The fast YAML emitter (compiler/yaml_text.py) against PyYAML, the reference it replaces.

Whatever it writes must be the bytes PyYAML writes with the writer's options, and must load
back to the data; whatever it cannot reproduce it refuses, and the writer uses PyYAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import pipeline, writer, yaml_text
from tests.support.paths import ROOT

# Mostly the characters our outputs hold, plus those that change how YAML quotes a string.
_ALPHABET = st.sampled_from(
    list("abcxyz019_-./ ") + list(":#'\"{}[],&*!|>%@`?=~$^+<()\\") + ["\n", "\t", "é", "\u2028"]
)
_TEXT = st.text(_ALPHABET, max_size=30) | st.sampled_from(
    ["", "0.5", "yes", "null", "~", "1e3", "2026-01-01", "---", "...", "- a", "a: b", "5m", "<<"]
)
_SCALARS = (
    _TEXT
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
)


def _collections(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4)


_DATA = st.recursive(_SCALARS, _collections, max_leaves=25)
_DOCUMENTS = st.dictionaries(_TEXT, _DATA, min_size=1, max_size=5) | st.lists(
    _DATA, min_size=1, max_size=5
)


def _check(data: Any, anchors: bool) -> bool:
    """Compare with PyYAML where the fast path answers; whether it did."""
    reference = writer.pyyaml_text(data, writer._AnchoringDumper if anchors else writer._Dumper)
    try:
        text = yaml_text.dump(data, anchors=anchors)
    except yaml_text.Unsupported:
        return False
    assert text == reference
    assert yaml.safe_load(text) == data
    return True


@settings(max_examples=400)
@given(_DOCUMENTS)
def test_what_it_writes_is_pyyamls_text_and_loads_back(data: Any) -> None:
    _check(data, anchors=False)


@settings(max_examples=300)
@given(_DOCUMENTS, st.dictionaries(_TEXT, _DATA, min_size=1, max_size=3), st.data())
def test_shared_objects_are_anchored_as_pyyaml_anchors_them(
    data: Any, shared: dict[str, Any], draw: st.DataObject
) -> None:
    """An object held twice or more is written once (&idNNN) and referenced (*idNNN)."""
    slots = draw.draw(st.lists(st.integers(0, 6), min_size=2, max_size=4))
    holder: list[Any] = [data] if isinstance(data, dict) else list(data)
    for slot in slots:
        holder.insert(min(slot, len(holder)), shared)
    document = {"items": holder, "again": [{"x": shared}]}
    _check(document, anchors=True)


def test_strings_it_cannot_reproduce_are_refused() -> None:
    """Non-ASCII, control characters, trailing spaces in a block, "|+" endings: PyYAML's."""
    for text in ["é", "a\tb", "line \nnext", "a\n\n", " leading\nblock", "x" * 3000]:
        with pytest.raises(yaml_text.Unsupported):
            yaml_text.dump({"k": text})
        assert yaml.safe_load(writer.to_yaml({"k": text})) == {"k": text}


SPECS = [*sorted((ROOT / "tests" / "specs").glob("*.yaml")), ROOT / "slos"]


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_every_yaml_output_takes_the_fast_path(spec: Path) -> None:
    """Our own outputs never fall back to PyYAML (the fallback is for the unforeseen)."""
    result = pipeline.compile_specs([spec])
    assert result.ok, result.diagnostics
    for output in pipeline.outputs(result.specs):
        if output.path.endswith((".yml", ".yaml")):
            dumper = writer._AnchoringDumper if output.share_repeated else writer._Dumper
            text = yaml_text.dump(output.data, anchors=output.share_repeated)
            assert text == writer.pyyaml_text(output.data, dumper), output.path

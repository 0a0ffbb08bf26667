"""The package is laid out as docs/architecture.md says, and every kind has its handlers."""

from __future__ import annotations

import re
from typing import get_args

from compiler.model.signal import CONDITION_KINDS, Condition
from compiler.model.slo import SLI
from compiler.validate import signals
from tests.support.paths import ROOT

ARCHITECTURE = ROOT / "docs" / "architecture.md"
PACKAGE = ROOT / "compiler"


def _documented_tree() -> set[str]:
    """Paths of the tree in docs/architecture.md ("The tree"), from its indentation."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    block = re.search(r"## The tree\n.*?```text\n(.*?)```", text, re.DOTALL)
    assert block, "docs/architecture.md has no tree under '## The tree'"
    found: set[str] = set()
    parents: list[str] = []
    for line in block.group(1).splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        parents = parents[:depth]
        found.add("/".join([*parents, name.rstrip("/")]))
        if name.endswith("/"):
            parents.append(name.rstrip("/"))
    return found


def _actual_tree() -> set[str]:
    """Every module and package of compiler/ (package data directories as one entry)."""
    found = {"compiler"}
    for path in PACKAGE.rglob("*"):
        relative = path.relative_to(ROOT)
        if "__pycache__" in relative.parts or path.name == "__init__.py":
            continue
        if "schema" in relative.parts[1:2]:
            found.add("compiler/schema")
        elif path.is_dir() or path.suffix == ".py":
            found.add(relative.as_posix())
    return found


def test_the_documented_tree_is_the_package() -> None:
    documented, actual = _documented_tree(), _actual_tree()
    assert not actual - documented, f"not in docs/architecture.md: {sorted(actual - documented)}"
    assert not documented - actual, f"documented, not in compiler/: {sorted(documented - actual)}"


def test_every_condition_kind_has_one_builder() -> None:
    assert sorted(signals.BUILDERS) == sorted(CONDITION_KINDS)
    assert len(CONDITION_KINDS) == len(get_args(Condition))


def test_every_sli_kind_has_its_own_name() -> None:
    kinds = [kind.kind for kind in get_args(SLI)]
    assert len(set(kinds)) == len(kinds) == len(get_args(SLI))

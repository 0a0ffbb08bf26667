"""What targets produce: files as plain data, serialized later by the writer alone."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Root(Enum):
    """Top-level directories the compiler writes into (each configurable on the CLI)."""

    GENERATED = "generated"
    DASHBOARDS = "dashboards"


@dataclass(frozen=True)
class OutputFile:
    """One file to write: where, what (plain dicts and lists), and a header comment."""

    path: str  # relative to its root, with forward slashes
    data: Any
    root: Root = Root.GENERATED
    header: str = ""  # comment lines for YAML outputs; JSON cannot carry one
    # YAML: an object ``data`` holds more than once is written once (&id001) and referenced
    # (*id001) after; for outputs that repeat large values, such as expected alerts.
    share_repeated: bool = False

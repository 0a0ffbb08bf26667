"""Compiling hand-written foreign specs in a temporary directory, for the format tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from compiler import pipeline
from compiler.load import discovery

SLOTH = """\
version: prometheus/v1
service: checkout
labels:
  owner: team-shop
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: CheckoutErrors
      page_alert:
        labels: {routing: pager}
      ticket_alert:
        labels: {routing: slack}
"""


def compile_files(root: Path, files: dict[str, str]) -> tuple[pipeline.Compilation, list[str]]:
    """Write ``files`` under ``root``, compile the directory, and return the result with its
    messages as ``file:line: field: text`` relative to ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    result = pipeline.compile_specs([root])
    prefix = f"{discovery.display_path(root)}/"
    return result, [str(d).removeprefix(prefix) for d in result.diagnostics]


def sloth_with(old: str, new: str) -> str:
    """The Sloth example with one piece of text replaced."""
    assert old in SLOTH, old
    return SLOTH.replace(old, new, 1)

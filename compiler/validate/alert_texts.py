"""Free text that ends up in alert rules, where Prometheus evaluates it as a Go template.

Label values, runbook links and descriptions are text: template syntax there is refused, so
that ``'{{ 7*7 }}'`` cannot make Prometheus reject the rule file, nor ``{{ with query "up" }}``
run a query with every notification. Annotations and a signal's summary and description are
meant to template, but only with the alert's own data: ``{{ $labels.NAME }}``,
``{{ $value }}`` and ``{{ $externalLabels.NAME }}``, optionally through one of Prometheus's
humanize functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from compiler.load.loader import PathKey, iter_paths

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
# Go's trim markers need a space beside them: `{{- $value -}}`, never `{{-$value}}`.
_ALLOWED_ACTION = re.compile(
    r"(-\s+|\s*)(\$labels\.[A-Za-z_]\w*|\$externalLabels\.[A-Za-z_]\w*|\$value)"
    r"(\s*\|\s*(humanize|humanize1024|humanizePercentage|humanizeDuration|humanizeTimestamp))?"
    r"(\s+-|\s*)"
)
ALLOWED = "{{ $labels.NAME }}, {{ $value }} or {{ $externalLabels.NAME }} (optionally | humanize)"


def template_problems(data: Any) -> Iterator[tuple[PathKey, str]]:
    """(path, message) for every field of a service document whose text would template
    where it should not, or beyond the alert's own data where it may."""
    for path, value in iter_paths(data):
        if not isinstance(value, str) or not path or path[0] in ("dashboards", "scenarios"):
            continue
        field = path[-1]
        parent = path[-2] if len(path) > 1 else None
        templated = parent == "annotations" or (
            path[0] == "signals" and parent != "labels" and field in ("summary", "description")
        )
        plain = parent == "labels" or field in ("runbook", "description", "summary")
        if templated:
            yield from _restricted(path, value)
        elif plain and ("{{" in value or "}}" in value):
            yield (
                path,
                (
                    "template syntax is not allowed here: Prometheus would evaluate it in the "
                    "alert; write plain text"
                ),
            )


def _restricted(path: PathKey, text: str) -> Iterator[tuple[PathKey, str]]:
    for action in _ACTION.findall(text):
        if not _ALLOWED_ACTION.fullmatch(action):
            yield path, f"{{{{{action}}}}} is not allowed here; use {ALLOWED}"
    if "{{" in _ACTION.sub("", text):  # an action Prometheus would never see closed
        yield path, "{{ without }}"

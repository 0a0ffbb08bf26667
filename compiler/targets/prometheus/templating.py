"""Jinja2 templates from the project's ``templates/`` directory.

Alert texts are rendered here, at compile time, from the model; what must stay dynamic
(the firing label set, the current value) is emitted as Prometheus template syntax through
the ``prom()`` helper, so a template reads ``{{ prom("$labels.tenant") }}`` rather than
escaping braces.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from compiler.durations import Duration

TEMPLATES_ENV = "SLO_COMPILER_TEMPLATES"
_DEFAULT_DIR = Path(__file__).resolve().parents[3] / "templates"


def templates_dir() -> Path:
    """The directory templates are read from (``$SLO_COMPILER_TEMPLATES`` or ``templates/``)."""
    return Path(os.environ.get(TEMPLATES_ENV, _DEFAULT_DIR))


@cache
def _environment(directory: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # plain text for alerts and YAML, never HTML
    )
    env.globals["prom"] = lambda expr: "{{ " + expr + " }}"
    env.filters["human_duration"] = human_duration
    return env


def render(name: str, **context: Any) -> str:
    """Render template ``name`` and collapse it to tidy text (no trailing whitespace)."""
    text = _environment(templates_dir()).get_template(name).render(**context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(lines)


def human_duration(seconds: float) -> str:
    """``180000`` → ``2d2h``: a duration rounded to whole minutes for people to read."""
    minutes = max(1, round(seconds / 60))
    return str(Duration(minutes * 60))

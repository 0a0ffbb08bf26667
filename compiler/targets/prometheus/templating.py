"""Jinja2 templates for alert texts: shipped in the package, or a project's own.

The templates' source is the repository's top-level ``templates/``; a wheel carries them as
``compiler.templates``. ``$SLO_COMPILER_TEMPLATES`` names a directory whose templates replace
the shipped ones of the same name. Alert texts are rendered here, at compile time, from the
model; what must stay dynamic (the firing label set, the current value) is emitted as
Prometheus template syntax through the ``prom()`` helper, so a template reads
``{{ prom("$labels.tenant") }}`` rather than escaping braces.
"""

from __future__ import annotations

import os
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

from compiler.durations import Duration

TEMPLATES_ENV = "SLO_COMPILER_TEMPLATES"
# Running from a source checkout (an editable install), the package has no compiler.templates:
# the templates are read where they are written.
_SOURCE_DIR = Path(__file__).resolve().parents[3] / "templates"


@cache  # resolving the package costs an import lookup; every alert text asked for it
def shipped_templates() -> Traversable:
    """The templates that come with slo-compiler."""
    try:
        return resources.files("compiler.templates")
    except ModuleNotFoundError:
        return _SOURCE_DIR


def template_dirs() -> tuple[Traversable, ...]:
    """Where templates are looked up, first match wins: the override, then the shipped ones."""
    override = os.environ.get(TEMPLATES_ENV)
    return ((Path(override),) if override else ()) + (shipped_templates(),)


@cache
def _environment(directories: tuple[Traversable, ...]) -> jinja2.Environment:
    def source(name: str) -> str | None:
        for directory in directories:
            candidate = directory / name
            if candidate.is_file():
                return candidate.read_text(encoding="utf-8")
        return None

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(source),
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
    return render_from(template_dirs(), name, **context)


def render_from(directories: tuple[Traversable, ...], name: str, **context: Any) -> str:
    """:func:`render` with the template directories already looked up (reading the
    environment for them costs more than the rest of a short text)."""
    template, names = _template(directories, name)
    # Template.render copies the globals (a ChainMap, walked key by key) into every
    # context; a copy made once, extended per render, gives the same context for less.
    try:
        text = template.environment.concat(
            template.root_render_func(template.new_context({**names, **context}, shared=True))
        )
    except Exception:
        template.environment.handle_exception()  # Jinja's own error, at the template line
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return "\n".join(lines)


@cache
def _template(
    directories: tuple[Traversable, ...], name: str
) -> tuple[jinja2.Template, dict[str, Any]]:
    """Template ``name`` and its globals, as a plain dict."""
    template = _environment(directories).get_template(name)
    return template, dict(template.globals)


def human_duration(seconds: float) -> str:
    """``180000`` → ``2d2h``: a duration rounded to whole minutes for people to read."""
    minutes = max(1, round(seconds / 60))
    return str(Duration(minutes * 60))

"""What a wheel of slo-compiler carries: every package, the schemas and the templates."""

from __future__ import annotations

import tomllib
from importlib import metadata

from click.testing import CliRunner

from compiler.cli import main
from compiler.targets.prometheus.templating import shipped_templates
from tests.support.paths import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_is_listed_for_the_wheel() -> None:
    """The package list is written out (templates/ maps into it): a package left off it would
    be missing from the installed tool while every test from the checkout still passed."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in ROOT.glob("compiler/**/__init__.py")
    }
    assert found <= listed, f"add to pyproject.toml: {sorted(found - listed)}"
    assert listed - found == {"compiler.schema", "compiler.templates"}


def test_the_templates_ship_from_templates() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["package-dir"]["compiler.templates"] == "templates"
    assert setuptools["package-data"]["compiler.templates"] == ["*.j2"]
    shipped = sorted(entry.name for entry in shipped_templates().iterdir())
    assert shipped == sorted(path.name for path in (ROOT / "templates").glob("*.j2"))


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"slo {metadata.version('slo-compiler')}\n"

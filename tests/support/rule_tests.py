"""Running `slo test` from the command line, for tests of the generated rule tests."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from compiler.cli import main
from tests.support.paths import ROOT

# The test specs whose outputs are checked in under tests/golden/.
GOLDEN_SPECS = ROOT / "tests" / "specs"


def slo_test(*args: str, cwd: Path = ROOT) -> Result:
    """`slo test ARGS`, run in ``cwd`` (the checkout by default)."""
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, ["test", *args])
    finally:
        os.chdir(old)

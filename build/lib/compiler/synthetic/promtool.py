"""Running Prometheus's own ``promtool``: the authority on rules and their behaviour."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROMTOOL_ENV_HINT = (
    "install Debian's 'prometheus' package (make tools does it) or put promtool on PATH"
)


class PromtoolMissing(RuntimeError):
    """promtool is not installed."""


@dataclass(frozen=True)
class PromtoolResult:
    """Exit status and combined output of one promtool run."""

    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        """Whether promtool accepted the input."""
        return self.returncode == 0


def find() -> str:
    """Path of the promtool binary."""
    path = shutil.which("promtool")
    if path is None:
        raise PromtoolMissing(f"promtool not found: {PROMTOOL_ENV_HINT}")
    return path


def run(args: Sequence[str], cwd: Path | None = None, timeout: float = 600) -> PromtoolResult:
    """Run ``promtool args...`` and capture what it prints."""
    completed = subprocess.run(
        [find(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PromtoolResult(completed.returncode, completed.stdout + completed.stderr)


def check_rules(files: Sequence[Path]) -> PromtoolResult:
    """``promtool check rules`` over rule files."""
    return run(["check", "rules", *map(str, files)])


def test_rules(
    files: Sequence[Path], cwd: Path | None = None, timeout: float = 600
) -> PromtoolResult:
    """``promtool test rules`` over unit-test files."""
    return run(["test", "rules", *map(str, files)], cwd=cwd, timeout=timeout)

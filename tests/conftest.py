"""Shared fixtures: the compiled reference specs, promtool, golden-file updates."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from compiler import pipeline
from compiler.model.service import SpecSet
from tests.support.paths import SLOS
from tests.support.rule_tests import GOLDEN_SPECS

# No per-example deadlines: CI machines are shared and slow examples are not failures here
# (speed is measured by the benchmarks in bench/, never by unit tests).
settings.register_profile("slo-compiler", deadline=None)
settings.load_profile("slo-compiler")

pytest_plugins = ["tests.support.gate_lab_plugin"]  # the release gate's test server, built early


@pytest.fixture(scope="session")
def reference_specs() -> SpecSet:
    """The reference platform's specs in slos/, compiled (they must be valid)."""
    result = pipeline.compile_specs([SLOS])
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return result.specs


@pytest.fixture(scope="session")
def promtool_path() -> str:
    """promtool must be installed (`make tools`); its absence fails the suite, never skips it."""
    path = shutil.which("promtool")
    assert path, "promtool is not on PATH: run `make tools` (installs Debian's prometheus package)"
    return path


@pytest.fixture()
def in_tmp_cwd(tmp_path: Path) -> Path:
    """Run a test inside an empty temporary working directory."""
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path  # type: ignore[misc]
    finally:
        os.chdir(old)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files under tests/golden/ from the current output",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether golden files are rewritten instead of compared (`pytest --update-golden`)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def golden_specs() -> SpecSet:
    """The test specs of tests/specs/, compiled (their outputs are the goldens)."""
    result = pipeline.compile_specs([GOLDEN_SPECS])
    assert result.ok, result.diagnostics
    return result.specs


# A real Prometheus with synthetic incident history, shared by the whole session.
from tests.support.prometheus_history import prometheus_history  # noqa: E402, F401


@pytest.fixture(autouse=True)
def private_output_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`slo compile` caches into a directory of the test run, never the user's."""
    monkeypatch.setenv("SLO_COMPILER_CACHE", str(tmp_path_factory.mktemp("output-cache")))

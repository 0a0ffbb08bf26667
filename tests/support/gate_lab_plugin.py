"""Builds the gate lab server in the background from the moment a session needs it.

Building takes seconds, but the server only loads the history on its next one-minute
block reload; started at collection time, that minute passes while other tests run.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests.support.gate_lab import Lab, gate_lab

FIXTURE = "gate_lab_server"


class _Background:
    def __init__(self) -> None:
        self.stack = contextlib.ExitStack()
        self.directory: Path | None = None
        self.future: Future[Lab] | None = None

    def start(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="gate-lab-"))
        directory = self.directory
        future: Future[Lab] = Future()

        def build() -> None:
            try:
                future.set_result(self.stack.enter_context(gate_lab(directory)))
            except BaseException as error:  # handed to the test that waits for the lab
                future.set_exception(error)

        self.future = future
        threading.Thread(target=build, name="gate-lab", daemon=True).start()

    def stop(self) -> None:
        if self.future is not None:
            with contextlib.suppress(Exception):
                self.future.result()  # let a build in progress finish, then stop its server
        self.stack.close()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


_lab = _Background()


@pytest.hookimpl(trylast=True)  # after -k/-m have deselected what will not run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Start building if a test that will run uses the lab."""
    if config.option.collectonly:
        return
    if any(FIXTURE in getattr(item, "fixturenames", ()) for item in items):
        assert shutil.which("prometheus"), "prometheus is not on PATH: run `make tools`"
        _lab.start()


def pytest_sessionfinish() -> None:
    """Stop the server (always: also when the session fails or is interrupted)."""
    _lab.stop()


@pytest.fixture(scope="session")
def gate_lab_server(promtool_path: str) -> Iterator[Lab]:
    """The running lab (tests/support/gate_lab.py), once its history is loaded."""
    assert _lab.future is not None, "the gate lab was not started at collection"
    yield _lab.future.result(timeout=600)

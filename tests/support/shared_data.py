"""The team's shared reference data (``shared/`` beside the checkout): optional for a user,
required in CI.

A user who clones the repository has no ``shared/``: the tests that read it skip, naming what
is missing and where it was looked for. CI sets ``$SLO_REQUIRE_SHARED`` (``.ci/run`` does), and
there a missing piece fails the test instead.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRE_ENV = "SLO_REQUIRE_SHARED"


def unavailable(what: str, looked: str, setting: str) -> NoReturn:
    """Skip the calling test because ``what`` is missing (fail it where it is required)."""
    message = (
        f"{what} not found (looked in {looked}): put the team's shared/ beside the checkout "
        f"or set ${setting}"
    )
    if os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{message}; ${REQUIRE_ENV} is set, so it is required")
    pytest.skip(message)

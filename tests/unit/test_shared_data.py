"""Missing shared data skips a test for a user and fails it in CI."""

from __future__ import annotations

import pytest

from tests.support.shared_data import REQUIRE_ENV, unavailable


def test_missing_shared_data_skips_with_what_and_where(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"the data not found \(looked in /x\)"):
        unavailable("the data", "/x", "SOME_DIR")


def test_missing_shared_data_fails_where_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"\\${REQUIRE_ENV} is set"):
        unavailable("the data", "/x", "SOME_DIR")

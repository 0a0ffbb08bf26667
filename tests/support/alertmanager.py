"""The generated Alertmanager configuration, for tests that read or run it."""

from __future__ import annotations

from compiler import conventions
from tests.support.paths import GENERATED, ROOT

CONFIG = GENERATED / conventions.ALERTMANAGER_PATH


GOLDEN_CONFIG = ROOT / "tests" / "golden" / "alertmanager" / "alertmanager.yml"

"""Rule files in their deploy formats, for the tests that check them."""

from __future__ import annotations

import json

from tests.support.paths import ROOT

SCHEMA = json.loads((ROOT / "tests/schemas/prometheusrule-v1.schema.json").read_text())

"""Where the project's files are, for tests that read them."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLOS = ROOT / "slos"
GENERATED = ROOT / "generated"

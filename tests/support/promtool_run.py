"""Writing promtool unit-test files for hand-built scenarios and running them."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml


def run_promtool(
    tmp_path: Path, rule_file: Path | Sequence[Path], groups: list[dict[str, Any]]
) -> str:
    """Run ``promtool test rules`` on the groups; return its output, failing on any error."""
    test_file = tmp_path / "behaviour.test.yml"
    files = [rule_file] if isinstance(rule_file, Path) else list(rule_file)
    document = {
        "rule_files": [str(f) for f in files],
        "evaluation_interval": "1m",
        "tests": groups,
    }
    test_file.write_text(yaml.safe_dump(document, sort_keys=False, width=4096))
    completed = subprocess.run(
        ["promtool", "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    return output

"""Writing promtool unit-test files for hand-built scenarios and running them."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

_LABEL_TEMPLATE = re.compile(r"\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}")


def expand(text: str, labels: Mapping[str, str]) -> str:
    """Expand ``{{ $labels.x }}`` the way Prometheus does when the alert fires."""
    return _LABEL_TEMPLATE.sub(lambda m: labels.get(m.group(1), ""), text)


def firing(rule: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    """Expected alert (exact labels and annotations) for a generated alert rule."""
    rule_labels = {k: v for k, v in rule["labels"].items() if v != ""}
    all_labels = {**labels, **rule_labels}
    return {
        "exp_labels": all_labels,
        "exp_annotations": {k: expand(v, all_labels) for k, v in rule["annotations"].items()},
    }


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

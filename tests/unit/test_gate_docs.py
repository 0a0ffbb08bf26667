"""docs/gate.md and docs/examples/release-gate.yml say what the code does."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import yaml

from compiler.gate.command import gate_command
from compiler.gate.decision import REASONS, Episode, Reason, SignOff, Verdict
from compiler.gate.evidence import Evidence, SloResult
from compiler.gate.report import GateReport, json_data
from tests.support.paths import ROOT

DOC = (ROOT / "docs" / "gate.md").read_text()
WORKFLOW = ROOT / "docs" / "examples" / "release-gate.yml"


def test_every_reason_is_documented_with_its_decision() -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| (PASS|BLOCK|UNKNOWN) \|", DOC, re.MULTILINE)
    assert dict(rows) == {code: verdict.value for code, verdict in REASONS.items()}


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def test_json_example_has_the_shape_the_code_writes() -> None:
    example = json.loads(re.search(r"```json\n(.*?)\n```", DOC, re.DOTALL).group(1))  # type: ignore[union-attr]
    evidence = Evidence(
        evaluated_at=1,
        evaluation_interval=60,
        rules_evaluated_at=1,
        checked_from=1,
        checked_to=1,
        episode=Episode(1, 2, 3, "2 x 1h after X", ("X",)),
        signoff=SignOff("f", 1, "INC-1", "s", None, "o", 1, "m"),
    )
    result = SloResult(
        "s", "x", "o", "f", 1, (Reason(Verdict.BLOCK, "clear-too-short", "m", 1, 2),), evidence
    )
    written = json_data(GateReport(Verdict.BLOCK, "http://p", 1, (result,)))
    assert _shape(example) == _shape(written["slos"][0])
    for key in written:
        assert f"| `{key}` |" in DOC or f"| `{key}[]` |" in DOC, key


def test_the_example_workflow_uses_only_real_options() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    script = next(step["run"] for step in steps if "slo gate" in step.get("run", ""))
    command = script[script.index("slo gate") : script.index("||")].replace("\\\n", " ")
    known = {opt for param in gate_command.params for opt in param.opts}
    used = [word for word in shlex.split(command) if word.startswith("--")]
    assert used and set(used) <= known
    assert "needs" in workflow["jobs"]["promote"]  # promotion waits for the gate

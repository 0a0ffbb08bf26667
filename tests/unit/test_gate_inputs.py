"""What the gate reads from the repository: the spec's ``gate:`` policy and sign-off files,
each checked with every problem reported as ``file:line: field: message``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from compiler import pipeline
from compiler.durations import Duration
from compiler.gate.signoffs import load_signoffs, review
from compiler.model.service import GatePolicy, SpecSet
from tests.support.paths import ROOT

SPEC = """\
apiVersion: slo-compiler/v1
kind: Service
service: {{name: shop, owner: team-shop}}
{gate}
slos:
  - name: checkout
    objective: 99.9
    sli: {{ratio: {{bad: errors_total, total: requests_total}}}}
    alerting:
      tiers:
        - {{alert: Fast, severity: critical, long_window: 1h, short_window: 5m, burn_factor: 14.4}}
        - {{alert: Slow, severity: warning, long_window: {slow}, short_window: 6h, burn_factor: 1}}
"""


def compile_spec(tmp_path: Path, gate: str = "", slow: str = "3d") -> pipeline.Compilation:
    path = tmp_path / "shop.yaml"
    path.write_text(SPEC.format(gate=gate, slow=slow))
    return pipeline.compile_specs([path])


def errors(result: pipeline.Compilation, tmp_path: Path) -> list[str]:
    return [str(d).replace(f"{tmp_path}/", "") for d in result.diagnostics]


def test_defaults_are_runbook_002(reference_specs: SpecSet) -> None:
    assert {spec.gate for spec in reference_specs.services} == {GatePolicy()}  # none sets it
    assert GatePolicy() == GatePolicy(
        lookback=Duration.parse("7d"),
        clear_windows=2,
        signoff=True,
        freeze_below=None,
        max_gap_evaluations=3,
    )


def test_policy_from_the_spec(tmp_path: Path) -> None:
    gate = "gate: {lookback: 10d, clear_windows: 3, signoff: false, freeze_below: 12.5,\n"
    gate += "       max_gap_evaluations: 5}"
    result = compile_spec(tmp_path, gate)
    assert result.ok, errors(result, tmp_path)
    assert result.specs.services[0].gate == GatePolicy(
        Duration.parse("10d"), 3, False, Decimal("12.5"), 5
    )


@pytest.mark.parametrize(
    ("gate", "slow", "message"),
    [
        (
            "gate:\n  lookback: 5d",
            "3d",
            "shop.yaml:5: gate.lookback: the release gate's lookback 5d is shorter than 2 x "
            "the 3d window of tier 'Slow' of SLO 'checkout': an episode would leave the "
            "lookback before it is clear; set gate.lookback to at least 6d",
        ),
        (
            "",
            "4d",
            "shop.yaml:6: slos[0]: the release gate's lookback 1w is shorter than 2 x the 4d "
            "window of tier 'Slow' of SLO 'checkout': an episode would leave the lookback "
            "before it is clear; set gate.lookback to at least 8d",
        ),
        ("gate: {freeze_below: 0}", "3d", "shop.yaml:4: gate.freeze_below: 0 is not above 0"),
        (
            "gate: {clear_windows: 0}",
            "3d",
            "shop.yaml:4: gate.clear_windows: 0 is below the minimum 1",
        ),
        ("gate: {lookback: 7days}", "3d", "is not a duration like 5m, 1h or 30d"),
        ("gate: {signoff: maybe}", "3d", "shop.yaml:4: gate.signoff: 'maybe' is not true or false"),
        (
            "gate: {max_gap: 3}",
            "3d",
            "shop.yaml:4: gate.max_gap: unknown field 'max_gap'; expected one of: "
            "clear_windows, freeze_below, lookback, max_gap_evaluations, signoff",
        ),
    ],
)
def test_policy_errors(tmp_path: Path, gate: str, slow: str, message: str) -> None:
    result = compile_spec(tmp_path, gate, slow)
    assert not result.ok
    assert any(message in line for line in errors(result, tmp_path)), errors(result, tmp_path)


VALID = """\
incident: INC-2041
service: enforcement-gate
slo: gate-reliability
owner: team-enforcement
signed_at: 2026-11-22T10:05:00Z
mitigation: rolled back 4.2.1; failures back to baseline
"""


def signoff_dir(tmp_path: Path, **files: str) -> Path:
    directory = tmp_path / "signoffs"
    directory.mkdir()
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text)
    return directory


def problems(directory: Path, specs: SpecSet) -> list[str]:
    found = load_signoffs(directory, specs)
    return [str(d).replace(f"{directory.parent}/", "") for d in found.diagnostics]


def test_valid_signoffs(tmp_path: Path, reference_specs: SpecSet) -> None:
    second = VALID.replace("INC-2041", "INC-2042").replace("slo: gate-reliability\n", "")
    directory = signoff_dir(tmp_path, a=VALID, b=f"{VALID}---\n{second}")
    found = load_signoffs(directory, reference_specs)
    assert found.diagnostics == ()
    assert [(s.incident, s.slo, s.line) for s in found.signoffs] == [
        ("INC-2041", "gate-reliability", 1),
        ("INC-2041", "gate-reliability", 1),
        ("INC-2042", None, 8),
    ]
    assert found.signoffs[0].signed_at == 1795341900.0
    assert len(found.for_slo("enforcement-gate", "gate-latency")) == 1  # the one without slo


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            VALID.replace("signed_at", "sigend_at"),
            "a.yaml:5: sigend_at: unknown field 'sigend_at' (did you mean 'signed_at'?)",
        ),
        (
            VALID.replace("owner: team-enforcement\n", ""),
            "a.yaml:1: missing required field 'owner'",
        ),
        (
            VALID.replace("10:05:00Z", "10:05:00"),
            "a.yaml:5: signed_at: '2026-11-22T10:05:00' is not an RFC 3339 time such as "
            "2026-11-22T10:05:00Z; write the zone too (Z for UTC)",
        ),
        (
            VALID.replace("2026-11-22T10:05:00Z", "2026-11-22"),
            "a.yaml:5: signed_at: '2026-11-22' is not an RFC 3339 time",
        ),
        (
            VALID.replace("slo: gate-reliability", "slo: gate-reliabilty"),
            "a.yaml:3: slo: service 'enforcement-gate' has no SLO 'gate-reliabilty' "
            "(did you mean 'gate-reliability'?)",
        ),
        (
            VALID.replace("incident: INC-2041", "incident: 2041"),
            "a.yaml:1: incident: 2041 is not a string",
        ),
        ("- just a list\n", "a.yaml:1: a sign-off must be a mapping of fields"),
        ("incident: [unclosed\n", "a.yaml:2: invalid YAML"),
    ],
)
def test_malformed_signoffs_are_ignored_with_file_and_line(
    tmp_path: Path, reference_specs: SpecSet, text: str, message: str
) -> None:
    directory = signoff_dir(tmp_path, a=text)
    found = load_signoffs(directory, reference_specs)
    assert found.signoffs == ()
    shown = problems(directory, reference_specs)
    assert any(line.startswith(f"signoffs/{message}") for line in shown), shown
    assert found.ignored_for("enforcement-gate", "gate-reliability") == (str(directory / "a.yaml"),)


def test_signoff_for_another_service_is_a_warning(tmp_path: Path, reference_specs: SpecSet) -> None:
    directory = signoff_dir(
        tmp_path, a=VALID.replace("service: enforcement-gate", "service: payments")
    )
    found = load_signoffs(directory, reference_specs)
    assert len(found.signoffs) == 1  # valid, but about nothing the gate checks here
    assert problems(directory, reference_specs) == [
        "signoffs/a.yaml:2: service: warning: service 'payments' is not in the specs; this "
        "sign-off applies to nothing the gate checks"
    ]


def test_no_signoff_directory(reference_specs: SpecSet, tmp_path: Path) -> None:
    assert load_signoffs(tmp_path / "missing", reference_specs).signoffs == ()


def test_review_refuses_a_signoff_by_someone_else(tmp_path: Path, reference_specs: SpecSet) -> None:
    """At review time a sign-off the gate would never count is an error at its owner line."""
    directory = signoff_dir(
        tmp_path, a=VALID, b=VALID.replace("owner: team-enforcement", "owner: alice")
    )
    found = load_signoffs(directory, reference_specs)
    assert len(found.signoffs) == 2  # both valid files; only the gate decides episodes
    assert [str(d).replace(f"{directory.parent}/", "") for d in review(found, reference_specs)] == [
        "signoffs/b.yaml:4: owner: 'alice' is not the owner of service 'enforcement-gate' "
        "(service.owner: 'team-enforcement'); the release gate will not count this sign-off"
    ]


def test_the_example_in_the_signoffs_readme_is_valid(
    tmp_path: Path, reference_specs: SpecSet
) -> None:
    readme = (ROOT / "signoffs" / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    found = load_signoffs(signoff_dir(tmp_path, example=example), reference_specs)
    assert review(found, reference_specs) == []
    assert [s.incident for s in found.signoffs] == ["INC-2041"]

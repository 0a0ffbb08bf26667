"""``slo gate`` against a real Prometheus holding one scenario per SLO (tests/support/gate_lab.py).

Each scenario runs the command as CI would (``--service``/``--slo`` select it) and checks
the exit code, the reasons that decided, and the evidence behind them.
"""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from compiler.cli import main
from compiler.gate.times import parse_rfc3339
from tests.support.gate_lab import HISTORY, SCENARIOS, Lab


@pytest.fixture(scope="module")
def lab(gate_lab_server: Lab) -> Iterator[Lab]:
    """The scenario server; the gate runs in its directory (default slos/ and signoffs/)."""
    old = Path.cwd()
    os.chdir(gate_lab_server.specs.parent)
    try:
        yield gate_lab_server
    finally:
        os.chdir(old)


def gate(lab: Lab, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``slo gate`` against the lab server with the default spec and sign-off paths."""
    return CliRunner().invoke(main, ["gate", "--prometheus", lab.server.url, *args], env=env)


def judged(lab: Lab, service: str, slo: str) -> tuple[int, dict[str, Any]]:
    """Exit code and the JSON entry of one SLO."""
    result = gate(lab, "--service", service, "--slo", slo, "--format", "json")
    data = json.loads(result.output)
    assert data["exit_code"] == result.exit_code
    (entry,) = data["slos"]
    return result.exit_code, entry


def deciding(entry: dict[str, Any]) -> set[str]:
    """Codes of the reasons that carry the SLO's decision."""
    return {r["code"] for r in entry["reasons"] if r["decision"] == entry["decision"]}


def messages(entry: dict[str, Any]) -> str:
    return "\n".join(r["message"] for r in entry["reasons"])


def minutes_before_end(lab: Lab, stamp: str) -> float:
    return (lab.end - parse_rfc3339(stamp)) / 60


# slo → (service, exit code, the deciding reason codes, a phrase the reasons contain)
EXPECTED = {
    "quiet": ("gate-lab", 0, {"no-episode"}, "no burn-rate alert fired in the last 5h"),
    "firing": (
        "gate-lab",
        1,
        {"alert-firing", "burning-now", "no-signoff"},
        "LabBurnFast (critical, 1h/5m) is firing for tenant=b since",
    ),
    "pending": (
        "gate-lab",
        1,
        {"alert-pending", "burning-now"},
        "LabBurnFast (critical, 1h/5m) is pending since",
    ),
    "burning-no-alerts": (
        "gate-lab",
        1,
        {"burning-now"},
        "the alert condition is true now: burn rate 20x over 1h and 20x over 5m, above 14.4x",
    ),
    "recent-clear": ("gate-lab", 1, {"clear-too-short"}, "2 x 1h after LabBurnFast"),
    "unsigned": ("gate-lab", 1, {"no-signoff"}, "no sign-off by team-lab for the episode"),
    "wrong-owner": (
        "gate-lab",
        1,
        {"signoff-wrong-owner"},
        "signed by 'someone-else', but the spec's owner of service 'gate-lab' is 'team-lab'",
    ),
    "old-signoff": ("gate-lab", 1, {"signoff-before-episode"}, "before the episode began at"),
    "signed": ("gate-lab", 0, {"episode-cleared"}, "signed off in signoffs/signed.yaml:1"),
    "ruler-gap": ("gate-lab", 3, {"gap"}, 'no samples of slo:burn_rate:ratio{window="5m"}'),
    "two-tiers": ("gate-lab", 1, {"clear-too-short"}, "2 x 2h after LabBurnSlow (warning"),
    "spent": (
        "gate-lab-freeze",
        1,
        {"budget-freeze"},
        "error budget remaining over 1d is -300%, below the freeze threshold of 50%",
    ),
    "healthy": ("gate-lab-freeze", 0, {"no-episode"}, "no tier condition is true now"),
    "rewritten": ("gate-lab", 3, {"rules-differ"}, "not the expression compiled from the spec"),
    "young": ("gate-lab-defaults", 0, {"no-episode"}, "within the 1w lookback and longer"),
    "too-young": (
        "gate-lab-defaults",
        3,
        {"short-history"},
        "less than the clear period of 2 x 6h (the longest window)",
    ),
    "restart-within": ("gate-lab", 0, {"no-episode"}, "records complete from"),
    "restart-beyond": ("gate-lab", 3, {"gap"}, "longer than 3 evaluation intervals (3m)"),
}


def test_every_scenario_has_an_expectation() -> None:
    assert set(EXPECTED) | {"not-loaded"} == {s.slo for s in SCENARIOS}


@pytest.mark.parametrize("slo", sorted(EXPECTED))
def test_scenario(lab: Lab, slo: str) -> None:
    service, code, reasons, phrase = EXPECTED[slo]
    exit_code, entry = judged(lab, service, slo)
    assert (exit_code, deciding(entry)) == (code, reasons), messages(entry)
    assert phrase in messages(entry), messages(entry)


def test_rules_not_loaded(lab: Lab) -> None:
    exit_code, entry = judged(lab, "gate-lab", "not-loaded")
    assert exit_code == 3
    # The records it left behind may also have gone stale by now: that is UNKNOWN too.
    assert "rules-missing" in deciding(entry) <= {"rules-missing", "gap", "no-data"}
    assert "rule group 'slo:gate-lab:not-loaded' is not loaded" in messages(entry)


def test_burning_without_alerts_is_blocked_by_the_records_alone(lab: Lab) -> None:
    _, entry = judged(lab, "gate-lab", "burning-no-alerts")
    assert entry["evidence"]["alerts_now"] == []
    assert entry["evidence"]["episode"] is None
    # Its alerting rule is not loaded (a ruler elsewhere, lagging): reported, not decisive.
    assert any(r["code"] == "rules-missing" for r in entry["reasons"])


def test_episode_timestamps(lab: Lab) -> None:
    """Evidence times agree with the history: 2% errors fire the 1h tier 46 minutes after
    they begin (docs/spec.md, "The math") and clear within the 5m window after they stop."""
    _, entry = judged(lab, "gate-lab", "signed")
    episode = entry["evidence"]["episode"]
    assert 290 - 46 - 2 <= minutes_before_end(lab, episode["began"]) <= 290 - 46 + 2
    assert 220 - 5 <= minutes_before_end(lab, episode["last_firing"]) <= 220
    assert parse_rfc3339(episode["clear_until"]) - parse_rfc3339(episode["last_firing"]) == 7200
    assert entry["evidence"]["signoff"]["incident"] == "INC-2043"
    checked = entry["evidence"]["checked_from"]
    assert checked == episode["last_firing"]  # the clear period is what is checked for gaps


def test_recent_clear_has_a_valid_signoff_but_must_wait(lab: Lab) -> None:
    _, entry = judged(lab, "gate-lab", "recent-clear")
    (reason,) = entry["reasons"]
    assert entry["evidence"]["signoff"]["file"] == "signoffs/recent-clear.yaml"
    assert parse_rfc3339(reason["until"]) > lab.end  # the clear period ends after now
    assert reason["until"] == entry["evidence"]["episode"]["clear_until"]


def test_two_tiers_wait_for_the_slower_tier(lab: Lab) -> None:
    _, entry = judged(lab, "gate-lab", "two-tiers")
    episode = entry["evidence"]["episode"]
    assert episode["alerts"] == ["LabBurnFast (critical, 1h/5m)", "LabBurnSlow (warning, 2h/10m)"]
    wait = parse_rfc3339(episode["clear_until"]) - parse_rfc3339(episode["last_firing"])
    assert wait == 2 * 2 * 3600


def test_ruler_gap_is_found_where_the_server_was_down(lab: Lab) -> None:
    _, entry = judged(lab, "gate-lab", "ruler-gap")
    gaps = [r for r in entry["reasons"] if r["code"] == "gap"]
    assert gaps
    for gap in gaps:  # the raw series were silent from 200 to 140 minutes before the end
        assert 200 >= minutes_before_end(lab, gap["since"]) >= 140
        # until: the last minute no 5m window held two samples (raw back at 140)
        assert 200 >= minutes_before_end(lab, gap["until"]) >= 138


def test_a_young_history_is_evidence_from_where_it_begins(lab: Lab) -> None:
    """5h30m of history under a 7d lookback: enough for a 1h tier (clear period 2h), not
    for a 6h tier (12h), which may pass 12h after the records began."""
    _, young = judged(lab, "gate-lab-defaults", "young")
    assert HISTORY - 5 <= minutes_before_end(lab, young["evidence"]["history_from"]) <= HISTORY
    _, too_young = judged(lab, "gate-lab-defaults", "too-young")
    short = next(r for r in too_young["reasons"] if r["code"] == "short-history")
    assert short["since"] == too_young["evidence"]["history_from"]
    assert parse_rfc3339(short["until"]) - parse_rfc3339(short["since"]) == 12 * 3600


def test_a_restart_hole_is_judged_by_its_length_alone(lab: Lab) -> None:
    """Three missed evaluations make a gap where the server was down, two do not, whenever
    the gate runs (the holes are looked for on the evaluation grid, not the query's steps)."""
    for _ in range(2):
        assert judged(lab, "gate-lab", "restart-within")[0] == 0
        _, entry = judged(lab, "gate-lab", "restart-beyond")
        gaps = [r for r in entry["reasons"] if r["code"] == "gap"]
        assert gaps and {r["code"] for r in entry["reasons"]} == {"gap"}
        for gap in gaps:
            assert 130 >= minutes_before_end(lab, gap["since"]) >= 115
            assert 125 >= minutes_before_end(lab, gap["until"]) >= 110
        time.sleep(20)  # a later run, other query steps: the same answer


def test_malformed_signoff_is_reported_and_ignored(lab: Lab) -> None:
    result = gate(lab, "--service", "gate-lab", "--slo", "unsigned", "--format", "json")
    data = json.loads(result.output)
    assert result.exit_code == 1
    assert (
        "1 sign-off file(s) with errors ignored: signoffs/unsigned-typo.yaml"
        in (data["slos"][0]["reasons"][0]["message"])
    )
    assert {
        "severity": "error",
        "file": "signoffs/unsigned-typo.yaml",
        "line": 5,
        "field": "sigend_at",
        "message": "unknown field 'sigend_at' (did you mean 'signed_at'?)",
    } in data["problems"]


def test_whole_run_blocks_and_counts(lab: Lab) -> None:
    result = gate(lab, "--format", "json")
    data = json.loads(result.output)
    assert result.exit_code == 1
    assert data["decision"] == "BLOCK"
    assert data["counts"] == {"PASS": 5, "BLOCK": 9, "UNKNOWN": 5}
    assert len({e["evidence"]["evaluated_at"] for e in data["slos"]}) == 1  # one instant


def test_passing_selection_exits_zero(lab: Lab) -> None:
    result = gate(lab, "--service", "gate-lab", "--slo", "quiet", "--slo", "signed")
    assert result.exit_code == 0, result.output
    assert "PASS (exit 0): 2 SLOs: 2 PASS" in result.output


def test_unknown_beats_pass_and_block_beats_unknown(lab: Lab) -> None:
    unknown = gate(lab, "--service", "gate-lab", "--slo", "quiet", "--slo", "ruler-gap")
    assert unknown.exit_code == 3, unknown.output
    blocked = gate(lab, "--service", "gate-lab", "--slo", "ruler-gap", "--slo", "unsigned")
    assert blocked.exit_code == 1, blocked.output


def test_junit_from_a_real_run(lab: Lab, tmp_path: Path) -> None:
    out = tmp_path / "gate.xml"
    result = gate(lab, "--service", "gate-lab", "--format", "junit", "--output", str(out))
    assert result.exit_code == 1
    assert result.output.startswith("BLOCK (exit 1): 15 SLOs")
    suites = ET.parse(out).getroot()
    cases = suites.findall("testsuite/testcase")
    assert len(cases) == 15
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    assert (suites.get("failures"), suites.get("errors")) == (
        str(len(failures)),
        str(len(errors)),
    )
    assert {c.get("name") for c in errors} == {
        "ruler-gap",
        "not-loaded",
        "rewritten",
        "restart-beyond",
    }
    for case in failures + errors:
        element = case.find("failure") if case.find("failure") is not None else case.find("error")
        assert element is not None
        assert element.get("message") == element.text  # the message repeated in the body
        assert case.get("file") == "slos/gate-lab.yaml"


def test_github_output_from_a_real_run(lab: Lab, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    result = gate(
        lab,
        "--service",
        "gate-lab",
        "--slo",
        "firing",
        "--slo",
        "signed",
        "--format",
        "github",
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.exit_code == 1
    annotation, *problems = [line for line in result.output.splitlines() if line.startswith("::")]
    assert annotation.startswith(
        "::error file=slos/gate-lab.yaml,line=22,title=slo gate BLOCK%3A gate-lab/firing::"
    )
    message = annotation.split("::", 2)[2]
    assert "%0A" in message and "\n" not in message  # one reason per line, escaped
    assert problems == [
        "::error file=signoffs/unsigned-typo.yaml,line=1,title=slo gate%3A file::"
        "missing required field 'signed_at'",
        "::error file=signoffs/unsigned-typo.yaml,line=5,title=slo gate%3A sigend_at::"
        "unknown field 'sigend_at' (did you mean 'signed_at'?)",
    ]
    text = summary.read_text()
    assert text.startswith("# earlier step\n## ⛔ Release gate: BLOCK")  # appended
    assert "| `gate-lab/signed` | ✅ PASS |" in text

"""`slo diff`: golden outputs in every format over a set of spec changes, the reference
gate's objective change in one screen, and diffs between git revisions.

Run `pytest tests/unit/test_review_diff.py --update-golden` after an intended change of the
output, and review the diff of tests/golden/review/diff/ like any other change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from tests.support.paths import ROOT, SLOS

BASE = ROOT / "tests" / "review" / "base"
# One level down: tests/golden/*/*.json are dashboards (tests/support/dashboard_files.py).
GOLDEN = ROOT / "tests" / "golden" / "review" / "diff"
FORMATS = {"text": "txt", "markdown": "md", "json": "json"}

# Each case: (file, text in the base, its replacement), applied to a copy of the base.
CASES: dict[str, list[tuple[str, str, str]]] = {
    "objective": [("shop.yaml", "objective: 99.9", "objective: 99.5")],
    "factor": [
        (
            "shop.yaml",
            "burn_factor: 14.4}\n        - {alert: ShopBurnSlow",
            "burn_factor: 10}\n        - {alert: ShopBurnSlow",
        )
    ],
    "window": [
        ("shop.yaml", "long_window: 6h, short_window: 30m", "long_window: 12h, short_window: 1h")
    ],
    "guard": [("shop.yaml", "min_events: 500", "min_events: 5000")],
    "added-slo": [
        (
            "shop.yaml",
            "signals:",
            "  - name: fast-checkout\n    objective: 95\n    sli:\n      latency:\n"
            "        histogram: request_seconds\n        threshold: 0.1\n"
            "    alerting:\n      tiers:\n"
            "        - {alert: ShopCheckoutSlow, severity: warning, long_window: 6h,\n"
            "           short_window: 30m, burn_factor: 6}\nsignals:",
        )
    ],
    "removed-slo": [
        (
            "shop.yaml",
            "  - name: latency\n    objective: 99\n    sli:\n      latency:\n"
            "        histogram: request_seconds\n        threshold: 0.25\n"
            "    alerting:\n      tiers:\n"
            "        - {alert: ShopSlow, severity: critical, long_window: 1h, short_window: 5m,\n"
            "           burn_factor: 14.4}\n",
            "",
        )
    ],
    "renamed-signal": [("shop.yaml", "name: QueueDeep", "name: QueueTooDeep")],
    "sli": [
        ("shop.yaml", 'bad: requests_total{code=~"5.."}', 'bad: requests_total{code=~"5..|429"}'),
        ("shop.yaml", "threshold: 0.25", "threshold: 1"),
    ],
    "routing": [("routing.yaml", "critical: {receiver: pager}", "critical: {receiver: tickets}")],
    "severity": [
        (
            "shop.yaml",
            "ShopBurnFast, severity: critical",
            "ShopBurnFast, severity: warning",
        )
    ],
    "reformatted-query": [
        (
            "shop.yaml",
            'bad: requests_total{code=~"5.."}',
            "bad: 'requests_total{ code =~ \"5..\" }'",
        )
    ],
}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _sides(root: Path, case: list[tuple[str, str, str]]) -> None:
    shutil.copytree(BASE, root / "base")
    shutil.copytree(BASE, root / "head")
    for name, old, new in case:
        path = root / "head" / name
        text = path.read_text()
        assert text.count(old) == 1, f"{old!r} is not once in {name}"
        path.write_text(text.replace(old, new))


@pytest.mark.parametrize("case", sorted(CASES))
def test_diff_matches_golden(case: str, in_tmp_cwd: Path, update_golden: bool) -> None:
    _sides(in_tmp_cwd, CASES[case])
    for output_format, suffix in FORMATS.items():
        code, output = _run("diff", "base", "head", "--format", output_format)
        assert code == 0, output
        golden = GOLDEN / f"{case}.{suffix}"
        if update_golden:
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(output)
        assert golden.exists(), f"no golden file {golden}: run pytest --update-golden"
        assert output == golden.read_text(), f"{golden} differs: review, then --update-golden"


def test_goldens_are_all_cases() -> None:
    expected = {f"{case}.{suffix}" for case in CASES for suffix in FORMATS.values()}
    assert {path.name for path in GOLDEN.iterdir()} == expected


def test_the_weaker_changes_are_marked(in_tmp_cwd: Path) -> None:
    weaker = {"objective", "guard", "removed-slo", "routing", "severity", "window", "sli"}
    for case in sorted(CASES):
        root = in_tmp_cwd / case
        root.mkdir()
        _sides(root, CASES[case])
        code, output = _run("diff", str(root / "base"), str(root / "head"), "--format", "markdown")
        assert code == 0, output
        assert ("| ⚠️ " in output) == (case in weaker), (case, output)


def test_a_reformatted_query_is_no_change(in_tmp_cwd: Path) -> None:
    _sides(in_tmp_cwd, CASES["reformatted-query"])
    code, output = _run("diff", "base", "head")
    assert code == 0
    assert "no change to SLOs, signals, alerting or routing" in output


def test_objective_change_of_the_gate_fits_one_screen(in_tmp_cwd: Path) -> None:
    """Issue 17's "done when": the reference gate's objective, 99.9 → 99.95."""
    for side in ("base", "head"):
        shutil.copytree(SLOS, in_tmp_cwd / side / "slos")
    spec = in_tmp_cwd / "head" / "slos" / "enforcement-gate.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9\n", "objective: 99.95\n", 1))
    code, output = _run("diff", "base", "head", "--format", "markdown")
    assert code == 0, output
    assert len(output.splitlines()) < 40, output
    assert "| SLO `gate-reliability` | objective | 99.9% | 99.95% |" in output
    assert "| fires above | 1.44% | 0.72% |" in output
    assert "pages sooner on a full outage" in output
    assert "ValdricsEnforcementErrorBudgetBurnFast 1h/5m after 2m (was 3m)" in output
    # README.md shows this comment: all of it but the sides' names, which are revisions there.
    readme = (ROOT / "README.md").read_text()
    quoted = [line.removeprefix(">").removeprefix(" ") for line in readme.splitlines()]
    start = quoted.index("<!-- slo-diff -->")
    shown = quoted[start : start + len(output.splitlines())]
    assert shown[2:] == output.splitlines()[2:], "README.md's sample is not the current output"


def test_a_team_route_that_no_longer_pages_is_marked(in_tmp_cwd: Path) -> None:
    for side in ("base", "head"):
        shutil.copytree(SLOS, in_tmp_cwd / side / "slos")
    routing = in_tmp_cwd / "head" / "slos" / "routing.yaml"
    text = routing.read_text()
    old = "critical: {receiver: enforcement-pager,"
    assert old in text
    routing.write_text(text.replace(old, "critical: {receiver: enforcement-tickets,"))
    code, output = _run("diff", "base", "head")
    assert code == 0, output
    assert (
        "route team-enforcement critical  enforcement-pager -> enforcement-tickets  "
        "[weaker: no longer pages]"
    ) in output


def test_an_invalid_side_exits_1_with_its_diagnostics(in_tmp_cwd: Path) -> None:
    _sides(in_tmp_cwd, [("shop.yaml", "objective: 99.9", "objective: 100")])
    code, output = _run("diff", "base", "head")
    assert code == 1
    assert "shop.yaml:15: slos[0].objective: 100 is not below 100" in output
    assert "1 error in head" in output


def test_an_invalid_project_file_on_a_side_is_that_sides_error(in_tmp_cwd: Path) -> None:
    _sides(in_tmp_cwd, [])
    (in_tmp_cwd / "head" / "slo.yaml").write_text(
        "apiVersion: slo-compiler/v1\nkind: Project\noutput: {}\n"
    )
    code, output = _run("diff", "base", "head")
    assert code == 1
    assert "slo.yaml:3: output: unknown field 'output'" in output
    assert "1 error in head" in output


def test_neither_directory_nor_revision_is_a_usage_error(in_tmp_cwd: Path) -> None:
    code, output = _run("diff", "nowhere", "elsewhere")
    assert code == 2
    assert "nowhere: not in a git repository" in output


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_diff_between_git_revisions(in_tmp_cwd: Path) -> None:
    repo = in_tmp_cwd
    shutil.copytree(BASE, repo / "slos")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "change")
    spec = repo / "slos" / "shop.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9", "objective: 99.95"))
    _git(repo, "commit", "-q", "-am", "tighter")
    code, output = _run("diff", "main", "change")
    assert code == 0, output
    assert output.startswith("slo diff: main (")
    assert "objective" in output and "99.9% -> 99.95%" in output
    # Defaults: the merge base with main, and the working tree (with an uncommitted edit).
    spec.write_text(spec.read_text().replace("name: QueueDeep", "name: QueueTooDeep"))
    code, output = _run("diff")
    assert code == 0, output
    assert "merge base (" in output and "-> working tree" in output
    assert "99.9% -> 99.95%" in output and "renamed" in output
    code, output = _run("diff", "HEAD", "HEAD")
    assert code == 0 and "no change" in output
    # A revision from before there were specs: everything is added.
    (repo / "README").write_text("x")
    _git(repo, "checkout", "-q", "--orphan", "empty")
    _git(repo, "rm", "-rqf", "--cached", ".")
    _git(repo, "add", "README")
    _git(repo, "commit", "-q", "-m", "nothing yet")
    code, output = _run("diff", "empty", "change")
    assert code == 0, output
    assert "shop (added)" in output and "SLO availability" in output
    code, output = _run("diff", "no-such-branch")
    assert code == 2 and "neither a directory nor a git revision" in output

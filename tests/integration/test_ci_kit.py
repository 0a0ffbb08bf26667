"""The CI pieces this repository ships for its users, each run as they would run it: the
pre-commit hooks, the pull-request workflow's `slo` steps, and shell completion."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.paths import ROOT, SLOS

SLO = Path(sys.executable).with_name("slo")  # the suite's own installed command
HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
WORKFLOW = yaml.safe_load((ROOT / "docs" / "examples" / "pull-request.yml").read_text())


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLO_")}
    # slo compile's output cache goes beside the project, not into the user's ~/.cache.
    env["XDG_CACHE_HOME"] = str(cwd.parent / f"{cwd.name}-cache")
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _slo_steps() -> list[list[str]]:
    """Every `slo ...` command of the workflow, without its shell redirection."""
    steps = [step for job in WORKFLOW["jobs"].values() for step in job["steps"]]
    commands = []
    for step in steps:
        for line in step.get("run", "").splitlines():
            words = shlex.split(line.strip())
            if words[:1] == ["slo"]:
                commands.append(words[: words.index(">")] if ">" in words else words)
    return commands


@pytest.mark.parametrize("hook", HOOKS, ids=[hook["id"] for hook in HOOKS])
def test_each_pre_commit_hook_passes_here_and_fails_on_a_bad_spec(
    hook: dict[str, str], tmp_path: Path
) -> None:
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    command = [str(SLO), *shlex.split(hook["entry"])[1:]]
    passed = _run(command, ROOT)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    shutil.copytree(SLOS, tmp_path / "slos")
    shutil.copy(ROOT / "slo.yaml", tmp_path / "slo.yaml")
    spec = tmp_path / "slos" / "enforcement-gate.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9\n", "objective: 0.999\n", 1))
    failed = _run(command, tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "write 99.9" in failed.stderr


def test_the_pull_request_workflow_runs_here(promtool_path: str) -> None:
    commands = _slo_steps()
    assert [c[1] for c in commands] == ["validate", "compile", "test", "diff"]
    for command in commands:
        if command[1] == "diff":  # the base branch of a pull request: here, HEAD itself
            command = [word if "base_ref" not in word else "HEAD" for word in command]
        done = _run([str(SLO), *command[1:]], ROOT)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        if command[1] == "test":
            assert done.stdout.startswith("<?xml")
        if command[1] == "diff":
            assert done.stdout.startswith("<!-- slo-diff -->\n")
    comment = WORKFLOW["jobs"]["slo"]["steps"][-1]["run"]
    assert "gh pr comment" in comment and "<!-- slo-diff -->" in comment


def test_shell_completion() -> None:
    """What README.md tells users to put in their shell's startup file works."""
    source = _complete("bash_source")
    assert "complete -o nosort -F _slo_completion slo" in source
    candidates = _complete("bash_complete", COMP_WORDS="slo co", COMP_CWORD="1")
    assert {"compile", "convert"} <= {line.split(",")[-1] for line in candidates.split()}


def _complete(mode: str, **extra: str) -> str:
    env = {**os.environ, "_SLO_COMPLETE": mode, **extra}
    return subprocess.run([SLO], env=env, capture_output=True, text=True, check=True).stdout

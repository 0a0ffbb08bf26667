"""The two sides of `slo diff`: git revisions or directories, compiled in memory.

A revision's project (its slo.yaml, or the defaults) is read from the revision itself, so a
change to which specs the project compiles is seen too. Its files are extracted with
``git archive`` into a temporary directory that is gone when the side is compiled; nothing
is written to the repository or to any output directory. Spec files are named relative to
their project's directory on both sides, so that the same file matches itself.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from compiler import pipeline
from compiler.diagnostics import SpecError
from compiler.load import project
from compiler.load.discovery import PROJECT_FILE

WORKING_TREE = "working tree"
DEFAULT_BRANCHES = ("main", "master")


class RevisionError(ValueError):
    """A side that is neither a directory nor a revision of the repository."""


@dataclass(frozen=True)
class Side:
    """One side of a diff: what the user named, and what it compiled to."""

    label: str
    result: pipeline.Compilation


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, check=False, timeout=120
    )


def repository(start: Path) -> Path | None:
    """The top of the git work tree holding ``start``, if any."""
    found = _git(start, "rev-parse", "--show-toplevel")
    return Path(found.stdout.decode().strip()) if found.returncode == 0 else None


def default_base(root: Path) -> str:
    """The merge base of HEAD with the default branch (origin's, else main or master)."""
    candidates = []
    symbolic = _git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
    if symbolic.returncode == 0:
        candidates.append(symbolic.stdout.decode().strip())
    candidates += [f"refs/heads/{name}" for name in DEFAULT_BRANCHES]
    candidates += [f"refs/remotes/origin/{name}" for name in DEFAULT_BRANCHES]
    for ref in candidates:
        base = _git(root, "merge-base", "HEAD", ref)
        if base.returncode == 0:
            return base.stdout.decode().strip()
    raise RevisionError("no default branch (main, master or origin's HEAD) to diff against")


def compile_directory(directory: Path, label: str | None = None) -> Side:
    """A directory holding a project (slo.yaml), a ``slos/`` directory, or specs itself."""
    try:
        settings = _project(directory)
    except SpecError as exc:  # that side's project file is invalid: its diagnostics
        return Side(label or str(directory), pipeline.Compilation(diagnostics=[*exc.diagnostics]))
    specs = [path for path in settings.specs if path.exists()]
    if not specs:  # a revision from before the project had specs: nothing to compare
        return Side(label or str(directory), pipeline.Compilation())
    result = pipeline.compile_specs(specs, settings.root)
    return Side(label or str(directory), result)


def _project(directory: Path) -> project.Project:
    file = directory / PROJECT_FILE
    if file.is_file():
        return project.load(file, PROJECT_FILE)
    if (directory / "slos").is_dir():
        return project.defaults(directory)
    return project.Project(root=directory, specs=(directory,))


def compile_revision(root: Path, revision: str, subdir: Path, label: str | None = None) -> Side:
    """The project in ``subdir`` (relative to the repository ``root``) at ``revision``."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if commit.returncode != 0:
        raise RevisionError(f"{revision!r} is neither a directory nor a git revision")
    sha = commit.stdout.decode().strip()
    where = subdir.as_posix()
    archive = _git(root, "archive", "--format=tar", sha, "--", "." if where == "." else where)
    with tempfile.TemporaryDirectory(prefix="slo-diff-") as temporary:
        top = Path(temporary)
        if archive.returncode == 0:  # fails only when the directory did not exist then
            with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
                tar.extractall(top, filter="data")
        directory = top / subdir
        shown = f"{label or revision} ({sha[:12]})"
        if not (directory / PROJECT_FILE).is_file() and not (directory / "slos").is_dir():
            # The project did not exist yet at that revision: nothing to compare.
            return Side(shown, pipeline.Compilation())
        side = compile_directory(directory, shown)
    return side


def load(given: str | None, cwd: Path, default: str) -> Side:
    """One side: ``given`` as a directory or a revision; without it, ``default`` (the
    working tree, or the merge base with the default branch)."""
    if given is not None and Path(given).is_dir():
        return compile_directory(Path(given))
    if given is None and default == WORKING_TREE:
        return compile_directory(_project_root(cwd), WORKING_TREE)
    root = repository(cwd)
    if root is None:
        raise RevisionError(f"{given or 'the merge base'}: not in a git repository")
    revision = given if given is not None else default_base(root)
    subdir = _project_root(cwd).resolve().relative_to(root.resolve())
    return compile_revision(root, revision, subdir, None if given else "merge base")


def _project_root(cwd: Path) -> Path:
    """The directory of the nearest project file, else the working directory."""
    file = project.find(cwd)
    return file.parent if file is not None else cwd

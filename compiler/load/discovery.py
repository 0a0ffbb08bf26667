"""Which files are specs: the YAML files among the paths given (directories searched
recursively, in a stable order), and how a path is shown in messages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, Severity

SPEC_SUFFIXES = (".yaml", ".yml")
# The project file (compiler/load/project.py) sits among specs but is not one.
PROJECT_FILE = "slo.yaml"


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Spec files named directly or found (recursively) in directories, in a stable order.

    A path given is followed wherever it points. Inside a directory searched, symbolic links
    are not followed, to files and directories alike (a link can lead out of the
    repository, or in a circle): each one that could be a spec is skipped with a warning, so
    that a spec is never left out silently.
    """
    found: list[Path] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.rglob("*")):
                if entry.is_symlink():
                    if entry.suffix in SPEC_SUFFIXES or entry.is_dir():
                        problems.append(_skipped_link(entry))
                elif (
                    entry.suffix in SPEC_SUFFIXES
                    and entry.is_file()
                    and not _inside_link(entry, path)
                    and not (entry.name == PROJECT_FILE and is_project_file(entry))
                ):
                    found.append(entry)
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Diagnostic(Location(str(path)), "no such file or directory"))
    unique = list(dict.fromkeys(found))
    if not unique and not any(p.severity is Severity.ERROR for p in problems):
        shown = ", ".join(str(p) for p in paths)
        problems.append(Diagnostic(Location(shown), "no spec files (*.yaml, *.yml) found"))
    return unique, problems


def _skipped_link(entry: Path) -> Diagnostic:
    return Diagnostic(
        Location(str(entry)),
        "a symbolic link, skipped: links inside a spec directory are not followed; name its "
        "target on the command line or in slo.yaml's specs to include it",
        Severity.WARNING,
    )


def _inside_link(entry: Path, top: Path) -> bool:
    """Whether ``entry`` lies under a linked directory below ``top`` (rglob does not descend
    into those in every Python version; this holds the rule in all of them)."""
    relative = entry.relative_to(top)
    return any((top / parent).is_symlink() for parent in relative.parents if parent.parts)


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as people see it in messages and headers: relative to ``root`` (the project's,
    so that outputs are the same from any directory of it; default: the working directory)."""
    # Without resolving symbolic links: a linked spec directory keeps the name it is used by.
    absolute, base = Path(os.path.abspath(path)), Path(os.path.abspath(root or Path.cwd()))
    try:
        return absolute.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def is_project_file(path: Path) -> bool:
    """Whether ``path`` is a project file (``kind: Project``), not a spec that shares its name."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^kind:\s*[\"']?Project[\"']?\s*(#.*)?$", text, re.MULTILINE) is not None

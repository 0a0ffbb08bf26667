"""The ``slo`` command line: validate, compile, test.

Exit status: 0 success, 1 invalid specs or failed checks, 2 usage errors (click's own).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from compiler import pipeline, promtool, test_runner, writer
from compiler.diagnostics import Severity
from compiler.outputs import Root

DEFAULT_SPECS = Path("slos")
DEFAULT_OUT = Path("generated")
DEFAULT_DASHBOARDS = Path("dashboards")

_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Compile SLO specs into Prometheus rules, tests, dashboards and configs."""


def _compile(paths: Sequence[Path]) -> pipeline.Compilation:
    """Compile and print every diagnostic; exit 1 if there is an error."""
    result = pipeline.compile_specs(list(paths) or [DEFAULT_SPECS])
    for diagnostic in result.diagnostics:
        click.echo(str(diagnostic), err=True)
    if not result.ok:
        count = sum(d.severity is Severity.ERROR for d in result.diagnostics)
        click.echo(f"{count} error{'s' if count != 1 else ''}; nothing written", err=True)
        sys.exit(1)
    return result


@main.command()
@_paths
def validate(paths: tuple[Path, ...]) -> None:
    """Check spec files (default: slos/) and report every problem with its file and line."""
    result = _compile(paths)
    slos = len(result.specs.slos)
    alerts = sum(len(slo.tiers) for slo in result.specs.slos)
    click.echo(
        f"ok: {len(result.files)} file(s), {len(result.specs.services)} service(s), "
        f"{slos} SLO(s), {alerts} burn-rate alert(s)"
    )


@main.command(name="compile")
@_paths
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Directory for rules, tests and configs.",
)
@click.option(
    "--dashboards",
    "dashboards_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DASHBOARDS,
    show_default=True,
    help="Directory for Grafana dashboards.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any output is stale.")
def compile_command(paths: tuple[Path, ...], out: Path, dashboards_dir: Path, check: bool) -> None:
    """Compile specs (default: slos/) into generated files."""
    result = _compile(paths)
    roots = {Root.GENERATED: out, Root.DASHBOARDS: dashboards_dir}
    planned = writer.plan(pipeline.outputs(result.specs), roots)
    if check:
        report = writer.compare(planned)
        for path in report.written:
            click.echo(f"stale: {path}", err=True)
        for path in report.removed:
            click.echo(f"no longer generated: {path}", err=True)
        if report.changed:
            click.echo("outputs are out of date: run `slo compile` (or `make generate`)", err=True)
            sys.exit(1)
        click.echo(f"up to date: {report.unchanged} file(s)")
        return
    report = writer.write(planned)
    for path in report.written:
        click.echo(f"wrote {path}")
    for path in report.removed:
        click.echo(f"removed {path}")
    click.echo(
        f"{len(report.written)} written, {len(report.removed)} removed, "
        f"{report.unchanged} unchanged"
    )


@main.command()
@click.option(
    "--generated",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_OUT,
    show_default=True,
    help="Directory that holds tests/*.test.yml.",
)
@click.option("--match", "match", help="Run only the scenarios whose name contains this text.")
@click.option(
    "--jobs", type=click.IntRange(min=1), help="promtool runs at once (default: one per core)."
)
def test(generated: Path, match: str | None, jobs: int | None) -> None:
    """Run promtool over the generated rule tests and report each SLO and drill."""
    directory = generated / "tests"
    found = test_runner.collect(directory, match)
    if not found:
        what = f"matching {match!r} " if match else ""
        click.echo(f"no tests {what}found in {directory}: run `slo compile` first", err=True)
        sys.exit(1)
    started = time.monotonic()
    try:
        passed, failed = test_runner.report(
            test_runner.run(found, jobs), click.echo, root=Path.cwd()
        )
    except promtool.PromtoolMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    scenarios = sum(job.groups for job in found)
    click.echo(
        f"{passed} passed, {failed} failed ({scenarios} scenarios, "
        f"{time.monotonic() - started:.1f}s)"
    )
    if failed:
        sys.exit(1)

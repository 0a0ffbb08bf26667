"""The ``slo`` command line: validate, compile, test, gate.

Exit status: 0 success, 1 invalid specs or failed checks, 2 usage errors (click's own);
``slo gate`` has its own (0 PASS, 1 BLOCK, 2 usage error, 3 UNKNOWN).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from compiler import pipeline, promtool, writer
from compiler.diagnostics import Severity
from compiler.gate.command import gate_command
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
def test(generated: Path) -> None:
    """Run promtool over the generated rule tests and report each file."""
    files = sorted((generated / "tests").glob("*.test.yml"))
    if not files:
        click.echo(f"no tests found in {generated / 'tests'}: run `slo compile` first", err=True)
        sys.exit(1)
    failed = 0
    for file in files:
        try:
            result = promtool.test_rules([file.resolve()], cwd=file.parent)
        except promtool.PromtoolMissing as exc:
            click.echo(str(exc), err=True)
            sys.exit(1)
        click.echo(f"{'PASS' if result.ok else 'FAIL'} {file}")
        if not result.ok:
            failed += 1
            click.echo(result.output, err=True)
    click.echo(f"{len(files) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


main.add_command(gate_command)

"""The ``slo`` command line: validate, compile, convert, test, preview, gate; and for a
reviewer, explain, diff and lint (compiler/review).

Exit status: 0 success, 1 invalid specs or failed checks, 2 usage errors (click's own);
``slo gate`` has its own (0 PASS, 1 BLOCK, 2 usage error, 3 UNKNOWN).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from compiler import conventions, formats, output_cache, pipeline, rule_test_runner, writer
from compiler.diagnostics import (
    Diagnostic,
    Location,
    Severity,
    SpecError,
    annotation,
    as_dict,
    errors,
)
from compiler.gate.command import gate_command
from compiler.gate.signoffs import SignOffSet, load_signoffs, review
from compiler.load import project
from compiler.load.discovery import PROJECT_FILE, display_path
from compiler.load.schema_check import bundled_schema
from compiler.output_cache import OutputCache
from compiler.outputs import OutputFile, Root
from compiler.spec_cache import SpecCache
from compiler.synthetic import promtool
from compiler.synthetic.labels import LabelError
from compiler.synthetic.local_prometheus import PrometheusError
from compiler.targets.prometheus import rule_formats
from compiler.targets.prometheus.templating import TEMPLATES_ENV
from compiler.workers import available_cores, idle_cores

if TYPE_CHECKING:  # the review commands import their modules when they run
    from compiler.review.lint import Finding
    from compiler.review.traffic import Question

DEFAULT_SPECS = Path("slos")
DEFAULT_OUT = Path("generated")
DEFAULT_DASHBOARDS = Path("dashboards")
DEFAULT_PREVIEW = Path("preview")
CACHE_ENV = "SLO_COMPILER_CACHE"

_Command = TypeVar("_Command", bound=Callable[..., Any])

_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")


def _directory(*names: str, default: Path, help: str) -> Callable[[_Command], _Command]:
    """An option naming a directory (it need not exist yet), with its default shown."""
    return click.option(
        *names,
        type=click.Path(file_okay=False, path_type=Path),
        default=default,
        show_default=True,
        help=help,
    )


class _Main(click.Group):
    """The ``slo`` group, remembering the words after it (so that help and ``slo schema`` work
    even while the project file is broken)."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        ctx.meta[_ARGS] = list(args)
        return super().resolve_command(ctx, args)


_ARGS = "slo.args"
_HELP = ("-h", "--help")


@click.group(cls=_Main, context_settings={"help_option_names": list(_HELP)})
@click.version_option(package_name="slo-compiler", prog_name="slo", message="%(prog)s %(version)s")
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The project file (default: the nearest slo.yaml in or above the working directory).",
)
@click.pass_context
def main(context: click.Context, config_file: Path | None) -> None:
    """Compile SLO specs into Prometheus rules, tests, dashboards and configs.

    A project file, slo.yaml, holds what is per repository (docs/project.md); flags override
    it.
    """
    words = context.meta.get(_ARGS, [])
    lenient = words[:1] == ["schema"] or any(word in _HELP for word in words)
    settings = _load_project(config_file, lenient)
    context.obj = settings
    context.default_map = _defaults(settings)
    if settings.templates is not None and TEMPLATES_ENV not in os.environ:
        os.environ[TEMPLATES_ENV] = str(settings.templates)
        context.call_on_close(lambda: os.environ.pop(TEMPLATES_ENV, None))


def _load_project(config_file: Path | None, lenient: bool = False) -> project.Project:
    """The project file given, or the nearest one; the defaults without one. Exit 1 on an
    invalid one, with every problem at its line (``lenient``: the defaults instead)."""
    file = config_file or project.find(Path.cwd())
    if file is None:
        return project.defaults(Path.cwd())
    try:
        settings = project.load(file, display_path(file))
    except SpecError as exc:
        if lenient:
            return project.defaults(Path.cwd())
        _report(exc.diagnostics, f" in the project file {display_path(file)}")
        raise  # not reached: _report exits
    return settings


def _here(path: Path) -> Path:
    """``path`` relative to the working directory (as people type and read paths)."""
    return Path(os.path.relpath(path))


def _defaults(settings: project.Project) -> dict[str, Any]:
    """The project's settings as the commands' defaults (click's default_map)."""
    labels = [f"{key}={value}" for key, value in sorted(settings.operator_labels.items())]
    gate = {
        "url": settings.gate.get("prometheus"),
        "timeout": settings.gate.get("timeout"),
        "bearer_token_env": settings.gate.get("bearer_token_env"),
        "headers": settings.gate.get("headers"),
        "ca_file": settings.gate.get("ca_file") and str(settings.root / settings.gate["ca_file"]),
    }
    if settings.file is not None:  # without one, the gate keeps its own defaults
        gate["specs"] = [_here(path) for path in settings.specs]
        gate["signoffs"] = _here(settings.signoffs) if settings.signoffs.is_dir() else None
    return {
        "compile": {
            "out": _here(settings.generated),
            "dashboards_dir": _here(settings.dashboards),
            "rules_formats": settings.rule_formats,
            "operator_namespace": settings.operator_namespace,
            "operator_labels": labels,
        },
        "test": {"generated": _here(settings.generated)},
        "gate": {name: value for name, value in gate.items() if value is not None},
    }


def _project() -> project.Project:
    """The settings of the command being run."""
    found = click.get_current_context().find_object(project.Project)
    return found if found is not None else project.defaults(Path.cwd())


def _scope(paths: Sequence[Path]) -> pipeline.Scope:
    """What to compile for ``paths`` (usage error for a mix the project cannot compile)."""
    try:
        return pipeline.scope(paths, _spec_paths(()), _root())
    except pipeline.ScopeError as exc:
        raise click.UsageError(str(exc)) from exc


def _spec_paths(paths: Sequence[Path]) -> list[Path]:
    """The specs given, or the project's."""
    return list(paths) or [_here(path) for path in _project().specs]


def _root() -> Path | None:
    """What spec files are named relative to: the project's directory, if it has a file."""
    settings = _project()
    return settings.root if settings.file is not None else None


def _compile(paths: Sequence[Path]) -> pipeline.Compilation:
    """Compile and print every diagnostic; exit 1 if there is an error."""
    return _checked(pipeline.compile_specs(_spec_paths(paths), _root()))


def _checked(result: pipeline.Compilation) -> pipeline.Compilation:
    """Print every diagnostic of ``result``; exit 1 if there is an error."""
    _report(result.diagnostics, "; nothing written")
    return result


def _report(diagnostics: Sequence[Diagnostic], consequence: str) -> None:
    """Print every diagnostic; if any is an error, say how many and exit 1."""
    for diagnostic in diagnostics:
        click.echo(str(diagnostic), err=True)
    count = len(errors(diagnostics))
    if count:
        click.echo(f"{count} error{'s' if count != 1 else ''}{consequence}", err=True)
        sys.exit(1)


@main.command()
@_paths
@click.option(
    "--signoffs",
    "signoff_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Also check the release gate's sign-off files in this directory (e.g. signoffs/): "
    "their fields, and that each is signed by its service's owner.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Also run `slo lint`'s rules; treat warnings as errors (exit 1 on any).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: `file:line: field: message` on stderr; json: one document on stdout; github: "
    "an annotation per problem at its file and line (GitHub Actions workflow commands).",
)
def validate(
    paths: tuple[Path, ...], signoff_dir: Path | None, strict: bool, output_format: str
) -> None:
    """Check spec files (default: slos/) and report every problem with its file and line."""
    chosen = _scope(paths)
    result = pipeline.compile_specs(list(chosen.paths), _root())
    diagnostics = [
        d for d in result.diagnostics if chosen.only is None or d.location.file in chosen.only
    ]
    if hidden := len(errors(result.diagnostics)) - len(errors(diagnostics)):
        # The chosen specs are checked with the whole set; the set has to compile.
        message = f"{hidden} error(s) in other specs of the set: run `slo validate` to see them"
        diagnostics.append(Diagnostic(Location(display_path(_spec_paths(())[0])), message))
    linted = []
    if strict and result.ok:  # a careful reviewer's warnings too (slo lint)
        linted = [
            finding.diagnostic
            for finding in _lint(result)
            if chosen.only is None or finding.diagnostic.location.file in chosen.only
        ]
        diagnostics.extend(linted)
    signoffs = None
    if signoff_dir is not None and result.ok:
        signoffs = load_signoffs(signoff_dir, result.specs)
        diagnostics.extend(review(signoffs, result.specs))
    failing = [d for d in diagnostics if strict or d.severity is Severity.ERROR]
    summary = _validation_summary(result, signoffs) if not failing else None
    if output_format == "json":
        document = {
            "ok": not failing,
            "strict": strict,
            "files": result.files,
            "summary": summary,
            "diagnostics": [as_dict(d) for d in diagnostics],
        }
        click.echo(json.dumps(document, indent=2))
    else:
        for diagnostic in diagnostics:
            if output_format == "github":
                click.echo(annotation(diagnostic, "slo validate"))
            else:
                click.echo(str(diagnostic), err=True)
        if failing:
            in_specs = len([d for d in failing if d in result.diagnostics or d in linted])
            count = in_specs or len(failing)
            where = "; nothing written" if in_specs else " in sign-offs"
            strictly = " (--strict: warnings count as errors)" if strict else ""
            click.echo(f"{count} error{'s' if count != 1 else ''}{where}{strictly}", err=True)
        else:
            click.echo(f"ok: {summary}")
    if failing:
        sys.exit(1)


def _validation_summary(result: pipeline.Compilation, signoffs: SignOffSet | None) -> str:
    specs = result.specs
    alerts = sum(len(slo.tiers) for slo in specs.slos)
    return (
        f"{len(result.files)} file(s), {len(specs.services)} service(s), "
        f"{len(specs.slos)} SLO(s), {alerts} burn-rate alert(s)"
        + (f", {len(specs.signals)} signal(s)" if specs.signals else "")
        + (f", {len(specs.environments)} environment(s)" if specs.environments else "")
        + (f", {len(signoffs.signoffs)} sign-off(s)" if signoffs is not None else "")
    )


SCHEMAS = {
    "spec": "spec-v1.schema.json",
    "routing": "routing-v1.schema.json",
    "environment": "environment-v1.schema.json",
    "signoff": "signoff-v1.schema.json",
    "project": "project-v1.schema.json",
}


@main.command()
@click.argument("kind", type=click.Choice(sorted(SCHEMAS)), default="spec")
def schema(kind: str) -> None:
    """Print the JSON Schema of a document kind (default: a service spec), self-contained,
    for editors: e.g. `slo schema > slo-spec.schema.json`, then point the YAML language
    server at it. Its $id is stable across releases of the same spec version."""
    click.echo(json.dumps(bundled_schema(SCHEMAS[kind]), indent=2))


class _Jobs(click.ParamType[int]):
    """``auto`` (the cores not busy now) or a number of processes."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and value >= 1:
            return value
        if str(value).strip().lower() == "auto":
            return idle_cores()
        if str(value).strip().isdigit() and int(value) >= 1:
            return int(value)
        self.fail(f"{value!r}: a number of processes (1 or more) or auto", param, ctx)


_JOBS = _Jobs()


@main.command(name="compile")
@_paths
@_directory("--out", default=DEFAULT_OUT, help="Directory for rules, tests and configs.")
@_directory(
    "--dashboards",
    "dashboards_dir",
    default=DEFAULT_DASHBOARDS,
    help="Directory for Grafana dashboards.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any output is stale.")
@click.option(
    "--diff",
    is_flag=True,
    help="Write nothing; print a unified diff of what compiling would change in the files; "
    "exit 1 if anything would. (`slo diff` says what a spec change does to paging.)",
)
@click.option(
    "--rules-format",
    "rules_formats",
    type=click.Choice(rule_formats.FORMATS),
    multiple=True,
    help="Also write the rules for a deployment tool: prometheus-operator (PrometheusRule "
    "objects) or mimir (mimirtool/cortextool namespaces). Repeatable; plain Prometheus rule "
    "files are always written. See docs/deploy.md.",
)
@click.option(
    "--operator-namespace",
    metavar="NAMESPACE",
    help="metadata.namespace of the PrometheusRule objects (default: none, kubectl's).",
)
@click.option(
    "--operator-label",
    "operator_labels",
    metavar="KEY=VALUE",
    multiple=True,
    help="Label for the PrometheusRule objects, e.g. the one your Prometheus ruleSelector "
    "matches (role=alert-rules). Repeatable.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where each spec file's model and each service's outputs are cached by the hash "
    "of what they are built from, so unchanged specs are not checked or built again "
    f"(default: ${CACHE_ENV}, else $XDG_CACHE_HOME/slo-compiler, else "
    "~/.cache/slo-compiler).",
)
@click.option(
    "--no-cache", is_flag=True, help="Check and build every spec; read and write no cache."
)
@click.option(
    "--jobs",
    type=_JOBS,
    default="auto",
    show_default=True,
    help="Processes that read specs and build services at once, when many need it. auto: "
    f"the cores (this machine has {available_cores()}) less those other processes keep "
    "busy now; 1: this process alone (see docs/performance.md).",
)
def compile_command(
    paths: tuple[Path, ...],
    out: Path,
    dashboards_dir: Path,
    check: bool,
    diff: bool,
    rules_formats: tuple[str, ...],
    operator_namespace: str | None,
    operator_labels: tuple[str, ...],
    cache_dir: Path | None,
    no_cache: bool,
    jobs: int,
) -> None:
    """Compile specs (default: slos/) into generated files.

    Given some specs of slos/, the whole set is checked, and only those specs' outputs are
    written or removed. Given --out alone, every output goes under it (dashboards in
    OUT/dashboards).
    """
    context = click.get_current_context()
    flags = _given(context, "operator_namespace") or _given(context, "operator_labels")
    operator = _operator_options(rules_formats, operator_namespace, operator_labels, flags)
    if _given(context, "out") and not _given(context, "dashboards_dir"):
        dashboards_dir = out / DEFAULT_DASHBOARDS.name
    if out.resolve() == dashboards_dir.resolve():
        raise click.UsageError("--out and --dashboards name one directory: give each its own")
    chosen = _scope(paths)
    # --check and --diff write nothing, not even to the cache.
    cached = not (no_cache or check or diff)
    directory = cache_dir or default_cache_dir()
    spec_cache = SpecCache(directory) if cached else None
    result = _checked(pipeline.compile_specs(list(chosen.paths), _root(), spec_cache, jobs))
    roots = {Root.GENERATED: out, Root.DASHBOARDS: dashboards_dir}
    # Streamed: each output is serialized and staged (or compared) as it is built.
    cache = OutputCache(directory) if cached else None
    files = _outputs(result, rules_formats, operator, cache, jobs)
    owners = chosen.owners(result.specs)
    try:
        planned = writer.plan(files, roots, owners, stage=not (check or diff))
        try:
            _write_or_check(planned, check, diff)
        finally:  # interrupted before the renames: no temporary file is left behind
            planned.discard()
    except writer.WriteError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    if cached:  # entries no compile used for a month go (looked for once a day)
        output_cache.prune(directory)


def _outputs(
    result: pipeline.Compilation,
    formats: Sequence[str],
    operator: rule_formats.OperatorOptions,
    cache: OutputCache | None,
    jobs: int,
) -> Iterator[OutputFile]:
    """Every output, each built when the writer asks for it (the rule formats last)."""
    yield from pipeline.stream(result.specs, cache, result.digests, jobs)
    yield from rule_formats.rule_files(result.specs, formats, operator)


def default_cache_dir() -> Path:
    """$SLO_COMPILER_CACHE, else the user's cache directory (XDG), for the output cache."""
    if configured := os.environ.get(CACHE_ENV):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "slo-compiler"


def _write_or_check(planned: writer.Plan, check: bool, diff: bool) -> None:
    """Write ``planned`` (or, with --check or --diff, say what writing it would change)."""
    if outdated := planned.outdated_left_alone:
        click.echo(
            "not updated (built from every spec: compile them all to update them): "
            f"{', '.join(map(str, outdated))}",
            err=True,
        )
    if check or diff:
        report = writer.compare(planned)
        if diff:
            click.echo("".join(writer.unified_diff(planned, report)), nl=False)
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


def _given(context: click.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not its default)."""
    return context.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE


def _operator_options(
    formats: tuple[str, ...], namespace: str | None, labels: tuple[str, ...], flags: bool
) -> rule_formats.OperatorOptions:
    """The --operator-* options (or the project's), checked (usage errors exit 2)."""
    if flags and rule_formats.PROMETHEUS_OPERATOR not in formats:
        raise click.UsageError("--operator-* options need --rules-format prometheus-operator")
    if namespace is not None and (problem := rule_formats.namespace_problem(namespace)):
        raise click.BadParameter(problem, param_hint="--operator-namespace")
    parsed: dict[str, str] = {}
    for text in labels:
        key, equals, value = text.partition("=")
        problem = rule_formats.label_problem(key, value) if equals else "expected KEY=VALUE"
        if problem:
            raise click.BadParameter(f"{text!r}: {problem}", param_hint="--operator-label")
        parsed[key] = value
    return rule_formats.OperatorOptions(namespace, parsed)


@main.command()
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH..."
)
@_directory(
    "--out",
    default=DEFAULT_SPECS,
    help="Directory for the native specs (one <service>.yaml per service).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist with other contents.")
def convert(paths: tuple[Path, ...], out: Path, force: bool) -> None:
    """Convert Sloth and OpenSLO specs into native ones (they must be valid first)."""
    result, documents = pipeline.compile_documents(list(paths))
    _checked(result)
    files = formats.converted_specs(documents)
    if not files:
        click.echo("nothing to convert: no Sloth or OpenSLO specs among the inputs", err=True)
        sys.exit(1)
    planned = writer.Plan({out / file.path: writer.serialize(file) for file in files})
    clashes = [path for path in writer.compare(planned).written if path.exists()]
    if clashes and not force:
        for path in clashes:
            click.echo(f"exists: {path}", err=True)
        click.echo("nothing written: use --force to overwrite", err=True)
        sys.exit(1)
    try:
        report = writer.write(planned)
    except writer.WriteError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for path in report.written:
        click.echo(f"wrote {path}")
    click.echo(f"{len(files)} spec(s) converted, {report.unchanged} unchanged")


@main.command()
@_paths
@_directory("--generated", default=DEFAULT_OUT, help="Directory that holds tests/*.test.yml.")
@click.option("--match", "match", help="Run only the scenarios whose name contains this text.")
@click.option("--service", "services", multiple=True, help="Only this service's tests; repeatable.")
@click.option(
    "--jobs", type=click.IntRange(min=1), help="promtool runs at once (default: one per core)."
)
@click.option(
    "--allow-stale",
    is_flag=True,
    help="Run even when the rules or tests differ from what the specs compile to (to test "
    "hand-edited rules).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "junit"]),
    default="text",
    show_default=True,
    help="junit: a JUnit XML report on stdout (progress on stderr), for CI to show.",
)
def test(
    paths: tuple[Path, ...],
    generated: Path,
    match: str | None,
    services: tuple[str, ...],
    jobs: int | None,
    allow_stale: bool,
    output_format: str,
) -> None:
    """Run promtool over the generated rule tests and report each SLO, signal and drill.

    The rules and tests must be what the specs (PATH..., default slos/) compile to: after
    editing a spec, run `slo compile` first.
    """
    echo = click.echo if output_format == "text" else partial(click.echo, err=True)
    directory = generated / conventions.TESTS_DIR
    files = rule_test_runner.test_files(directory)
    known = sorted({file.name.split(".", 1)[0] for file in files})
    if files and (unknown := sorted(set(services) - set(known))):
        click.echo(f"no tests of {', '.join(unknown)} (services: {', '.join(known)})", err=True)
        sys.exit(1)
    if not allow_stale:
        _refuse_stale(paths, generated, services)
    found = rule_test_runner.collect(directory, match, services)
    if not found:
        _nothing_to_test(directory, match, services)
    subjects = sorted({job.subject for job in found})
    scenarios = sum(job.groups for job in found)
    if match or services:
        echo(
            f"selected {scenarios} scenario(s) in {len(subjects)} subject(s): {', '.join(subjects)}"
        )
    started = time.monotonic()
    try:
        with _terminate_as_interrupt():
            outcomes = list(
                rule_test_runner.report(rule_test_runner.run(found, jobs), echo, root=Path.cwd())
            )
    except promtool.PromtoolMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    seconds = time.monotonic() - started
    failed = sum(not outcome.ok for outcome in outcomes)
    covered = rule_test_runner.coverage(directory, services)
    lines, unproven = rule_test_runner.coverage_report(covered, outcomes, directory)
    if lines:
        echo("coverage (each SLO: its own instance test + its rule shape's full scenario set):")
        for line in lines:
            echo(f"  {line}")
    echo(
        f"{len(outcomes) - failed} passed, {failed} failed ({scenarios} scenarios, {seconds:.1f}s)"
        + (
            f"; {unproven} SLO(s) not proven by both their own and their shape's tests"
            if unproven
            else ""
        )
    )
    if output_format == "junit":
        click.echo(rule_test_runner.junit(outcomes, seconds), nl=False)
    # Under --match, what was not selected did not run: not a failure.
    missing = any("MISSING" in line for line in lines)
    if failed or missing:
        sys.exit(1)


def _refuse_stale(paths: tuple[Path, ...], generated: Path, services: tuple[str, ...]) -> None:
    """Exit 1, naming them, if the rules or tests (of ``services``, or of the specs given)
    are not what the specs compile to."""
    if not paths and not any(path.exists() for path in _project().specs):
        return  # no specs here to hold them against (tests generated elsewhere)
    chosen = _scope(paths)
    result = _checked(pipeline.compile_specs(list(chosen.paths), _root()))
    owners = chosen.owners(result.specs)
    names = {
        spec.service.name
        for spec in result.specs.services
        if (not services or spec.service.name in services)
        and (owners is None or spec.source in owners)
    }
    narrowed = bool(services) or owners is not None
    stale = rule_test_runner.stale_files(result.specs, generated, names if narrowed else None)
    for path in stale:
        click.echo(f"stale: {path}", err=True)
    if stale:
        click.echo(
            "the rules and tests are not what the specs compile to: run `slo compile` "
            "(or pass --allow-stale to test them as they are)",
            err=True,
        )
        sys.exit(1)


def _nothing_to_test(directory: Path, match: str | None, services: tuple[str, ...]) -> None:
    """Say why nothing was selected, and exit 1."""
    if not rule_test_runner.test_files(directory):
        click.echo(f"no tests found in {directory}: run `slo compile` first", err=True)
    else:
        in_scope = rule_test_runner.collect(directory, services=services)
        subjects = sorted({job.subject for job in in_scope})
        click.echo(
            f"no scenario matches {match!r} in {directory} (subjects: {', '.join(subjects)})",
            err=True,
        )
    sys.exit(1)


@main.command()
@_paths
@click.option(
    "--service",
    "services",
    multiple=True,
    help="Only this service's dashboards (and the overview); repeatable.",
)
@_directory("--out", default=DEFAULT_PREVIEW, help="Directory for the PNG files.")
def preview(paths: tuple[Path, ...], services: tuple[str, ...], out: Path) -> None:
    """Draw every dashboard to PNG from a real Prometheus over a synthetic incident."""
    from compiler.preview import draw as previews

    result = _compile(paths)
    known = {spec.service.name for spec in result.specs.services}
    unknown = sorted(set(services) - known)
    if unknown:
        click.echo(f"unknown service(s): {', '.join(unknown)}", err=True)
        sys.exit(1)
    try:
        with _terminate_as_interrupt():
            drawn = previews.preview(result.specs, out, services)
    except (PrometheusError, promtool.PromtoolMissing, LabelError) as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    for one in drawn:
        click.echo(f"wrote {one.path} ({one.title}: {one.panels} panels)")
    if not drawn:
        click.echo("no dashboards to draw", err=True)
        sys.exit(1)


_prometheus = click.option(
    "--prometheus",
    "url",
    metavar="URL",
    help="A Prometheus-compatible API that evaluates these SLOs' rules, for their traffic "
    "(asked with slo.yaml's gate settings: timeout, bearer token, headers, CA file).",
)


@main.command()
@click.argument("name", metavar="SERVICE/SLO")
@_paths
@_prometheus
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.png",
    help="Also draw each tier's time to fire against the error ratio.",
)
def explain(name: str, paths: tuple[Path, ...], url: str | None, plot: Path | None) -> None:
    """Explain one SLO for a reviewer: objective and budget, when each tier pages (full
    outage, a burn at its factor), the budget spent by then, the reset time, the guard (and,
    with --prometheus, what it means at the current traffic), and what it generates.
    Formulas: docs/review.md."""
    from compiler.review import explain as explaining
    from compiler.review import text, traffic

    result = _compile(paths)
    try:
        _, slo = explaining.find(result.specs, name)
    except explaining.UnknownSLO as exc:
        raise click.BadParameter(str(exc), param_hint="SERVICE/SLO") from exc
    now = None
    if url is not None:
        windows = [tier.long_window for tier in slo.tiers] or [slo.period]
        questions = traffic.current(slo, [min(windows)])
        now = traffic.answers(result.specs, _ask(url, questions)).get(
            (slo.service, slo.name, str(min(windows))), {}
        )
    found = explaining.explain(result.specs, name, now)
    click.echo(text.explanation(found), nl=False)
    if plot is not None:
        from compiler.review import plot as plotting

        plotting.detection_plot(found, plot)
        click.echo(f"wrote {plot}")


def _ask(
    url: str, questions: Sequence[Question]
) -> list[tuple[Question, list[tuple[dict[str, str], float]]]]:
    """Each question's answer from the server (exit 1, saying why, if it cannot answer),
    asked with the project's gate settings: timeout, bearer token, headers, CA file."""
    from compiler.gate.prometheus_api import ApiError, Auth, PrometheusClient

    settings = _project()
    gate = settings.gate
    token = None
    if variable := gate.get("bearer_token_env"):
        token = os.environ.get(variable)
        if not token:
            click.echo(f"gate.bearer_token_env names ${variable}, which is not set", err=True)
            sys.exit(1)
    headers = []
    for header in gate.get("headers", ()):
        name, _, value = header.partition(":")
        try:  # HTTP sends headers as Latin-1; anything else cannot be sent
            (name + value).encode("latin-1")
        except UnicodeEncodeError:
            click.echo(f"gate.headers: {header!r} is not Latin-1", err=True)
            sys.exit(1)
        headers.append((name.strip(), value.strip()))
    ca_file = settings.root / gate["ca_file"] if "ca_file" in gate else None
    auth = Auth(bearer_token=token, headers=tuple(headers), ca_file=ca_file)
    client = PrometheusClient(url, auth, timeout=float(gate.get("timeout", 10.0)))
    try:
        at = client.server_time()
        return [
            (question, [(one.labels, one.value) for one in client.instant(question.expr, at)])
            for question in questions
        ]
    except ApiError as exc:
        click.echo(f"{client.shown_url}: {exc.message}", err=True)
        sys.exit(1)


def _lint(result: pipeline.Compilation, url: str | None = None) -> list[Finding]:
    """`slo lint`'s findings for ``result`` (the project's disabled codes left out); exit 1
    on a code the project file names that no rule has."""
    from compiler.review import lint, traffic

    disabled = _project().lint_disable
    if unknown := sorted(set(disabled) - lint.CODES):
        shown = _project().file or Path(PROJECT_FILE)
        click.echo(
            f"{display_path(shown)}: lint.disable: unknown code(s) {', '.join(unknown)} "
            f"(codes: {', '.join(sorted(lint.CODES))})",
            err=True,
        )
        sys.exit(1)
    seen = None
    if url is not None:
        seen = traffic.answers(result.specs, _ask(url, traffic.busiest(result.specs)))
    return lint.lint(result.specs, _root(), seen, disabled)


@main.command(name="lint")
@_paths
@_prometheus
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text: `file:line: field: warning: message [code]`; json: one document; github: "
    "an annotation per finding.",
)
def lint_command(paths: tuple[Path, ...], url: str | None, output_format: str) -> None:
    """What a careful reviewer would say about valid specs, each as a warning with its file,
    line and a stable code (turn a code off in slo.yaml: `lint: {disable: [code]}`). With
    --prometheus, also guards and objectives against the traffic the server has seen. Exit 1
    if there is any finding."""
    result = _compile(paths)
    findings = _lint(result, url)
    if output_format == "json":
        document = [{"code": f.code, **as_dict(f.diagnostic)} for f in findings]
        click.echo(json.dumps({"ok": not findings, "findings": document}, indent=2))
    else:
        for finding in findings:
            if output_format == "github":
                click.echo(annotation(finding.diagnostic, f"slo lint {finding.code}"))
            else:
                click.echo(str(finding), err=True)
        count = len(findings)
        if count:
            click.echo(f"{count} finding{'s' if count != 1 else ''}", err=True)
        else:
            click.echo("ok: nothing to say")
    if findings:
        sys.exit(1)


@main.command(name="diff")
@click.argument("base", required=False, metavar="[BASE")
@click.argument("head", required=False, metavar="[HEAD]]")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for a terminal; markdown for a pull-request comment (one table per service); "
    "json for tools.",
)
def diff_command(base: str | None, head: str | None, output_format: str) -> None:
    """What a spec change does, by service, SLO and signal: objectives, SLIs, tiers and
    when they page, guards, routing, gate policy.

    BASE and HEAD are git revisions or directories (default: the merge base with the default
    branch, and the working tree). Both are compiled in memory; nothing is written. Exit 0
    whether or not anything changed, 1 if a side is invalid. `slo compile --diff` shows the
    generated files' text instead.
    """
    from compiler.review import json_report, markdown, revisions, semantic_diff, text

    cwd = Path.cwd()
    sides = []
    for given, default in ((base, "merge base"), (head, revisions.WORKING_TREE)):
        try:
            sides.append(revisions.load(given, cwd, default))
        except revisions.RevisionError as exc:
            raise click.BadParameter(str(exc), param_hint="BASE/HEAD") from exc
    for side in sides:
        if not side.result.ok:
            _report(side.result.diagnostics, f" in {side.label}")
    old, new = sides
    found = semantic_diff.diff(old.result.specs, new.result.specs)
    render = {"text": text.diff_report, "markdown": markdown.render, "json": json_report.render}
    click.echo(render[output_format](found, old.label, new.label), nl=False)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, a timeout) unwinds like Ctrl-C: the temporary
    directories are removed and the servers started are stopped, not left behind."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding program): leave it to them
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


main.add_command(gate_command)

"""``slo gate``: may this release be promoted? PASS (0), BLOCK (1), UNKNOWN (3).

The interface is fixed (CI scripts rely on it); see docs/gate.md. Usage errors exit 2
(click's own convention). The run never exits 0 unless every selected SLO passed on
evidence from the server.
"""

from __future__ import annotations

import math
import os
import ssl
import sys
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

import click

from compiler import pipeline
from compiler.diagnostics import Diagnostic, Severity
from compiler.gate import report as formats
from compiler.gate.decision import Reason, Verdict, overall
from compiler.gate.evidence import SloResult, judge_all
from compiler.gate.prometheus_api import Auth, PrometheusClient
from compiler.gate.signoffs import load_signoffs
from compiler.model.service import ServiceSpec, SpecSet
from compiler.model.slo import SLO

DEFAULT_SPECS = Path("slos")
MAX_TIMEOUT = 3600.0  # seconds; beyond it a socket timeout overflows
DEFAULT_DEADLINE = 600.0  # the whole run: a CI step should not hang for its job's limit
DEFAULT_SIGNOFFS = Path("signoffs")


@click.command(name="gate")
@click.option(
    "--prometheus",
    "url",
    required=True,
    metavar="URL",
    help="Base URL of the Prometheus-compatible API (Prometheus, Thanos Query, Mimir's "
    "…/prometheus).",
)
@click.option("--service", "services", multiple=True, metavar="NAME", help="Only this service.")
@click.option("--slo", "slo_names", multiple=True, metavar="NAME", help="Only this SLO.")
@click.option(
    "--specs",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
    help="Spec files or directories (default: slos/).",
)
@click.option(
    "--signoffs",
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="Directory of sign-off files (default: signoffs/, if it exists).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Bound on each HTTP request (failed requests are retried twice).",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_DEADLINE,
    show_default=True,
    metavar="SECONDS",
    help="Bound on the whole run's requests: past it, what is unanswered is UNKNOWN.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "junit", "github"]),
    default="text",
    show_default=True,
    help="github: ::error annotations, and a job summary appended to $GITHUB_STEP_SUMMARY.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    metavar="FILE",
    help="Write the report here instead of standard output.",
)
@click.option(
    "--bearer-token-env",
    metavar="VAR",
    help="Send 'Authorization: Bearer' with the token in this environment variable.",
)
@click.option("--basic-auth-user", metavar="USER", help="Basic auth user name.")
@click.option(
    "--basic-auth-password-env",
    metavar="VAR",
    help="Environment variable holding the basic auth password.",
)
@click.option(
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    help="Extra request header, e.g. 'X-Scope-OrgID: team-a' (repeatable).",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="PATH",
    help="CA certificates (PEM) to verify the server's TLS certificate.",
)
def gate_command(
    url: str,
    services: tuple[str, ...],
    slo_names: tuple[str, ...],
    specs: tuple[Path, ...],
    signoffs: Path | None,
    timeout: float,
    deadline: float,
    output_format: str,
    output: Path | None,
    bearer_token_env: str | None,
    basic_auth_user: str | None,
    basic_auth_password_env: str | None,
    headers: tuple[str, ...],
    ca_file: Path | None,
) -> None:
    """Decide whether a release may be promoted, from the SLOs' burn-rate alerts.

    PASS (exit 0) only when every selected SLO passed on evidence; BLOCK (exit 1) while a
    burn-rate alert fires or is pending, a tier's condition is true, an episode is not yet
    clear for two windows or not signed off by the owner, or the budget is frozen; UNKNOWN
    (exit 3) when the server or its data cannot tell. Policy: docs/gate.md.
    """
    parsed = urllib.parse.urlparse(url)
    try:
        port_ok = parsed.port is None or parsed.port > 0
    except ValueError:
        port_ok = False
    if parsed.scheme not in ("http", "https") or not parsed.hostname or not port_ok:
        raise click.BadParameter("give an http:// or https:// URL", param_hint="--prometheus")
    for name, seconds in (("--timeout", timeout), ("--deadline", deadline)):
        if not math.isfinite(seconds) or seconds > MAX_TIMEOUT:
            raise click.BadParameter(
                f"give a number of seconds up to {MAX_TIMEOUT:g}", param_hint=name
            )
    auth = _auth(bearer_token_env, basic_auth_user, basic_auth_password_env, headers, ca_file)
    if signoffs is not None and not signoffs.is_dir():
        raise click.BadParameter(f"{signoffs} is not a directory", param_hint="--signoffs")
    try:
        client = PrometheusClient(url, auth, timeout=timeout, run_timeout=deadline)
    except (ssl.SSLError, OSError) as error:
        raise click.BadParameter(
            f"{ca_file} holds no usable CA certificates (PEM): {error}", param_hint="--ca-file"
        ) from error
    try:
        result = run(client, list(specs) or [DEFAULT_SPECS], services, slo_names, signoffs)
    except Exception as error:  # a bug must not exit 1, which means BLOCK, let alone 0
        # Only the kind of error: its text may quote a header, and so a secret.
        reason = Reason(
            Verdict.UNKNOWN, "internal-error", f"the gate failed ({type(error).__name__})"
        )
        result = _report(client, None, [_placeholder("*", "*", reason)], [])
    try:
        _emit(result, output_format, output)
    except OSError as error:
        click.echo(f"slo gate: cannot write the report: {error}", err=True)
        click.echo(result.headline, err=True)
        sys.exit(2)
    sys.exit(result.verdict.exit_code)


def run(
    client: PrometheusClient,
    spec_paths: Sequence[Path],
    services: Sequence[str] = (),
    slo_names: Sequence[str] = (),
    signoff_dir: Path | None = None,
) -> formats.GateReport:
    """Compile the specs, select SLOs, read sign-offs, ask the server, decide."""
    compiled = pipeline.compile_specs(spec_paths)
    problems = [d for d in compiled.diagnostics if d.severity is Severity.ERROR]
    if not compiled.ok:
        reason = Reason(
            Verdict.UNKNOWN,
            "invalid-specs",
            f"the specs do not compile ({len(problems)} error(s), listed under problems); "
            "the gate cannot know what to check",
        )
        return _report(client, None, [_placeholder("*", "*", reason)], problems)
    selected, results, notes = select(compiled.specs, services, slo_names)
    signoff_set = load_signoffs(
        signoff_dir if signoff_dir is not None else DEFAULT_SIGNOFFS, compiled.specs
    )
    evaluated_at = None
    if selected:
        evaluated_at, judged = judge_all(client, selected, signoff_set)
        results = judged + results
    if not results:
        reason = Reason(Verdict.UNKNOWN, "nothing-selected", "no SLO to judge was selected")
        results = [_placeholder("*", "*", reason)]
    return _report(client, evaluated_at, results, [*notes, *signoff_set.diagnostics])


def select(
    specs: SpecSet, services: Sequence[str], slo_names: Sequence[str]
) -> tuple[list[tuple[ServiceSpec, SLO]], list[SloResult], list[Diagnostic]]:
    """The SLOs to judge; UNKNOWN results for names the specs do not have; notes for SLOs
    left out because they have no alerts."""
    known = {spec.service.name: spec for spec in specs.services}
    missing: list[SloResult] = []
    for name in dict.fromkeys(services):
        if name not in known:
            missing.append(
                _placeholder(
                    name,
                    "*",
                    Reason(
                        Verdict.UNKNOWN, "not-in-specs", f"service '{name}' is not in the specs"
                    ),
                )
            )
    chosen = [known[name] for name in dict.fromkeys(services) if name in known] or (
        [] if services else list(specs.services)
    )
    selected: list[tuple[ServiceSpec, SLO]] = []
    notes: list[Diagnostic] = []
    for name in dict.fromkeys(slo_names):
        if not any(slo.name == name for spec in chosen for slo in spec.slos):
            scope = f" of service {', '.join(services)}" if services else ""
            missing.append(
                _placeholder(
                    services[0] if len(services) == 1 else "*",
                    name,
                    Reason(
                        Verdict.UNKNOWN, "not-in-specs", f"SLO '{name}'{scope} is not in the specs"
                    ),
                )
            )
    for spec in chosen:
        for slo in spec.slos:
            if slo_names and slo.name not in slo_names:
                continue
            if not slo.tiers and not slo_names:
                notes.append(
                    Diagnostic(
                        slo.location,
                        "alerting is disabled for this SLO, so the gate does not judge it",
                        Severity.WARNING,
                    )
                )
                continue
            selected.append((spec, slo))
    return selected, missing, notes


def _placeholder(service: str, slo: str, reason: Reason) -> SloResult:
    return SloResult(service, slo, None, None, None, (reason,))


def _report(
    client: PrometheusClient,
    evaluated_at: float | None,
    results: Sequence[SloResult],
    problems: Sequence[Diagnostic],
) -> formats.GateReport:
    return formats.GateReport(
        verdict=overall([r.verdict for r in results]),
        prometheus=client.shown_url,
        evaluated_at=evaluated_at,
        results=tuple(results),
        problems=tuple(problems),
    )


def _auth(
    bearer_env: str | None,
    basic_user: str | None,
    password_env: str | None,
    headers: Sequence[str],
    ca_file: Path | None,
) -> Auth:
    if bearer_env and (basic_user or password_env):
        raise click.UsageError("give either a bearer token or basic auth, not both")
    token = _secret(bearer_env, "--bearer-token-env") if bearer_env else None
    if password_env and not basic_user:
        raise click.UsageError("--basic-auth-password-env needs --basic-auth-user")
    password = _secret(password_env, "--basic-auth-password-env") if password_env else None
    pairs = []
    for header in headers:
        name, sep, value = header.partition(":")
        if (
            not sep
            or not name.strip()
            or any(c in name for c in " \t")
            or not (_header_safe(name) and _header_safe(value))
        ):
            raise click.BadParameter(f"{header!r} is not 'Name: value'", param_hint="--header")
        pairs.append((name.strip(), value.strip()))
    return Auth(token, basic_user, password, tuple(pairs), ca_file)


def _header_safe(text: str) -> bool:
    """Whether ``text`` can be sent in an HTTP header: Latin-1, no control characters."""
    return all(32 <= ord(c) < 256 and ord(c) != 127 for c in text)


def _secret(variable: str, option: str) -> str:
    value = os.environ.get(variable)
    if not value:
        raise click.BadParameter(f"environment variable {variable} is not set", param_hint=option)
    if not _header_safe(value):
        # Named, never shown: a newline (often a file's last line) cannot go in a header.
        raise click.BadParameter(
            f"environment variable {variable} holds a control character (a trailing "
            "newline?) or one outside Latin-1: it cannot be sent in a header",
            param_hint=option,
        )
    return value


def _emit(result: formats.GateReport, output_format: str, output: Path | None) -> None:
    if output_format == "json":
        body = formats.json_text(result)
    elif output_format == "junit":
        body = formats.junit(result)
    elif output_format == "github":
        body = formats.github_annotations(result)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with open(summary, "a", encoding="utf-8") as stream:
                stream.write(formats.github_summary(result))
        else:
            body += "\n" + formats.github_summary(result)
    else:
        body = formats.text(result)
    if output is None:
        click.echo(body, nl=False)
        return
    output.write_text(body, encoding="utf-8")
    click.echo(result.headline)

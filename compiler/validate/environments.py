"""Environment documents (``kind: Environment``): schema, model, and checks against services.

An environment is checked on its own (version, memory limit, headers, durations) and then
against the services: it carries exactly those that send through its pipeline, spans arrive by
OTLP, and the environments a span latency SLO reaches agree on the histogram's unit (its rules
read one name).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from compiler import conventions
from compiler.diagnostics import Diagnostic, Severity
from compiler.durations import Duration
from compiler.load.loader import Document, PathKey
from compiler.load.schema_check import check as schema_check
from compiler.model import otel_versions, span_metrics
from compiler.model.environment import (
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_PIPELINE,
    HTTP,
    LOGS,
    SCRAPED_BY_BACKEND,
    THROUGH_PIPELINE,
    TRACES,
    Auth,
    Delivery,
    Destination,
    Environment,
    MemoryLimit,
    ScrapeJob,
    SpanMetricsSettings,
)
from compiler.model.service import ServiceSpec
from compiler.validate import log_metrics
from compiler.validate.context import Checker, parse_duration, to_decimal
from compiler.validate.span_slis import span_sli

KIND = "Environment"
SCHEMA = "environment-v1.schema.json"
# Durations of at least this long keep retry settings valid (max_elapsed_time >= max_interval).
MIN_OUTAGE = Duration.parse("1m")
DEFAULT_SCRAPE_INTERVAL = Duration.parse("15s")


def build_environment(document: Document) -> tuple[Environment | None, list[Diagnostic]]:
    """Validate one environment document and build its model."""
    found = schema_check(document, SCHEMA)
    if found:
        return None, found
    check = Checker(document)
    data: dict[str, Any] = document.data
    collector = data["collector"]
    version = _version(check, collector.get("version"))
    memory = _memory(check, collector["memory_limit"])
    delivery = _delivery(check, data["delivery"])
    logs = _destinations(check, LOGS, data.get("logs", []))
    traces = _destinations(check, TRACES, data.get("traces", []))
    scrape = _scrape_jobs(check, data["sources"].get("scrape", []))
    self_metrics = collector.get("self_metrics", SCRAPED_BY_BACKEND)
    if self_metrics == THROUGH_PIPELINE:
        for index, job in enumerate(scrape):
            if job.job == conventions.COLLECTOR_JOB:
                check.error(
                    ("sources", "scrape", index, "job"),
                    f"job '{job.job}' is the collector's scrape of itself; choose another",
                )
    raw_spans = data.get("span_metrics", {})
    spans = SpanMetricsSettings(
        unit=raw_spans.get("unit", span_metrics.DEFAULT_UNIT),
        buckets=_buckets(check, raw_spans.get("buckets")),
        flush_interval=parse_duration(
            check, ("span_metrics", "flush_interval"), raw_spans.get("flush_interval")
        )
        or DEFAULT_FLUSH_INTERVAL,
    )
    if any(d.severity is Severity.ERROR for d in check.diagnostics) or version is None:
        return None, check.diagnostics
    assert delivery is not None
    environment = Environment(
        name=data["environment"]["name"],
        description=data["environment"].get("description", ""),
        version=version,
        memory=memory,
        persistence_directory=collector["persistence_directory"].rstrip("/") or "/",
        delivery=delivery,
        source=document.file,
        self_metrics=self_metrics,
        pipeline=collector.get("pipeline", DEFAULT_PIPELINE),
        otlp_services=tuple(data["sources"].get("otlp", [])),
        scrape=tuple(scrape),
        labels=tuple(sorted(data.get("labels", {}).items())),
        span_metrics=spans,
        logs=tuple(logs),
        traces=tuple(traces),
        drop_unused_series=data.get("drop_unused_series", False),
        document=document,
    )
    return environment, check.diagnostics


def _version(check: Checker, text: str | None) -> otel_versions.Version | None:
    if text is None:
        return otel_versions.DEFAULT_VERSION
    path: PathKey = ("collector", "version")
    version = otel_versions.Version.parse(text)
    if version < otel_versions.MIN_VERSION:
        check.error(
            path,
            f"collector {version} is older than {otel_versions.MIN_VERSION}, the oldest release "
            "the generated configs support (see docs/otel.md)",
        )
        return None
    if version > otel_versions.NEWEST_CHECKED:
        check.warn(
            path,
            f"collector {version} is newer than {otel_versions.NEWEST_CHECKED}, the newest "
            "release checked; component names are assumed unchanged since",
        )
    return version


def _memory(check: Checker, raw: dict[str, Any]) -> MemoryLimit:
    path: PathKey = ("collector", "memory_limit")
    pairs = (("limit_mib", "spike_limit_mib"), ("limit_percentage", "spike_limit_percentage"))
    given = [limit for limit, _ in pairs if limit in raw]
    if len(given) != 1:
        check.error(path, "give exactly one of limit_mib or limit_percentage")
    for limit, spike in pairs:
        if spike in raw and limit not in raw:
            check.error((*path, spike), f"{spike} needs {limit}")
        elif spike in raw and raw[spike] >= raw[limit]:
            check.error((*path, spike), f"must be below {limit} ({raw[limit]})")
    parse_duration(check, (*path, "check_interval"), raw.get("check_interval"))
    return MemoryLimit(
        limit_mib=raw.get("limit_mib"),
        spike_limit_mib=raw.get("spike_limit_mib"),
        limit_percentage=raw.get("limit_percentage"),
        spike_limit_percentage=raw.get("spike_limit_percentage"),
        check_interval=raw.get("check_interval", "1s"),
    )


def _delivery(check: Checker, raw: dict[str, Any]) -> Delivery | None:
    path: PathKey = ("delivery",)
    auth, headers = _credentials(check, path, raw)
    outage = _outage(check, path, raw)
    if outage is None:
        return None
    return Delivery(
        mode=raw["mode"],
        endpoint=raw["endpoint"],
        outage=outage,
        points_per_second=raw["points_per_second"],
        auth=auth,
        headers=headers,
    )


def _credentials(
    check: Checker, path: PathKey, raw: dict[str, Any]
) -> tuple[Auth | None, tuple[tuple[str, str], ...]]:
    """The auth header and the further headers of a delivery or destination at ``path``."""
    auth = None
    if "auth" in raw:
        auth = Auth(
            token=raw["auth"]["token"],
            header=raw["auth"].get("header", "Authorization"),
            scheme=raw["auth"].get("scheme", "Bearer"),
        )
    headers = raw.get("headers", {})
    for name in sorted(headers):
        if name.lower() in ("authorization", (auth.header if auth else "").lower()):
            check.error(
                (*path, "headers", name),
                f"credentials go under {_dotted(path)}.auth as an ${{env:...}} reference, "
                "not in headers",
            )
    return auth, tuple(sorted(headers.items()))


def _dotted(path: PathKey) -> str:
    """``delivery`` or ``logs[0]``: a path as the messages name it."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _outage(check: Checker, path: PathKey, raw: dict[str, Any]) -> Duration | None:
    outage = parse_duration(check, (*path, "outage"), raw["outage"])
    if outage is not None and outage < MIN_OUTAGE:
        check.error((*path, "outage"), f"must be at least {MIN_OUTAGE}")
    return outage


def _destinations(check: Checker, signal: str, raw: list[dict[str, Any]]) -> list[Destination]:
    """The OTLP destinations of logs or traces; names are unique per signal (they name the
    exporter and the pipeline)."""
    found: list[Destination] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        path: PathKey = (signal, index)
        name = item["name"]
        if name in seen:
            check.error((*path, "name"), f"'{name}' is also {signal}[{seen[name]}]")
        seen.setdefault(name, index)
        if item["protocol"] == HTTP and not item["endpoint"].startswith(("http://", "https://")):
            check.error((*path, "endpoint"), "protocol http needs a URL (http:// or https://)")
        auth, headers = _credentials(check, path, item)
        outage = _outage(check, path, item)
        if outage is None:
            continue
        percentage = item.get("sampling_percentage")
        found.append(
            Destination(
                signal=signal,
                name=name,
                protocol=item["protocol"],
                endpoint=item["endpoint"],
                outage=outage,
                per_second=item["records_per_second" if signal == LOGS else "spans_per_second"],
                auth=auth,
                headers=headers,
                events=tuple(item.get("events", [])),
                sampling_percentage=None if percentage is None else to_decimal(percentage),
            )
        )
    return found


def _scrape_jobs(check: Checker, raw: list[dict[str, Any]]) -> list[ScrapeJob]:
    jobs: list[ScrapeJob] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        path: PathKey = ("sources", "scrape", index)
        name = item.get("job", item["service"])
        if name in seen:
            check.error((*path, "job"), f"job '{name}' is also scrape[{seen[name]}]; give 'job'")
            continue
        seen[name] = index
        jobs.append(
            ScrapeJob(
                service=item["service"],
                job=name,
                targets=tuple(item["targets"]),
                interval=parse_duration(check, (*path, "interval"), item.get("interval"))
                or DEFAULT_SCRAPE_INTERVAL,
                metrics_path=item.get("metrics_path", "/metrics"),
                scheme=item.get("scheme", "http"),
            )
        )
    return jobs


def _buckets(check: Checker, raw: list[float] | None) -> tuple[Decimal, ...] | None:
    if raw is None:
        return None
    bounds = []
    for index, value in enumerate(raw):
        bound = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        try:
            span_metrics.as_collector_duration(bound)
        except ValueError as exc:
            check.error(("span_metrics", "buckets", index), str(exc))
        bounds.append(bound)
    return tuple(sorted(bounds))


def cross_checks(
    environments: Sequence[Environment], services: Iterable[ServiceSpec]
) -> list[Diagnostic]:
    """Problems between environments, and between environments and the services they carry."""
    problems: list[Diagnostic] = []
    by_name = {spec.service.name: spec for spec in services}
    first: dict[str, Environment] = {}
    for environment in environments:
        if environment.name in first:
            problems.append(
                Diagnostic(
                    environment.location,
                    f"environment '{environment.name}' is also defined in "
                    f"{first[environment.name].source}",
                )
            )
        first.setdefault(environment.name, environment)
        problems.extend(_source_checks(environment, by_name))
    problems.extend(_unit_agreement(environments, by_name.values()))
    problems.extend(log_metrics.carrier_checks(environments, by_name.values()))
    return problems


def _source_checks(environment: Environment, services: dict[str, ServiceSpec]) -> list[Diagnostic]:
    problems = []
    known = sorted(services)
    for path, name in _named_sources(environment):
        if name in services:
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            Diagnostic(environment.locate(path), f"no service '{name}' in the specs{hint}")
        )
    problems.extend(_pipeline_membership(environment, services))
    for signal, destinations in (("logs", environment.logs), ("traces", environment.traces)):
        if destinations and not environment.otlp_services:
            problems.append(
                Diagnostic(
                    environment.locate((signal,)),
                    f"{signal} arrive only by OTLP, and no service is listed under sources.otlp",
                )
            )
    problems.extend(_scrape_windows(environment, services))
    scraped_only = {job.service for job in environment.scrape} - set(environment.otlp_services)
    for name in sorted(scraped_only & set(services)):
        if any(slo.spans for slo in services[name].slos):
            problems.append(
                Diagnostic(
                    environment.locate(("sources", "scrape")),
                    f"service '{name}' has SLOs from spans, and spans arrive only by OTLP: "
                    "list it under sources.otlp",
                )
            )
    return problems


def _scrape_windows(environment: Environment, services: dict[str, ServiceSpec]) -> list[Diagnostic]:
    """Every window a scraped service's alerts compute a rate over holds two samples: it is
    at least twice the scrape interval (the 1m minimum of a spec assumes 30s or less)."""
    problems = []
    for index, job in enumerate(environment.scrape):
        spec = services.get(job.service)
        if spec is None:
            continue
        needed = Duration(2 * job.interval.seconds)
        windows = [
            (f"tier '{tier.alert}' of SLO '{slo.name}'", tier.short_window)
            for slo in spec.slos
            for tier in slo.tiers
        ] + [
            (f"signal '{signal.name}'", window)
            for signal in spec.signals
            for window in [getattr(signal.condition, "window", None)]
            if isinstance(window, Duration)
        ]
        for what, window in windows:
            if window < needed:
                problems.append(
                    Diagnostic(
                        environment.locate(("sources", "scrape", index, "interval")),
                        f"service '{job.service}' is scraped every {job.interval}, but {what} "
                        f"computes a rate over {window}: a window holds two samples only if it "
                        f"is at least twice the interval ({needed}); scrape more often or "
                        "widen the window",
                    )
                )
    return problems


def _pipeline_membership(
    environment: Environment, services: dict[str, ServiceSpec]
) -> list[Diagnostic]:
    """The services whose data arrives through this pipeline, and only they, are carried.

    A service Prometheus scrapes itself would arrive twice, and its alerts would not be held
    back while the collector is down; one missing would have no data here.
    """
    problems = []
    carried = environment.services
    for path, name in _named_sources(environment):
        spec = services.get(name)
        if spec is not None and spec.service.telemetry != environment.pipeline:
            arrives = spec.service.telemetry or "Prometheus's own scrape"
            problems.append(
                Diagnostic(
                    environment.locate(path),
                    f"service '{name}' does not send through '{environment.pipeline}' (its data "
                    f"arrives by {arrives}); set its service.telemetry: {environment.pipeline}, "
                    "or do not carry it here",
                )
            )
    for name, spec in sorted(services.items()):
        if spec.service.telemetry == environment.pipeline and name not in carried:
            problems.append(
                Diagnostic(
                    environment.locate(("sources",)),
                    f"service '{name}' sends through '{environment.pipeline}' "
                    "(service.telemetry) but is in neither sources.otlp nor sources.scrape",
                    Severity.WARNING,
                )
            )
    return problems


def _named_sources(environment: Environment) -> list[tuple[PathKey, str]]:
    """(path, service) of every source the environment names."""
    return [(("sources", "otlp", i), name) for i, name in enumerate(environment.otlp_services)] + [
        (("sources", "scrape", i, "service"), job.service)
        for i, job in enumerate(environment.scrape)
    ]


def _unit_agreement(
    environments: Sequence[Environment], services: Iterable[ServiceSpec]
) -> list[Diagnostic]:
    """A service's span latency rules read one histogram name: its environments must agree."""
    problems: dict[Diagnostic, None] = {}
    for spec in services:
        if not any(slo.spans and slo.spans.threshold_seconds for slo in spec.slos):
            continue
        carrying = _carrying(environments, spec)
        units = sorted({env.span_metrics.unit for env in carrying})
        if len(units) < 2:
            continue
        for env in carrying:
            message = (
                f"environments carrying '{spec.service.name}' disagree on the span histogram "
                f"unit ({', '.join(units)}); its latency rules read one unit, so set the same "
                "unit in all of them"
            )
            problems[Diagnostic(env.locate(("span_metrics", "unit")), message)] = None
    return list(problems)


def _carrying(environments: Sequence[Environment], spec: ServiceSpec) -> list[Environment]:
    """The environments the service's spans reach (by OTLP)."""
    return [env for env in environments if spec.service.name in env.otlp_services]


def with_span_unit(
    services: Sequence[ServiceSpec], environments: Sequence[Environment]
) -> list[ServiceSpec]:
    """Services whose spans SLIs read the histogram in their environments' (agreed) unit.

    Specs are built before environments are known, with the connector's default unit.
    """
    updated = []
    for spec in services:
        units = {env.span_metrics.unit for env in _carrying(environments, spec)}
        unit = units.pop() if len(units) == 1 else span_metrics.DEFAULT_UNIT
        if unit != span_metrics.DEFAULT_UNIT:
            slos = tuple(
                dataclasses.replace(slo, sli=span_sli(slo.spans, unit)) if slo.spans else slo
                for slo in spec.slos
            )
            spec = dataclasses.replace(spec, slos=slos)
        updated.append(spec)
    return updated

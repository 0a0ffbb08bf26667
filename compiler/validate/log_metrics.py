"""Counters made from log records (``from_logs`` in a metric catalog): the declaration, and
whether the environments that carry the service can make them.

The count connector runs only on log records that reach a collector by OTLP, so a service
whose signals or dashboards read such a counter must be in ``sources.otlp`` of every
environment that carries it (a scrape brings metrics, never logs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from compiler.diagnostics import Diagnostic, Severity
from compiler.load.loader import PathKey
from compiler.model.environment import Environment
from compiler.model.log_metrics import LogCount, prometheus_name
from compiler.model.service import ServiceSpec
from compiler.validate.context import Checker


def log_count(check: Checker, service: str, metric: str, entry: dict[str, Any]) -> LogCount | None:
    """The ``from_logs`` of catalog entry ``metric`` (``entry``), checked."""
    raw, kind = entry.get("from_logs"), entry["type"]
    if raw is None:
        return None
    path: PathKey = ("metrics", metric, "from_logs")
    if kind != "counter":
        check.error(path, f"a metric counted from log records is a counter, not a {kind}")
    arrives = prometheus_name(raw["name"])
    if arrives != metric:
        check.error(
            (*path, "name"),
            f"'{raw['name']}' arrives in Prometheus as '{arrives}' (OTLP translation of a "
            f"counter), not '{metric}'; rename one so that they agree",
        )
    return LogCount(
        name=raw["name"],
        service=service,
        events=tuple(raw["events"]),
        description=entry.get("help", ""),
    )


def log_counts(spec: ServiceSpec) -> list[LogCount]:
    """The counters a service's log records make."""
    return [metric.from_logs for metric in spec.metrics if metric.from_logs is not None]


def carrier_checks(
    environments: Sequence[Environment], services: Iterable[ServiceSpec]
) -> list[Diagnostic]:
    """Every environment carrying a service with log-made counters receives its OTLP."""
    problems = []
    for spec in services:
        counts = log_counts(spec)
        if not counts:
            continue
        name = spec.service.name
        names = ", ".join(sorted(count.name for count in counts))
        carrying = [env for env in environments if name in env.services]
        for env in carrying:
            if name not in env.otlp_services:
                problems.append(
                    Diagnostic(
                        env.locate(("sources", "scrape")),
                        f"service '{name}' has counters made from its log records ({names}), "
                        "and log records arrive only by OTLP: list it under sources.otlp",
                    )
                )
        if environments and not carrying:
            problems.append(
                Diagnostic(
                    spec.location,
                    f"no environment carries service '{name}': nothing counts its log "
                    f"records ({names}), so the series are never produced",
                    Severity.WARNING,
                )
            )
    return problems

"""The Prometheus rules target: one rule file per service, its SLOs' groups then its signals'."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler import conventions
from compiler.model.service import ServiceSpec, SpecSet
from compiler.outputs import OutputFile, generated_header
from compiler.targets.prometheus import signal_rules
from compiler.targets.prometheus.slo_rules import slo_rule_group


def rule_files(specs: SpecSet) -> Iterator[OutputFile]:
    """One rule file per service, each built when it is asked for (the writer streams)."""
    for spec in specs.services:
        yield from service_files(spec)


def service_files(spec: ServiceSpec) -> list[OutputFile]:
    """The rule file of one service."""
    return [
        OutputFile(
            conventions.rules_path(spec.service.name),
            service_rules(spec),
            header=generated_header(spec.source),
            source=spec.source,
        )
    ]


def service_rules(spec: ServiceSpec) -> dict[str, Any]:
    """The rule file of one service: one group per SLO, then one for its signals."""
    groups = [slo_rule_group(spec.service, slo) for slo in spec.slos]
    return {"groups": groups + signal_rules.rule_groups(spec)}

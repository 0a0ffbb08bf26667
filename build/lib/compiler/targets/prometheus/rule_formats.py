"""The rule files in the shapes deployment tools load: prometheus-operator and Mimir/Cortex.

Both wrap exactly the groups of :mod:`compiler.targets.prometheus`, one object or namespace
per service:

- ``prometheus-operator``: a ``monitoring.coreos.com/v1`` ``PrometheusRule`` per service,
  with labels for the Prometheus ``ruleSelector`` and an optional namespace;
- ``mimir``: a rule namespace per service (``namespace:`` and ``groups:``), the file format
  of ``mimirtool rules load|sync|diff`` and ``cortextool rules load``.

The plain files (``prometheus``) are what Prometheus, the Thanos ruler and the Mimir/Cortex
rulers' local storage read; they are always written, since the generated tests and
``promtool`` check them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler import conventions
from compiler.model.service import SpecSet
from compiler.outputs import OutputFile, generated_header
from compiler.targets.prometheus.rule_files import service_rules

PROMETHEUS = "prometheus"
PROMETHEUS_OPERATOR = "prometheus-operator"
MIMIR = "mimir"
FORMATS = (PROMETHEUS, PROMETHEUS_OPERATOR, MIMIR)

MANAGED_BY = {"app.kubernetes.io/managed-by": "slo-compiler"}
SERVICE_LABEL = "slo-compiler.dev/service"

# Kubernetes object names and labels (RFC 1123 names; qualified label names).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_PART = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_WORDS = "must be at most 63 letters, digits, '-', '_' and '.', alphanumeric at both ends"


@dataclass(frozen=True)
class OperatorOptions:
    """What the cluster's prometheus-operator needs to pick the objects up."""

    namespace: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)  # for the ruleSelector


def rule_files(
    specs: SpecSet, formats: Sequence[str], operator: OperatorOptions | None = None
) -> list[OutputFile]:
    """The rule files in each non-default format of ``formats``."""
    files: list[OutputFile] = []
    if PROMETHEUS_OPERATOR in formats:
        files.extend(prometheus_rules(specs, operator or OperatorOptions()))
    if MIMIR in formats:
        files.extend(ruler_namespaces(specs))
    return files


def prometheus_rules(specs: SpecSet, options: OperatorOptions) -> list[OutputFile]:
    """One ``PrometheusRule`` object per service."""
    files = []
    for spec in specs.services:
        name = spec.service.name
        metadata: dict[str, Any] = {"name": conventions.prometheus_rule_name(name)}
        if options.namespace:
            metadata["namespace"] = options.namespace
        metadata["labels"] = {**MANAGED_BY, SERVICE_LABEL: name, **options.labels}
        document = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": metadata,
            "spec": service_rules(spec),
        }
        files.append(
            OutputFile(
                conventions.prometheus_rule_path(name),
                document,
                header=generated_header(spec.source),
                source=spec.source,
            )
        )
    return files


def ruler_namespaces(specs: SpecSet) -> list[OutputFile]:
    """One rule namespace per service, named after it."""
    return [
        OutputFile(
            conventions.ruler_namespace_path(spec.service.name),
            {"namespace": spec.service.name, **service_rules(spec)},
            header=generated_header(spec.source),
            source=spec.source,
        )
        for spec in specs.services
    ]


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` cannot be a Kubernetes namespace, or None."""
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        return "a namespace is lower-case letters, digits and '-', at most 63 characters"
    return None


def label_problem(key: str, value: str) -> str | None:
    """Why ``key=value`` cannot be a Kubernetes label, or None."""
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "the key's prefix must be a DNS subdomain (e.g. example.com)"
    if len(name) > 63 or not _LABEL_PART.match(name):
        return f"the key's name {_LABEL_WORDS}"
    if value and (len(value) > 63 or not _LABEL_PART.match(value)):
        return f"the value {_LABEL_WORDS}"
    return None

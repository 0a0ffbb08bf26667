"""Which series a generated collector config delivers, and which ones the generated rules read.

Worked out from the generated files themselves (rule files, dashboards, collector configs) and
the services' declared metric catalogs, independently of how the compiler derived them, so a
pipeline that loses a series the rules need is caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from compiler import conventions
from compiler.model.environment import SCRAPED_BY_BACKEND, Environment
from compiler.model.service import ServiceSpec, SpecSet
from compiler.targets.grafana import lint
from compiler.targets.otel import names as otel_names

_UNIT_WORDS = {"ms": "milliseconds", "s": "seconds"}
_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


@dataclass(frozen=True)
class Read:
    """A series selector a rule or dashboard reads: a name or a name regex, and a job."""

    owner: str  # service (rule file stem) or dashboard file
    name: str | None
    name_regex: str | None = None
    job: str | None = None

    def matches(self, produced: str) -> bool:
        if self.name is not None:
            return produced == self.name
        assert self.name_regex is not None
        return re.fullmatch(self.name_regex, produced) is not None

    def __str__(self) -> str:
        name = self.name or f'{{__name__=~"{self.name_regex}"}}'
        return f"{name}{f' (job {self.job})' if self.job else ''} read by {self.owner}"


def _op(matcher: Any) -> str:
    return _OPS[str(matcher.op).rsplit(".", 1)[-1]]


def reads_in(expr: str, owner: str, recorded: set[str]) -> Iterator[Read]:
    """Raw series an expression reads (recording-rule outputs excluded)."""
    found: list[Read] = []

    def visit(node: Any) -> bool:
        if type(node).__name__ != "VectorSelector":
            return True
        matchers = {m.name: (_op(m), m.value) for m in node.matchers.matchers}
        job = matchers.get("job", ("", None))
        job_name = job[1] if job[0] == "=" else None
        if node.name:
            found.append(Read(owner, node.name, job=job_name))
        elif "__name__" in matchers:
            op, value = matchers["__name__"]
            found.append(
                Read(owner, value if op == "=" else None, value if op == "=~" else None, job_name)
            )
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    # A counter read in both spellings (``x or x_total``) needs only one of them.
    names = {r.name for r in found}
    for read in found:
        if read.name in recorded or (read.name and f"{read.name}_total" in names):
            continue
        if read.name and read.name.endswith("_total") and read.name[: -len("_total")] in names:
            read = Read(owner, None, f"{read.name[: -len('_total')]}(_total)?", read.job)
        yield read


def rule_reads(rule_files: Iterable[Path]) -> list[Read]:
    """Raw series the rules in ``rule_files`` read, each owned by its file's service."""
    documents = {path: yaml.safe_load(path.read_text()) for path in rule_files}
    rules = {
        path: [rule for group in doc["groups"] for rule in group["rules"]]
        for path, doc in documents.items()
    }
    recorded = {rule["record"] for rs in rules.values() for rule in rs if "record" in rule}
    return [
        read
        for path, rs in rules.items()
        for rule in rs
        for read in reads_in(rule["expr"], path.name.removesuffix(".rules.yml"), recorded)
    ]


def dashboard_reads(dashboard_files: Iterable[Path], recorded: set[str]) -> list[Read]:
    """Raw series the panels of Grafana dashboards query (variables expanded as Grafana does)."""
    found = []
    for path in dashboard_files:
        board = json.loads(path.read_text())
        for expr in _exprs(board):
            found.extend(reads_in(lint.expand(board, expr), path.name, recorded))
    return found


def _exprs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "expr" and isinstance(child, str) and child.strip():
                yield child
            else:
                yield from _exprs(child)
    elif isinstance(value, list):
        for child in value:
            yield from _exprs(child)


def catalog(spec: ServiceSpec, exported_only: bool = False) -> set[str]:
    """Prometheus series of a service's metric catalog (``exported_only``: without the
    counters the collector makes from its log records; the service does not export those)."""
    names = set()
    for metric in spec.metrics:
        if exported_only and metric.from_logs is not None:
            continue
        if metric.type == "histogram":
            names.update(f"{metric.name}_{suffix}" for suffix in ("bucket", "count", "sum"))
        else:
            names.add(metric.name)
    return names


@dataclass
class Produced:
    """Series names an environment delivers, with the job of each scrape."""

    names: set[str]
    jobs: set[str]
    dropped: set[str]  # produced, but removed by the config's filter


def produced(config: dict[str, Any], environment: Environment, specs: SpecSet) -> Produced:
    """What the collector config ``config`` of ``environment`` delivers to the backend."""
    services = {spec.service.name: spec for spec in specs.services}
    metrics_pipelines = [
        p for pid, p in config["service"]["pipelines"].items() if pid.split("/")[0] == "metrics"
    ]
    receivers = {r for p in metrics_pipelines for r in p["receivers"]}
    processors = [config["processors"][pid] for p in metrics_pipelines for pid in p["processors"]]
    names: set[str] = set()
    jobs: set[str] = set()
    scrape_jobs = {job.job: job for job in environment.scrape}
    for receiver in receivers:
        receiver_type = receiver.split("/")[0]
        if receiver_type == "otlp":
            for name in environment.otlp_services:
                names |= catalog(services[name], exported_only=True)
        elif receiver_type == "prometheus":
            for job in config["receivers"][receiver]["config"]["scrape_configs"]:
                jobs.add(job["job_name"])
                names.add("up")
                if job["job_name"] == conventions.COLLECTOR_JOB:
                    names |= otel_names.self_metric_names(with_total=True)
                else:
                    service = services[scrape_jobs[job["job_name"]].service]
                    names |= catalog(service, exported_only=True)
        elif receiver_type in ("span_metrics", "spanmetrics"):
            connector = config["connectors"][receiver]
            prefix = connector.get("namespace", "traces.span.metrics").replace(".", "_")
            unit = _UNIT_WORDS[connector["histogram"]["unit"]]
            names.add(f"{prefix}_calls_total")
            names |= {f"{prefix}_duration_{unit}_{s}" for s in ("bucket", "count", "sum")}
        elif receiver_type == "count":
            # Unitless monotonic sums: Prometheus's translation joins the name's words with
            # "_" and appends "_total" (written out here, not taken from the compiler).
            for name in config["connectors"][receiver].get("logs", {}):
                words = [w for w in re.split(r"[^a-zA-Z0-9]+", name) if w]
                names.add("_".join(words + ([] if words[-1] == "total" else ["total"])))
    readers = config["service"].get("telemetry", {}).get("metrics", {}).get("readers", [])
    if readers and environment.self_metrics == SCRAPED_BY_BACKEND:
        exposed = readers[0]["pull"]["exporter"]["prometheus"]
        with_total = not exposed.get("without_type_suffix", False)
        names |= otel_names.self_metric_names(with_total=with_total) | {"up"}
        jobs.add(conventions.COLLECTOR_JOB)
    dropped = {name for name in names if _filtered_out(name, processors)}
    return Produced(names - dropped, jobs, dropped)


def _filtered_out(name: str, processors: list[dict[str, Any]]) -> bool:
    """Whether a filter drops the metric in the spellings it may have inside the collector."""
    for settings in processors:
        conditions = settings.get("metric_conditions") or settings.get("metrics", {}).get(
            "metric", []
        )
        for condition in conditions:
            match = re.fullmatch(r'not IsMatch\((?:metric\.)?name, "(.*)"\)', condition)
            assert match, f"unexpected filter condition {condition!r}"
            pattern = match.group(1).replace("$$", "$")
            if not all(re.search(pattern, spelling) for spelling in _spellings(name)):
                return True
    return False


def _spellings(name: str) -> set[str]:
    """A Prometheus name as a scrape and as an OTel SDK may spell it inside the collector."""
    base = re.sub(r"_(bucket|count|sum)$", "", name)
    without_total = re.sub(r"_total$", "", base)
    otel = re.sub(r"_(seconds|milliseconds|bytes|ratio)$", "", without_total)
    return {base, without_total, otel.replace("_", ".")}


def missing(reads: Iterable[Read], delivered: Produced) -> list[str]:
    """Reads no produced series satisfies (``up`` also needs a scrape of its job)."""
    problems = set()
    for read in reads:
        unscraped = read.name == "up" and read.job is not None and read.job not in delivered.jobs
        if unscraped or not any(read.matches(name) for name in delivered.names):
            problems.add(str(read))
    return sorted(problems)

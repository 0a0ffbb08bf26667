"""The traffic questions `slo lint` and `slo explain` ask a server, and its answers as the
numbers they read. Pure: the command line runs the queries with the release gate's client
(compiler/gate/prometheus_api.py, which a review module may not import: siblings)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from compiler import conventions
from compiler.durations import Duration
from compiler.model.service import SpecSet
from compiler.model.slo import SLO
from compiler.targets.prometheus.slo_rules import SloSeries

# Traffic per (service, SLO, window): events per second per group.
Traffic = dict[tuple[str, str, str], dict[str, float]]


@dataclass(frozen=True)
class Question:
    """One instant query: the highest events rate over the period of a recorded window
    (``busiest``) or its current value."""

    service: str
    slo: str
    window: str
    expr: str


def group_key(slo: SLO, labels: Mapping[str, str]) -> str:
    """A group's labels of the SLO's group_by as ``tenant="a"`` ("" without group_by)."""
    return ", ".join(f'{name}="{labels.get(name, "")}"' for name in slo.group_by)


def busiest(specs: SpecSet) -> list[Question]:
    """For every guarded tier's long window and every period: the highest rate any group's
    window held over the last period (what the guard or budget will ever see)."""
    questions = []
    for slo in specs.slos:
        windows = {tier.long_window for tier in slo.tiers if tier.min_events} | {slo.period}
        for window in sorted(windows):
            questions.append(_question(slo, window, over=slo.period))
    return questions


def current(slo: SLO, windows: Iterable[Duration]) -> list[Question]:
    """The SLO's events rate now, over each of ``windows``."""
    return [_question(slo, window) for window in sorted(set(windows))]


def _question(slo: SLO, window: Duration, over: Duration | None = None) -> Question:
    selector = SloSeries(slo)(conventions.EVENTS_TOTAL, window)
    expr = f"max_over_time({selector}[{over}])" if over else selector
    return Question(slo.service, slo.name, str(window), expr)


def answers(
    specs: SpecSet,
    results: Iterable[tuple[Question, Iterable[tuple[Mapping[str, str], float]]]],
) -> Traffic:
    """The answers (per question: each series' labels and value) as :data:`Traffic`."""
    slos = {(slo.service, slo.name): slo for slo in specs.slos}
    traffic: Traffic = {}
    for question, series in results:
        slo = slos[(question.service, question.slo)]
        groups = traffic.setdefault((question.service, question.slo, question.window), {})
        for labels, value in series:
            groups[group_key(slo, labels)] = value
    return traffic

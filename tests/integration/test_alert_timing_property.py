"""An independent check of the generator of rule tests (issue 3, item 4).

Hypothesis draws traffic shapes (per tenant: rates and error ratios that step at chosen
minutes) for a small SLO. This file computes, in plain Python and from Prometheus's own
definitions (the extrapolated ``rate()``, ``avg_over_time`` over the recorded points, the
alert's ``for``), when each alert must fire, without using compiler.burn_rate or the
generator's model. It then checks that

1. the generator's model (compiler.targets.rule_tests.timeline, from which every generated
   test takes its expectations) predicts exactly the same alerts at every minute, and
2. promtool, on the compiled rules, agrees: one promtool run per drawn batch of tenants.

The SLO's thresholds and guard are chosen so that no drawn shape can put a window exactly
on a threshold (see _TENANT_RATE): a disagreement is then a bug in the model or in this
file, never float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import pipeline, writer
from compiler.synthetic import promtool
from compiler.targets.prometheus import rule_files, slo_rules
from compiler.targets.rule_tests.promtool_files import expected_alert
from compiler.targets.rule_tests.timeline import Phase, SloMath, Timeline

SPEC = """
apiVersion: slo-compiler/v1
kind: Service
service: {name: small, owner: team-test, runbook_base_url: https://runbooks.example/}
metrics:
  requests_total: {type: counter, labels: [tenant, code]}
slos:
  - name: requests
    objective: 99
    period: 1d
    group_by: [tenant]
    sli:
      ratio:
        bad: requests_total{code=~"5.."}
        total: requests_total
    alerting:
      low_traffic: false
      tiers:
        - {alert: SmallFast, severity: critical, long_window: 10m, short_window: 1m,
           burn_factor: 10.37}
        - {alert: SmallSlow, severity: warning, long_window: 30m, short_window: 5m,
           burn_factor: 4.13, for: 2m, min_events: 997}
"""
BUDGET = 0.01
# (alert, long, short, factor, for, min_events), windows and for in seconds.
TIERS = (
    ("SmallFast", 600, 60, 10.37, 0, 0),
    ("SmallSlow", 1800, 300, 4.13, 120, 997),
)
BASE = 60  # the shortest window: raw series are read over 1m
MINUTES = 100
# Thresholds are 1037/10000 and 413/10000 of events. Per-minute totals are even and at most
# 290, so a 30m window holds fewer than 10,000 events: no window's bad/total can equal a
# threshold, nor a guard (10 x events = 997 x points, 997 odd) be met exactly.
_TENANT_RATE = st.integers(0, 145).map(lambda half: 2 * half)
TENANTS = 12


@dataclass(frozen=True)
class Shape:
    """Per-minute (total, bad) events of one tenant, from each phase's start minute on."""

    phases: tuple[tuple[int, int, int], ...]  # (start minute, total, bad)

    def counts(self, minute: int) -> tuple[int, int]:
        current = (0, 0)
        for start, total, bad in self.phases:
            if start <= minute:
                current = (total, bad)
        return current


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    starts = sorted(draw(st.lists(st.integers(1, MINUTES - 5), max_size=3, unique=True)))
    phases = []
    for start in [0, *starts]:
        total = draw(_TENANT_RATE)
        # Error ratios from none to all, weighted towards the thresholds' neighbourhood.
        ratio = draw(st.one_of(st.floats(0, 1), st.floats(0.03, 0.15)))
        phases.append((start, total, min(total, round(total * ratio))))
    return Shape(tuple(phases))


# --- Prometheus's definitions, written out independently --------------------------------


def counter_samples(shape: Shape, good: bool) -> list[float]:
    """Counter values at every minute: good (total - bad) or bad events so far."""
    values, count = [], 0
    for minute in range(MINUTES + 1):
        values.append(float(count))
        total, bad = shape.counts(minute)
        count += (total - bad) if good else bad
    return values


def prom_rate(values: Sequence[float], t: int, range_seconds: int) -> float | None:
    """``rate(x[range])`` at ``t`` as Prometheus computes it (extrapolatedRate)."""
    first_minute = max(0, -(-(t - range_seconds) // 60))
    points = [(60 * m, values[m]) for m in range(first_minute, t // 60 + 1)]
    if len(points) < 2:
        return None
    (first_t, first_v), (last_t, last_v) = points[0], points[-1]
    result = last_v - first_v  # counters here never reset
    to_start = first_t - (t - range_seconds)
    to_end = t - last_t
    sampled = last_t - first_t
    average = sampled / (len(points) - 1)
    if result > 0 and first_v >= 0:
        to_zero = sampled * (first_v / result)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    return result * (interval / sampled) / range_seconds


def expected_firing(shape: Shape) -> list[set[str]]:
    """Alerts firing after each minute's evaluation, for one tenant."""
    good, bad = counter_samples(shape, True), counter_samples(shape, False)
    base_total: dict[int, float] = {}
    base_bad: dict[int, float] = {}
    for minute in range(MINUTES + 1):
        t = 60 * minute
        good_rate, bad_rate = prom_rate(good, t, BASE), prom_rate(bad, t, BASE)
        if good_rate is None or bad_rate is None:
            continue
        base_total[t] = good_rate + bad_rate  # sum by (tenant) over both series
        base_bad[t] = bad_rate

    def window(record: dict[int, float], t: int, seconds: int) -> float | None:
        if seconds == BASE:
            return record.get(t)
        points = [v for ts, v in record.items() if t - seconds <= ts <= t]
        return sum(points) / len(points) if points else None

    def ratio(t: int, seconds: int) -> float | None:
        total, bad_events = window(base_total, t, seconds), window(base_bad, t, seconds)
        if total is None or bad_events is None:
            return None
        return bad_events / total if total > 0 else 0.0

    active_since: dict[str, int] = {}
    firing: list[set[str]] = []
    for minute in range(MINUTES + 1):
        t = 60 * minute
        now = set()
        for alert, long, short, factor, hold, min_events in TIERS:
            long_ratio, short_ratio = ratio(t, long), ratio(t, short)
            long_total = window(base_total, t, long)
            holds = (
                long_ratio is not None
                and short_ratio is not None
                and long_total is not None
                and long_ratio / BUDGET > factor
                and short_ratio / BUDGET > factor
                and (not min_events or long_total * long >= min_events)
            )
            if not holds:
                active_since.pop(alert, None)
                continue
            active_since.setdefault(alert, t)
            if t - active_since[alert] >= hold:
                now.add(alert)
        firing.append(now)
    return firing


# --- the test ----------------------------------------------------------------------------


def _compiled(tmp_path: Path) -> tuple[Any, Path]:
    spec_file = tmp_path / "small.yaml"
    spec_file.write_text(SPEC)
    result = pipeline.compile_specs([spec_file])
    assert result.ok, result.diagnostics
    spec = result.specs.services[0]
    rules = tmp_path / "small.rules.yml"
    rules.write_text(writer.to_yaml(rule_files.service_rules(spec)))
    return spec, rules


def _series(tenant: str, shape: Shape) -> list[dict[str, str]]:
    return [
        {
            "series": f'requests_total{{code="{code}", tenant="{tenant}"}}',
            "values": " ".join(f"{v:.0f}" for v in counter_samples(shape, code == "200")),
        }
        for code in ("200", "500")
    ]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(shapes(), min_size=TENANTS, max_size=TENANTS))
def test_model_and_promtool_agree_with_the_documented_math(
    tmp_path_factory: Any, batch: list[Shape], promtool_path: str
) -> None:
    tmp_path = tmp_path_factory.mktemp("timing")
    spec, rules = _compiled(tmp_path)
    slo = spec.slos[0]
    assert [t.alert for t in slo.tiers] == [t[0] for t in TIERS]
    expected = [expected_firing(shape) for shape in batch]

    # 1. The generator's model says the same, minute by minute.
    lanes = [
        tuple(Phase(start, Fraction(total), Fraction(bad)) for start, total, bad in s.phases)
        for s in batch
    ]
    timeline = Timeline(SloMath.of(slo), lanes, 60, MINUTES * 60)
    for lane, firing in enumerate(expected):
        for minute in range(MINUTES + 1):
            model = {
                slo.tiers[tier].alert for tier in range(2) if timeline.firing(lane, tier, minute)
            }
            assert model == firing[minute], (lane, minute, batch[lane])

    # 2. promtool agrees, for every tenant at every minute, in one run.
    series = slo_rules.SloSeries(slo)
    rule_of = {t.alert: slo_rules.alert_rule(spec.service, slo, t, series) for t in slo.tiers}
    tenants = [f"t{index}" for index in range(len(batch))]
    checks = [
        {
            "eval_time": f"{minute}m",
            "alertname": alert,
            "exp_alerts": [
                expected_alert(rule_of[alert], {**series.labels(), "tenant": tenant})
                for tenant, firing in zip(tenants, expected, strict=True)
                if alert in firing[minute]
            ],
        }
        for minute in range(1, MINUTES + 1)
        for alert in rule_of
    ]
    document = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": "drawn traffic shapes",
                "interval": "1m",
                "input_series": [
                    s
                    for tenant, shape in zip(tenants, batch, strict=True)
                    for s in _series(tenant, shape)
                ],
                "alert_rule_test": checks,
            }
        ],
    }
    test_file = tmp_path / "timing.test.yml"
    test_file.write_text(writer.to_yaml(document))
    result = promtool.test_rules([test_file])
    assert result.ok, result.output

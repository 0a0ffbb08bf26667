"""The synthetic incident: label values that satisfy selectors, and traffic that gives
every SLI of every test spec the error ratio it should have, as promtool evaluates it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import pipeline, writer
from compiler.incident import (
    SyntheticError,
    Timeline,
    example_value,
    groups,
    incident_series,
    labels_for,
    matches,
    models,
)
from compiler.local_prometheus import alert_samples
from compiler.promql import parse_selector
from compiler.synthetic import promtool_input
from compiler.targets import prometheus
from tests.conftest import ROOT, SLOS
from tests.promtool_run import run_promtool

SPECS = [SLOS, ROOT / "tests" / "specs"]
# A short incident: enough for 5m windows, cheap for promtool to evaluate.
SHORT = Timeline(burn_start=30, burn_end=60, minutes=60)
_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)


@pytest.mark.parametrize(
    ("pattern", "value"),
    [("5..", "500"), ("5..|429", "500"), ("(4|5)..", "500"), ("[45]\\d\\d", "400"),
     ("error|timeout", "error"), (".+", "0"), ("ALLOW", "ALLOW"), ("(?:GET|POST)", "GET")],
)  # fmt: skip
def test_example_values_match_their_pattern(pattern: str, value: str) -> None:
    assert example_value(pattern) == value


@given(st.lists(_WORDS, min_size=1, max_size=4))
def test_an_alternation_of_words_gives_one_of_them(words: list[str]) -> None:
    pattern = "|".join(re.escape(w) for w in words)
    assert example_value(pattern) in words


def test_a_pattern_nothing_simple_matches_is_refused() -> None:
    with pytest.raises(SyntheticError):
        example_value("(?i)x{3}y+z")


@pytest.mark.parametrize(
    "text",
    ['m{code=~"5..", route!="/healthz"}', 'm{code!~"2..|3..", tenant="t1"}', "m"],
)
def test_labels_satisfy_the_selector(text: str) -> None:
    selector = parse_selector(text)
    labels = labels_for(selector, ("code", "route", "tenant"), {})
    assert matches(selector, "m", labels)


def _burn_checks(specs: Any) -> list[dict[str, Any]]:
    """Each SLO's burning group: below 1x before the burn, above its fastest tier during it."""
    checks = []
    for slo in filter(models, specs.slos):
        group = next(labels for labels, burns in groups(specs, slo) if burns)
        base, _, _ = prometheus.windows(slo)
        labels = {"service": slo.service, "slo": slo.name, "window": str(base), **group}
        selector = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        fastest = max((t.burn_factor for t in slo.tiers), default=None)
        cases = [(SHORT.burn_start - 10, "<", 1)]
        if fastest is not None:  # an SLO without tiers has nothing to fire
            cases.append((SHORT.burn_start + 20, ">", fastest))
        checks.extend(
            {
                "eval_time": f"{minute}m",
                "expr": f"slo:burn_rate:ratio{{{selector}}} {op} bool {limit}",
                "exp_samples": [{"labels": "{" + selector + "}", "value": 1}],
            }
            for minute, op, limit in cases
        )
    return checks


# Two SLOs on one histogram, as the agent API's: 5xx by status code, and latency.
SHARED_HISTOGRAM = """\
apiVersion: slo-compiler/v1
kind: Service
service: {name: api, owner: team-api}
metrics:
  http_seconds: {type: histogram, labels: [code, route], buckets: [0.1, 0.5, 1]}
slos:
  - name: availability
    objective: 99.9
    period: 28d
    sli: {ratio: {bad: 'http_seconds_count{code=~"5.."}', total: http_seconds_count}}
  - name: latency
    objective: 99
    period: 28d
    sli: {latency: {histogram: http_seconds, threshold: 0.5}}
"""


@pytest.mark.parametrize("source", ["specs", "shared-histogram"])
def test_every_sli_sees_the_incident_it_was_given(
    tmp_path: Path, promtool_path: str, source: str
) -> None:
    """Same-metric good/bad selectors, queries of rates, histograms, SLOs sharing counters:
    promtool computes each SLO's burn rate from the synthetic raw series; the burning group
    is healthy before the burn and above its fastest tier's factor during it."""
    paths = SPECS
    if source == "shared-histogram":
        paths = [tmp_path / "api.yaml"]
        paths[0].write_text(SHARED_HISTOGRAM)
    result = pipeline.compile_specs(paths)
    assert result.ok, result.diagnostics
    rules = tmp_path / "all.rules.yml"
    groups = [g for spec in result.specs.services for g in prometheus.service_rules(spec)["groups"]]
    rules.write_text(writer.to_yaml({"groups": groups}))
    test = {
        "name": "incident",
        "interval": "1m",
        "input_series": promtool_input(incident_series(result.specs, SHORT), SHORT.minutes),
        "promql_expr_test": _burn_checks(result.specs),
    }
    run_promtool(tmp_path, rules, [test])


def test_alerts_are_pending_for_their_for_then_firing() -> None:
    rule = {
        "alert": "Fast",
        "expr": "x > 1",
        "for": "2m",
        "labels": {"severity": "page", "window": ""},
    }
    result = [
        {
            "metric": {"__name__": "x", "service": "s", "window": "1h"},
            # active from 100 to 400, gap, active again at 600
            "values": [[t, "2"] for t in (100, 160, 220, 280, 340, 400, 600, 660)],
        }
    ]
    samples = list(alert_samples(rule, result, 60))
    states = [(labels["alertstate"], stamp) for labels, stamp in samples]
    assert states == [
        ("pending", 100), ("pending", 160), ("firing", 220), ("firing", 280), ("firing", 340),
        ("firing", 400), ("pending", 600), ("pending", 660),
    ]  # fmt: skip
    labels = samples[0][0]
    assert labels == {
        "alertname": "Fast",
        "alertstate": "pending",
        "service": "s",
        "severity": "page",
    }

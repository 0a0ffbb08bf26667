"""The synthetic incident under promtool: every SLI of every test spec sees the error ratio it
was given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler import pipeline, writer
from compiler.preview.incident import Timeline, groups, incident_series, models
from compiler.synthetic.series import promtool_input
from compiler.targets.prometheus import rule_files, slo_rules
from tests.support.paths import ROOT, SLOS
from tests.support.promtool_run import run_promtool

SPECS = [SLOS, ROOT / "tests" / "specs"]


# A short incident: enough for 5m windows, cheap for promtool to evaluate.
SHORT = Timeline(burn_start=30, burn_end=60, minutes=60)


def _burn_checks(specs: Any) -> list[dict[str, Any]]:
    """Each SLO's burning group: below 1x before the burn, above its fastest tier during it."""
    checks = []
    for slo in filter(models, specs.slos):
        group = next(labels for labels, burns in groups(specs, slo) if burns)
        base, _, _ = slo_rules.windows(slo)
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
    groups = [g for spec in result.specs.services for g in rule_files.service_rules(spec)["groups"]]
    rules.write_text(writer.to_yaml({"groups": groups}))
    test = {
        "name": "incident",
        "interval": "1m",
        "input_series": promtool_input(incident_series(result.specs, SHORT), SHORT.minutes),
        "promql_expr_test": _burn_checks(result.specs),
    }
    run_promtool(tmp_path, rules, [test])

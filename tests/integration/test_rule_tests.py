"""The generated rule tests under promtool: they pass, and fail on a broken rule."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from compiler import pipeline, writer
from compiler.model.service import SpecSet
from compiler.model.signal import RawPromQL
from compiler.outputs import Root
from compiler.synthetic import promtool
from compiler.targets.prometheus import rule_files, slo_rules
from compiler.targets.rule_tests import promtool_files, shapes
from compiler.targets.rule_tests.slo_scenarios import Scenario
from tests.support.paths import GENERATED
from tests.support.rule_tests import slo_test


def test_every_generated_test_passes_under_promtool(
    reference_specs: SpecSet, promtool_path: str
) -> None:
    """`slo test` over the checked-in tests: every SLO of slos/ passes, reported by name."""
    result = slo_test()
    assert result.exit_code == 0, result.output
    subjects = [f"slo {slo.name}" for slo in reference_specs.slos]
    subjects += [f"drill {d.name}" for spec in reference_specs.services for d in spec.drills]
    subjects += [
        f"signal {s.name}"
        for s in reference_specs.signals
        if not isinstance(s.condition, RawPromQL)
    ]
    subjects += sorted({f"shape {shapes.shape_key(slo)}" for slo in reference_specs.slos})
    for name in subjects:
        assert re.search(rf"^PASS {name} \(", result.output, re.MULTILINE), name
    assert " 0 failed (" in result.output
    # Coverage: every SLO, its own instance test and the shape covering it, both passed.
    for slo in reference_specs.slos:
        line = (
            f"  slo {slo.name} ({slo.service}): own instance test PASS; "
            f"shape {shapes.shape_key(slo)} (full scenarios) PASS"
        )
        assert line in result.output.splitlines(), line
    assert "not proven" not in result.output


@pytest.mark.parametrize("factor", ["13", "16"])
def test_a_broken_factor_makes_the_generated_tests_fail(
    reference_specs: SpecSet, tmp_path: Path, factor: str, promtool_path: str
) -> None:
    """Done-when of issue 3: change one factor in the rules and the tests catch it, whether
    the threshold moves down (the just-below scenario fires) or up (just-above stays quiet)."""
    generated = tmp_path / "generated"
    shutil.copytree(GENERATED, generated)
    rules = generated / "prometheus" / "enforcement-gate.rules.yml"
    text = rules.read_text()
    fast = 'slo:burn_rate:ratio{service="enforcement-gate", slo="gate-reliability", window="1h"}'
    assert text.count(f"{fast} > 14.4") == 1
    rules.write_text(text.replace(f"{fast} > 14.4", f"{fast} > {factor}"))
    # The tier's above/below scenarios are its rule shape's, run on gate-reliability's rules
    # (the first SLO of that shape).
    slo = next(s for s in reference_specs.slos if s.name == "gate-reliability")
    shape = shapes.subject(shapes.shape_key(slo))
    assert "run against the rules of slo gate-reliability" in next(
        (generated / "tests" / "shapes").glob(f"{shape.split()[1]}.test.yml")
    ).read_text()
    scope = f"{shape}: tier 1h/5m"
    broken = slo_test("--generated", str(generated), "--match", scope, "--allow-stale")
    assert broken.exit_code == 1, broken.output
    assert f"FAIL {shape}" in broken.output
    assert "exp:" in broken.output and "got:" in broken.output  # promtool's own diff
    # The unbroken rules pass the same scenarios.
    rules.write_text(text)
    assert slo_test("--generated", str(generated), "--match", scope).exit_code == 0
    # Without --allow-stale, the edited rules are refused before anything runs.
    rules.write_text(text.replace(f"{fast} > 14.4", f"{fast} > {factor}"))
    refused = slo_test("--generated", str(generated), "--match", scope)
    assert refused.exit_code == 1 and f"stale: {rules}" in refused.output, refused.output


def test_every_sli_form_reaches_its_records(
    golden_specs: SpecSet, tmp_path: Path, promtool_path: str
) -> None:
    """The series synthesized for each SLI form (bad or good selectors, $window queries,
    latency histograms, group_by) are read by the rules as exactly the intended events."""
    spec = next(s for s in golden_specs.services if s.service.name == "kitchen-sink")
    groups = []
    for slo in spec.slos:
        healthy = next(
            s for s in promtool_files.slo_scenarios(slo) if s.kind in ("above", "healthy")
        )
        base, _, _ = slo_rules.windows(slo)
        # Traffic is steady from minute 0: one full base window later the records show it.
        check = replace(healthy.record_checks[0], minute=base.seconds // 60 + 1)
        short = Scenario(
            kind="healthy",
            title="synthetic series reach the records",
            interval=1,
            end=check.minute,
            lanes=healthy.lanes,
            record_checks=(check,),
        )
        groups.append(promtool_files.test_group(spec, slo, short))
    rules = tmp_path / "rules.yml"
    rules.write_text(writer.to_yaml(rule_files.service_rules(spec)))
    test_file = tmp_path / "forms.test.yml"
    test_file.write_text(
        writer.to_yaml({"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": groups})
    )
    document = yaml.safe_load(test_file.read_text())
    assert len(document["tests"]) == len(spec.slos) == 5
    result = promtool.test_rules([test_file])
    assert result.ok, result.output


TEMPLATED = """
apiVersion: slo-compiler/v1
kind: Service
service: {name: templated, owner: team-test, runbook_base_url: https://runbooks.example/}
metrics:
  jobs_total: {type: counter, labels: [queue]}
  jobs_failed_total: {type: counter, labels: [queue]}
slos:
  - name: jobs
    objective: 99
    period: 1d
    group_by: [queue]
    sli: {ratio: {bad: jobs_failed_total, total: jobs_total}}
    alerting:
      annotations: {value: "burning at {{ $value | humanize }}x on {{ $labels.queue }}"}
      tiers:
        - {alert: JobsBurn, severity: critical, long_window: 10m, short_window: 1m,
           burn_factor: 10, for: 2m}
"""


def test_texts_with_value_templates_are_checked_through_alerts(
    tmp_path: Path, promtool_path: str
) -> None:
    """An annotation promtool cannot be told in advance ($value) makes the generated checks
    compare the ALERTS series (labels) instead, and those pass too."""
    spec_file = tmp_path / "templated.yaml"
    spec_file.write_text(TEMPLATED)
    result = pipeline.compile_specs([spec_file])
    assert result.ok, result.diagnostics
    roots = {Root.GENERATED: tmp_path / "generated", Root.DASHBOARDS: tmp_path / "dashboards"}
    writer.write(writer.plan(pipeline.outputs(result.specs), roots))
    document = yaml.safe_load((tmp_path / "generated" / "tests" / "templated.test.yml").read_text())
    groups = document["tests"]
    assert all("alert_rule_test" not in group for group in groups)
    assert any(
        test["expr"].startswith('ALERTS{alertname="JobsBurn"') and test["exp_samples"]
        for group in groups
        for test in group.get("promql_expr_test", [])
    )
    tested = slo_test(str(spec_file), "--generated", str(tmp_path / "generated"))
    assert tested.exit_code == 0, tested.output
    assert "PASS slo jobs" in tested.output


def test_one_service_with_a_junit_report(promtool_path: str) -> None:
    result = slo_test(
        "--service", "enforcement-gate", "--match", "gate-reliability", "--format", "junit"
    )
    assert result.exit_code == 0, result.output
    assert "selected " in result.stderr and "slo gate-reliability" in result.stderr
    suites = ET.fromstring(result.stdout)
    cases = [(case.get("classname"), case.get("name")) for case in suites.iter("testcase")]
    assert ("enforcement-gate", "slo gate-reliability") in cases
    assert all(classname.startswith("enforcement-gate") for classname, _ in cases)
    assert not list(suites.iter("failure"))

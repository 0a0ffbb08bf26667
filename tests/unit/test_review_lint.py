"""`slo lint`: each rule on specs that must warn and on specs that must not, the codes in
slo.yaml, and `slo validate --strict` including them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler import pipeline
from compiler.cli import main
from compiler.model.service import SpecSet
from compiler.review import lint

SPEC = """\
apiVersion: slo-compiler/v1
kind: Service
service:
  name: shop
  owner: team-shop
  runbook_base_url: https://runbooks.example/
metrics:
  requests_total: {type: counter, labels: [code, tenant]}
  queue_depth: {type: gauge, labels: [queue]}
slos:
  - name: availability
    objective: 99.9
    group_by: [tenant]
    sli:
      ratio:
        bad: requests_total{code=~"5.."}
        total: requests_total
    alerting:
      tiers:
        - {alert: ShopBurnFast, severity: critical, long_window: 1h, short_window: 5m,
           burn_factor: 14.4}
        - {alert: ShopBurnSlow, severity: critical, long_window: 6h, short_window: 30m,
           burn_factor: 6}
      low_traffic:
        min_events: 1000
signals:
  - name: QueueDeep
    severity: warning
    group_by: [queue]
    threshold:
      gauge: queue_depth
      above: 1000
"""

ROUTING = """\
apiVersion: slo-compiler/v1
kind: Routing
routing:
  receivers:
    pager:
      pagerduty: {routing_key_file: /run/secrets/pd}
  severities:
    critical: {receiver: pager}
    warning: {receiver: pager}
"""

SECOND_TIER = (
    "        - {alert: ShopBurnSlow, severity: critical, long_window: 6h, short_window: 30m,\n"
    "           burn_factor: 6}"
)


def _lint(root: Path, files: dict[str, str], traffic: lint.Traffic | None = None) -> list[str]:
    for name, text in files.items():
        (root / name).write_text(text)
    result = pipeline.compile_specs([root / name for name in files], root)
    assert result.ok, result.diagnostics
    return [f"{f.code} {f.diagnostic}" for f in lint.lint(result.specs, root, traffic)]


def _codes(found: list[str]) -> list[str]:
    return [line.split()[0] for line in found]


def test_the_base_spec_is_clean(tmp_path: Path) -> None:
    assert _lint(tmp_path, {"shop.yaml": SPEC, "routing.yaml": ROUTING}) == []


def test_a_tier_that_only_fires_after_another_sends_duplicate_pages(tmp_path: Path) -> None:
    later = SECOND_TIER.replace("6h, short_window: 30m", "2h, short_window: 10m").replace(
        "burn_factor: 6", "burn_factor: 14.4"
    )
    found = _lint(tmp_path, {"shop.yaml": SPEC.replace(SECOND_TIER, later)})
    assert found == [
        "duplicate-pages shop.yaml:22: slos[0].alerting.tiers[1]: warning: ShopBurnSlow 2h/10m "
        "only ever starts firing while ShopBurnFast 1h/5m already fires, and Alertmanager "
        "notifies critical of both apart: its pages are duplicates; drop it, share the "
        "other's alert name, or give it another severity or a lower factor [duplicate-pages]"
    ]


@pytest.mark.parametrize(
    "change",
    [
        ("alert: ShopBurnSlow", "alert: ShopBurnFast"),  # one alert name: one notification
        ("ShopBurnSlow, severity: critical", "ShopBurnSlow, severity: warning"),
    ],
)
def test_no_duplicate_pages_when_grouped_or_routed_apart(
    tmp_path: Path, change: tuple[str, str]
) -> None:
    later = SECOND_TIER.replace("6h, short_window: 30m", "2h, short_window: 10m").replace(
        "burn_factor: 6", "burn_factor: 14.4"
    )
    text = SPEC.replace(SECOND_TIER, later).replace(*change)
    assert "duplicate-pages" not in _codes(_lint(tmp_path, {"shop.yaml": text}))


def test_a_guard_one_failure_crosses_makes_the_objective_unmeasurable(tmp_path: Path) -> None:
    found = _lint(tmp_path, {"shop.yaml": SPEC.replace("min_events: 1000", "min_events: 60")})
    assert _codes(found) == ["objective-unmeasurable", "objective-unmeasurable"]
    assert found[0].startswith(
        "objective-unmeasurable shop.yaml:20: slos[0].alerting.tiers[0]: warning: ShopBurnFast "
        "1h/5m: at its guard's 60 events in 1h, one bad event is 1.67% of them, above the "
        "1.44% threshold: a single failure pages"
    )


def test_traffic_below_the_guard_or_the_budget(tmp_path: Path) -> None:
    traffic: lint.Traffic = {
        ("shop", "availability", "1h"): {'tenant="a"': 0.1, 'tenant="b"': 5.0},
        ("shop", "availability", "6h"): {'tenant="a"': 0.1, 'tenant="b"': 5.0},
        ("shop", "availability", "30d"): {'tenant="a"': 0.0001, 'tenant="b"': 5.0},
    }
    found = _lint(tmp_path, {"shop.yaml": SPEC}, traffic)
    assert _codes(found) == ["objective-unmeasurable", "guard-unreachable"]
    assert 'for tenant="a" (at most 0.1 events/s in any 1h of the period)' in found[1]
    assert "only an outage of 100 failed events in 1h pages it" in found[1]
    assert 'less than one bad event for tenant="a"' in found[0]
    enough = {key: {g: 50.0 for g in groups} for key, groups in traffic.items()}
    assert _lint(tmp_path, {"shop.yaml": SPEC}, enough) == []


def test_a_guard_above_the_declared_traffic(tmp_path: Path) -> None:
    declared = "min_events: 1000\n        expected_events_per_second: 0.1"
    found = _lint(tmp_path, {"shop.yaml": SPEC.replace("min_events: 1000", declared)})
    assert found == [
        "guard-unreachable shop.yaml:20: slos[0].alerting.tiers[0]: warning: ShopBurnFast "
        "(1h/5m) needs 1000 events in 1h (0.278/s), more than the 0.1 events/s a group is "
        "expected to see: at that traffic only an outage of 100 failed events in 1h pages it, "
        "never a partial degradation [guard-unreachable]"
    ]
    busy = "min_events: 1000\n        expected_events_per_second: 0.5"
    assert _lint(tmp_path, {"shop.yaml": SPEC.replace("min_events: 1000", busy)}) == []


def test_alert_names_shared_across_files(tmp_path: Path) -> None:
    other = SPEC.replace("name: shop", "name: cart").replace("QueueDeep", "CartQueueDeep")
    found = _lint(tmp_path, {"shop.yaml": SPEC, "cart.yaml": other})
    assert _codes(found) == ["alert-name-collision"] * 4
    assert found[0].startswith(
        "alert-name-collision cart.yaml:20: slos[0].alerting.tiers[0]: warning: alert "
        "ShopBurnFast is also defined in shop.yaml"
    )


def test_a_severity_no_route_takes(tmp_path: Path) -> None:
    text = SPEC.replace(
        "severity: warning\n    group_by: [queue]", "severity: info\n    group_by: [queue]"
    )
    found = _lint(tmp_path, {"shop.yaml": text, "routing.yaml": ROUTING})
    assert found == [
        "severity-unrouted shop.yaml:27: signals[0]: warning: QueueDeep: no route delivers "
        "severity info: Alertmanager discards it (only dashboards show it); route info in the "
        "Routing document, or raise the severity [severity-unrouted]"
    ]
    routed = ROUTING + "    info: {receiver: pager}\n"
    assert _lint(tmp_path, {"shop.yaml": text, "routing.yaml": routed}) == []
    # Without a routing document, nothing is routed by severity: nothing to say.
    assert _lint(tmp_path, {"shop.yaml": text}) == []


def test_default_tiers_are_located_at_alerting(tmp_path: Path) -> None:
    start = SPEC.index("      tiers:")
    text = SPEC[:start] + SPEC[SPEC.index("      low_traffic:") :]
    text = text.replace("min_events: 1000", "min_events: 60")
    found = _lint(tmp_path, {"shop.yaml": text})
    assert found and {line.split(": ")[0] for line in found} == {
        "objective-unmeasurable shop.yaml:18"
    }
    assert all("slos[0].alerting: warning" in line for line in found)


def test_every_rule_has_a_code_and_a_check(reference_specs: SpecSet) -> None:
    assert len(lint.CODES) == len(lint.RULES) == len(lint.CHECKS)


def _project(root: Path, extra: str = "") -> None:
    (root / "slo.yaml").write_text(
        "apiVersion: slo-compiler/v1\nkind: Project\nspecs: [slos]\n" + extra
    )
    (root / "slos").mkdir()
    (root / "slos" / "shop.yaml").write_text(SPEC.replace("min_events: 1000", "min_events: 60"))


def test_the_command_and_its_codes_in_the_project_file(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 1
    assert (
        "slos/shop.yaml:20: slos[0].alerting.tiers[0]: warning: ShopBurnFast 1h/5m: at its "
        "guard's 60 events in 1h" in result.output
    )
    assert "[objective-unmeasurable]" in result.output and "2 findings" in result.output
    result = CliRunner().invoke(main, ["lint", "--format", "json"])
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert document["findings"][0]["code"] == "objective-unmeasurable"
    assert document["findings"][0]["line"] == 20
    result = CliRunner().invoke(main, ["lint", "--format", "github"])
    assert result.stdout.startswith("::warning file=slos/shop.yaml,line=20,")


def test_a_disabled_code_is_not_reported(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd, "lint:\n  disable: [objective-unmeasurable]\n")
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 0, result.output
    assert "ok: nothing to say" in result.output
    assert CliRunner().invoke(main, ["validate", "--strict"]).exit_code == 0


def test_an_unknown_code_in_the_project_file_is_an_error(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd, "lint:\n  disable: [objective-unmeasureable]\n")
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 1
    assert "slo.yaml: lint.disable: unknown code(s) objective-unmeasureable" in result.output


def test_validate_strict_includes_lint(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 0 and "objective-unmeasurable" not in result.output
    result = CliRunner().invoke(main, ["validate", "--strict"])
    assert result.exit_code == 1
    assert "[objective-unmeasurable]" in result.output
    assert "2 errors; nothing written (--strict: warnings count as errors)" in result.output


def test_the_reference_specs_are_lint_clean() -> None:
    result = CliRunner().invoke(main, ["lint"])
    assert result.exit_code == 0, result.output

"""Rule tests sized by what they prove: SLOs of one rule shape share one full scenario set,
each SLO keeps its own instance test, and `slo test` knows which shape covers which SLO."""

from __future__ import annotations

from pathlib import Path

import yaml

from compiler import pipeline, rule_test_runner, writer
from compiler.model.service import SpecSet
from compiler.outputs import OutputFile, Root
from compiler.targets.rule_tests import promtool_files, shapes
from tests.support.specs import SERVICE_SPEC

# Four SLOs: "copy" differs from "availability" in names, selectors and alert names only;
# "stricter" in its objective; "per-route" in what it groups by.
SHAPED = (
    SERVICE_SPEC.replace(
        "http_requests_total: {type: counter, labels: [code, tenant]}",
        (
            "http_requests_total: {type: counter, labels: [code, tenant, route]}\n"
            "  rpc_total: {type: counter, labels: [status, tenant]}"
        ),
    )
    + """\
  - name: copy
    objective: 99.9
    group_by: [tenant]
    sli: {ratio: {bad: 'rpc_total{status="error"}', total: rpc_total}}
    alerting:
      tiers:
        - {alert: RpcBurn, severity: warning, long_window: 1h, short_window: 5m,
           burn_factor: 14.4}
  - name: stricter
    objective: 99.95
    group_by: [tenant]
    sli: {ratio: {bad: 'rpc_total{status="error"}', total: rpc_total}}
    alerting:
      tiers:
        - {alert: RpcBurn2, severity: warning, long_window: 1h, short_window: 5m,
           burn_factor: 14.4}
  - name: per-route
    objective: 99.9
    group_by: [tenant, route]
    sli: {ratio: {bad: 'http_requests_total{code=~"5.."}', total: http_requests_total}}
    alerting:
      tiers:
        - {alert: RouteBurn, severity: warning, long_window: 1h, short_window: 5m,
           burn_factor: 14.4}
"""
)


def _specs(tmp_path: Path, *texts: str) -> SpecSet:
    for index, text in enumerate(texts):
        name = "checkout" if index == 0 else f"checkout{index}"
        (tmp_path / f"{name}.yaml").write_text(text.replace("name: checkout", f"name: {name}"))
    result = pipeline.compile_specs([tmp_path], tmp_path)
    assert result.ok, result.diagnostics
    return result.specs


def _keys(specs: SpecSet) -> dict[str, str]:
    return {slo.name: shapes.shape_key(slo) for slo in specs.slos}


def test_slos_differing_only_in_names_share_a_shape(tmp_path: Path) -> None:
    keys = _keys(_specs(tmp_path, SHAPED))
    assert keys["availability"] == keys["copy"]
    assert len({keys["availability"], keys["stricter"], keys["per-route"]}) == 3


def test_one_full_scenario_set_per_shape_and_a_small_one_per_slo(tmp_path: Path) -> None:
    specs = _specs(tmp_path, SHAPED)
    keys = _keys(specs)
    shaped = promtool_files.shape_files(specs)
    assert sorted({f.path.split("/")[-1].split(".")[0] for f in shaped}) == sorted(
        set(keys.values())
    )
    for file in shaped:
        assert file.path.startswith("tests/shapes/")
        assert file.data["rule_files"] == ["../../prometheus/checkout.rules.yml"]
    shape_of_availability = next(f for f in shaped if keys["availability"] in f.path)
    names = [group["name"] for group in shape_of_availability.data["tests"]]
    # Run on the first SLO of the shape, every planned scenario.
    slo = next(s for s in specs.slos if s.name == "availability")
    assert len(names) == len(promtool_files.slo_scenarios(slo))
    assert all(name.startswith(f"shape {keys['availability']}: ") for name in names)
    assert "slo availability" in shape_of_availability.header
    service = promtool_files.service_test_groups(specs.services[0])
    own = [group["name"] for groups in service.values() for group in groups]
    for name, key in keys.items():
        mine = [n for n in own if n.startswith(f"slo {name}: ")]
        # The total outage firing its fastest tier with its own labels, and zero traffic.
        assert len(mine) == 2, mine
        assert all(rule_test_runner.shape_of(n) == key for n in mine)
        assert "total outage" in mine[0] and "zero traffic" in mine[1]


def test_shape_files_are_deterministic_and_owned_by_the_specs_of_their_slos(
    tmp_path: Path,
) -> None:
    specs = _specs(tmp_path, SHAPED, SERVICE_SPEC)
    first = [writer.serialize(f) for f in promtool_files.shape_files(specs)]
    again = [writer.serialize(f) for f in promtool_files.shape_files(specs)]
    assert first == again
    key = _keys(specs)["availability"]
    shared = [f for f in promtool_files.shape_files(specs) if key in f.path]
    assert shared and all(f.source == "checkout.yaml, checkout1.yaml" for f in shared)
    alone = [f for f in promtool_files.shape_files(specs) if key not in f.path]
    assert alone and all(f.source == "checkout.yaml" for f in alone)


def test_slo_test_finds_the_shapes_covering_a_service(tmp_path: Path) -> None:
    specs = _specs(tmp_path, SHAPED, SERVICE_SPEC.replace("99.9", "99.5"))
    generated = tmp_path / "generated"
    roots = {Root.GENERATED: generated, Root.DASHBOARDS: tmp_path / "dashboards"}
    writer.write(writer.plan(pipeline.outputs(specs), roots))
    tests = generated / "tests"
    covered = rule_test_runner.coverage(tests, ["checkout1"])
    assert [(c.subject, c.shape) for c in covered] == [
        ("slo availability", shapes.shape_key(specs.services[1].slos[0]))
    ]
    jobs = rule_test_runner.collect(tests, services=["checkout1"])
    assert sorted(job.subject for job in jobs) == [
        f"shape {covered[0].shape}",
        "slo availability",
    ]
    assert rule_test_runner.stale_files(specs, generated, {"checkout1"}) == []
    # A shape's file that is missing is stale, and its SLOs are reported as not proven.
    shape_file = rule_test_runner.shape_files(tests, {covered[0].shape})[0]
    shape_file.unlink()
    assert rule_test_runner.stale_files(specs, generated, {"checkout1"}) == [shape_file]
    lines, unproven = rule_test_runner.coverage_report(covered, [], tests)
    assert unproven == 1 and lines[0].endswith("full scenarios) MISSING"), lines


def test_a_shape_file_no_slo_has_is_stale(tmp_path: Path) -> None:
    specs = _specs(tmp_path, SHAPED)
    generated = tmp_path / "generated"
    roots = {Root.GENERATED: generated, Root.DASHBOARDS: tmp_path / "dashboards"}
    outputs = pipeline.outputs(specs)
    writer.write(writer.plan(outputs, roots))
    extra = generated / "tests" / "shapes" / "000000000000.test.yml"
    extra.write_text(yaml.safe_dump({"tests": []}))
    assert rule_test_runner.stale_files(specs, generated) == [extra]


def test_a_shape_file_changing_owners_is_written_by_a_compile_of_an_owner(
    tmp_path: Path,
) -> None:
    """The writer's rule for outputs of several specs: a compile of some specs writes an
    output one of them owned before or owns now, as a compile of the whole set would."""
    directory = tmp_path / "generated"
    before = [OutputFile("tests/shapes/k.test.yml", {"a": 1}, source="a.yaml, b.yaml")]
    writer.write(writer.plan(before, {Root.GENERATED: directory}))
    after = [OutputFile("tests/shapes/k.test.yml", {"a": 2}, source="b.yaml")]
    planned = writer.plan(after, {Root.GENERATED: directory}, only={"a.yaml"})
    writer.write(planned)
    assert (directory / "tests/shapes/k.test.yml").read_text() == "a: 2\n"
    assert writer.read_manifest(directory) == {"tests/shapes/k.test.yml": "b.yaml"}
    # A spec that never owned it leaves it alone.
    planned = writer.plan(before, {Root.GENERATED: directory}, only={"c.yaml"})
    assert directory / "tests/shapes/k.test.yml" not in planned.files

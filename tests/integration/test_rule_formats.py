"""PrometheusRule objects and mimirtool namespaces: their groups pass promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from compiler import pipeline, writer
from compiler.model.service import SpecSet
from compiler.outputs import OutputFile
from compiler.targets.prometheus import rule_files, rule_formats
from tests.support.paths import SLOS
from tests.support.peer_data import sloth_dir
from tests.support.rule_formats import SCHEMA

# rulefmt's fields (Prometheus 2.42 and later) and mimirtool's additions to a group.
GROUP_FIELDS = {
    "name",
    "interval",
    "query_offset",
    "limit",
    "rules",
    "labels",
    "source_tenants",
    "evaluation_delay",
    "align_evaluation_time_on_interval",
}


RULE_FIELDS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}


@pytest.fixture(scope="module")
def specs() -> SpecSet:
    """The reference specs and Sloth's getting-started example, compiled together."""
    result = pipeline.compile_specs([SLOS, sloth_dir() / "examples/getting-started.yml"])
    assert result.ok, result.diagnostics
    return result.specs


def _loaded(file: OutputFile) -> list[Any]:
    """The file as written, read back as YAML documents."""
    return list(yaml.safe_load_all(writer.serialize(file)))


def _promtool_check(tmp_path: Path, groups_by_file: dict[str, list[Any]]) -> None:
    paths = []
    for name, groups in groups_by_file.items():
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=4096))
        paths.append(str(path))
    completed = subprocess.run(
        ["promtool", "check", "rules", *paths], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_prometheus_rules_follow_the_crd(
    specs: SpecSet, tmp_path: Path, promtool_path: str
) -> None:
    options = rule_formats.OperatorOptions(
        "monitoring", {"role": "alert-rules", "prometheus": "k8s"}
    )
    files = rule_formats.rule_files(specs, [rule_formats.PROMETHEUS_OPERATOR], options)
    assert [f.path for f in files] == [
        f"prometheus-operator/{s.service.name}.prometheusrule.yml" for s in specs.services
    ]
    groups = {}
    for file, spec in zip(files, specs.services, strict=True):
        (document,) = _loaded(file)
        jsonschema.validate(document, SCHEMA)
        assert document["metadata"] == {
            "name": f"slo-{spec.service.name}",
            "namespace": "monitoring",
            "labels": {
                "app.kubernetes.io/managed-by": "slo-compiler",
                "slo-compiler.dev/service": spec.service.name,
                "role": "alert-rules",
                "prometheus": "k8s",
            },
        }
        # Exactly the plain rule file's groups.
        assert document["spec"] == rule_files.service_rules(spec)
        groups[f"{spec.service.name}.yml"] = document["spec"]["groups"]
    _promtool_check(tmp_path, groups)


def test_mimirtool_namespaces(specs: SpecSet, tmp_path: Path, promtool_path: str) -> None:
    files = rule_formats.rule_files(specs, [rule_formats.MIMIR])
    namespaces = []
    groups = {}
    for file, spec in zip(files, specs.services, strict=True):
        assert file.path == f"mimir/{spec.service.name}.rules.yml"
        documents = _loaded(file)
        assert len(documents) == 1  # one namespace per file, one file per service
        (document,) = documents
        assert list(document) == ["namespace", "groups"]  # known fields only
        assert document["namespace"] == spec.service.name
        namespaces.append(document["namespace"])
        names = [g["name"] for g in document["groups"]]
        assert all(names) and len(set(names)) == len(names)
        for group in document["groups"]:
            assert set(group) <= GROUP_FIELDS
            assert all(set(rule) <= RULE_FIELDS for rule in group["rules"])
        assert document["groups"] == rule_files.service_rules(spec)["groups"]
        groups[f"{spec.service.name}.yml"] = document["groups"]
    assert len(set(namespaces)) == len(namespaces)
    _promtool_check(tmp_path, groups)

"""Rules for deployment tools: PrometheusRule objects and mimirtool rule namespaces.

The PrometheusRule objects are checked against a JSON Schema written from the CRD's OpenAPI
schema (tests/schemas/); the mimirtool files against what mimirtool's loader
(pkg/mimirtool/rules/parser.go) accepts: YAML decoded with known fields only into
``namespace`` and ``groups``, group names unique within a namespace, namespaces unique across
files, every group a valid Prometheus rule group. promtool checks the rules in both.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from compiler import pipeline, writer
from compiler.cli import main
from compiler.model import SpecSet
from compiler.outputs import OutputFile
from compiler.targets import prometheus, rule_formats
from tests.conftest import ROOT, SLOS
from tests.peer_data import sloth_dir

SCHEMA = json.loads((ROOT / "tests/schemas/prometheusrule-v1.schema.json").read_text())
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
        assert document["spec"] == prometheus.service_rules(spec)
        groups[f"{spec.service.name}.yml"] = document["spec"]["groups"]
    _promtool_check(tmp_path, groups)


def test_the_schema_rejects_what_the_crd_rejects() -> None:
    good = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "slo-a"},
        "spec": {"groups": [{"name": "g", "rules": [{"record": "a:b", "expr": "1"}]}]},
    }
    jsonschema.validate(good, SCHEMA)
    for path, value in [
        (("metadata", "name"), "Slo_A"),
        (("metadata", "labels"), {"role": "alert rules"}),
        (("spec", "groups", 0, "name"), ""),
        (("spec", "groups", 0, "rules", 0, "for"), "5 minutes"),
        (("spec", "groups", 0, "rules", 0, "expression"), "1"),
    ]:
        bad = json.loads(json.dumps(good))
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, SCHEMA)


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
        assert document["groups"] == prometheus.service_rules(spec)["groups"]
        groups[f"{spec.service.name}.yml"] = document["groups"]
    assert len(set(namespaces)) == len(namespaces)
    _promtool_check(tmp_path, groups)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_cli_writes_each_format_and_checks_them(in_tmp_cwd: Path) -> None:
    sloth = (sloth_dir() / "examples/getting-started.yml").read_text()
    (in_tmp_cwd / "slos").mkdir()
    (in_tmp_cwd / "slos" / "myservice.yml").write_text(sloth)
    args = [
        "compile",
        "--rules-format",
        "prometheus-operator",
        "--rules-format",
        "mimir",
        "--operator-namespace",
        "monitoring",
        "--operator-label",
        "role=alert-rules",
    ]
    code, output = _run(*args)
    assert code == 0, output
    generated = in_tmp_cwd / "generated"
    for path in (
        "prometheus/myservice.rules.yml",
        "mimir/myservice.rules.yml",
        "prometheus-operator/myservice.prometheusrule.yml",
    ):
        assert (generated / path).is_file(), path
    assert _run(*args, "--check")[0] == 0
    # Without the flag the extra formats are no longer produced, so they are stale.
    code, output = _run("compile", "--check")
    assert code == 1 and "no longer generated: generated/mimir/myservice.rules.yml" in output
    assert _run("compile")[0] == 0
    assert not (generated / "mimir").exists() or not any((generated / "mimir").iterdir())
    assert not (generated / "prometheus-operator" / "myservice.prometheusrule.yml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator-namespace", "monitoring"], "--operator-* options need --rules-format"),
        (
            ["--rules-format", "prometheus-operator", "--operator-namespace", "Monitoring"],
            "a namespace is lower-case letters",
        ),
        (
            ["--rules-format", "prometheus-operator", "--operator-label", "role"],
            "expected KEY=VALUE",
        ),
        (
            ["--rules-format", "prometheus-operator", "--operator-label", "role=alert rules"],
            "the value must be at most 63",
        ),
        (
            ["--rules-format", "prometheus-operator", "--operator-label", "-x=y"],
            "the key's name must be at most 63",
        ),
        (["--rules-format", "thanos"], "Invalid value for '--rules-format'"),
    ],
)
def test_cli_usage_errors(in_tmp_cwd: Path, args: list[str], message: str) -> None:
    code, output = _run("compile", *args)
    assert code == 2
    assert message in output

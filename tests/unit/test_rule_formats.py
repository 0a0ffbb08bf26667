"""Rules for deployment tools: PrometheusRule objects and mimirtool rule namespaces.

The PrometheusRule objects are checked against a JSON Schema written from the CRD's OpenAPI
schema (tests/schemas/); the mimirtool files against what mimirtool's loader
(pkg/mimirtool/rules/parser.go) accepts: YAML decoded with known fields only into
``namespace`` and ``groups``, group names unique within a namespace, namespaces unique across
files, every group a valid Prometheus rule group. promtool checks the rules in both."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from compiler.cli import main
from tests.support.peer_data import sloth_dir
from tests.support.rule_formats import SCHEMA


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

"""`slo validate` for people, machines and pull requests: --strict, --format json|github, and
`slo schema` for editors outside the repository."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from compiler.cli import SCHEMAS, main
from tests.support.paths import SLOS
from tests.support.specs import SERVICE_SPEC, diagnostics_of

# Without a runbook base URL the alerts carry no runbook link: a warning, not an error.
WARNING_SPEC = SERVICE_SPEC.replace("  runbook_base_url: https://runbooks.example/\n", "")


def _slo(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _spec(directory: Path, text: str) -> Path:
    path = directory / "checkout.yaml"
    path.write_text(text)
    return path


def test_an_objective_written_as_a_fraction_is_an_error_with_the_fix(tmp_path: Path) -> None:
    text = SERVICE_SPEC.replace("objective: 99.9", "objective: 0.999")
    assert diagnostics_of(tmp_path, text) == [
        "checkout.yaml:13: slos[0].objective: 0.999 is 0.999 %; write 99.9 "
        "(objectives are percentages)"
    ]


def test_strict_turns_warnings_into_failures(tmp_path: Path) -> None:
    spec = _spec(tmp_path, WARNING_SPEC)
    code, out, err = _slo("validate", str(spec))
    assert code == 0 and "warning:" in err and out.startswith("ok: ")
    code, out, err = _slo("validate", "--strict", str(spec))
    assert code == 1 and "(--strict: warnings count as errors)" in err and not out


def test_json_report(tmp_path: Path) -> None:
    bad = _spec(tmp_path, SERVICE_SPEC.replace("objective: 99.9", "objective: 100"))
    code, out, _ = _slo("validate", "--format", "json", str(bad))
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["summary"] is None
    (problem,) = report["diagnostics"]
    assert problem == {
        "severity": "error",
        "file": f"{bad}",
        "line": 13,
        "field": "slos[0].objective",
        "message": "100 is not below 100",
    }
    code, out, _ = _slo("validate", "--format", "json", str(SLOS))
    report = json.loads(out)
    assert code == 0 and report["ok"] and "5 service(s)" in report["summary"]


def test_github_annotations_at_file_and_line(tmp_path: Path) -> None:
    spec = _spec(tmp_path, WARNING_SPEC)
    code, out, _ = _slo("validate", "--format", "github", str(spec))
    warnings = [line for line in out.splitlines() if line.startswith("::warning ")]
    assert code == 0 and warnings, out
    assert all(f"file={spec}".replace(":", "%3A") in w and ",line=" in w for w in warnings)
    assert out.splitlines()[-1].startswith("ok: ")


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_the_printed_schema_stands_alone(kind: str) -> None:
    code, out, _ = _slo("schema", kind)
    schema = json.loads(out)
    assert code == 0 and schema["$id"].startswith("https://slo-compiler.dev/schema/")
    jsonschema.Draft202012Validator.check_schema(schema)
    # No registry: every reference resolves inside the document.
    validator = jsonschema.Draft202012Validator(schema)
    if kind == "spec":
        for path in sorted(SLOS.glob("*.yaml")):
            document = yaml.safe_load(path.read_text())
            if document.get("kind", "Service") == "Service":
                assert not list(validator.iter_errors(document)), path
        bad = yaml.safe_load(SERVICE_SPEC.replace("owner: team-shop", "ownr: team-shop"))
        assert list(validator.iter_errors(bad))

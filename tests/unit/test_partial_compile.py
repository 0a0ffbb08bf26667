"""Compiling part of a repository touches only that part's outputs, and nothing outside the
output directories it was given."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from compiler.cli import main
from compiler.writer import MANIFEST, read_manifest
from tests.support.paths import SLOS
from tests.support.specs import SERVICE_SPEC


def _slo(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "slos" not in p.relative_to(root).parts
    }


def _project(root: Path) -> dict[str, bytes]:
    """A copy of the reference specs, compiled whole; its outputs."""
    shutil.copytree(SLOS, root / "slos", dirs_exist_ok=True)
    code, output = _slo("compile")
    assert code == 0, output
    return _files(root)


def _owned(root: Path, owner: str) -> set[str]:
    """Files the generated MANIFEST under ``root`` lists with ``owner`` among their owners."""
    return {
        f"generated/{name}"
        for name, owners in read_manifest(root / "generated").items()
        if owners is not None and owner in owners.split(", ")
    }


def test_one_spec_rewrites_only_its_own_outputs(in_tmp_cwd: Path) -> None:
    before = _project(in_tmp_cwd)
    owned_before = _owned(in_tmp_cwd, "slos/enforcement-gate.yaml")
    spec = in_tmp_cwd / "slos" / "enforcement-gate.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9\n", "objective: 99.5\n", 1))
    code, output = _slo("compile", "slos/enforcement-gate.yaml")
    assert code == 0, output
    after = _files(in_tmp_cwd)
    changed = {name for name in set(before) | set(after) if after.get(name) != before.get(name)}
    assert changed, output
    # Its own files, and the tests of the rule shapes of its SLOs (the one it left is
    # removed, the one it joined written), as the MANIFEST says before and after.
    ours = owned_before | _owned(in_tmp_cwd, "slos/enforcement-gate.yaml")
    others = {name for name in changed if "enforcement-gate" not in name and name not in ours}
    assert others <= {"generated/MANIFEST"}, sorted(others)
    moved = set(after) ^ set(before)
    assert moved and all(name.startswith("generated/tests/shapes/") for name in moved), moved
    assert "not updated" not in output  # the whole set's outputs did not need it
    # What it wrote is what compiling everything writes.
    code, output = _slo("compile", "--check")
    assert code == 0, output


def test_a_removed_spec_is_cleaned_up_by_a_full_compile_only(in_tmp_cwd: Path) -> None:
    (in_tmp_cwd / "slos").mkdir()
    (in_tmp_cwd / "slos" / "checkout.yaml").write_text(SERVICE_SPEC)
    before = _project(in_tmp_cwd)
    owned = _owned(in_tmp_cwd, "slos/checkout.yaml")
    (in_tmp_cwd / "slos" / "checkout.yaml").unlink()
    code, output = _slo("compile", "slos/llm-providers.yaml")
    assert code == 0, output
    assert "removed" not in output.replace("0 removed", "")
    assert set(_files(in_tmp_cwd)) == set(before)
    code, output = _slo("compile")
    assert code == 0, output
    gone = set(before) - set(_files(in_tmp_cwd))
    assert gone and all("checkout" in name or name in owned for name in gone), sorted(gone)
    assert "generated/prometheus/checkout.rules.yml" in gone


def test_out_alone_puts_every_output_under_it(
    in_tmp_cwd: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shutil.copytree(SLOS, in_tmp_cwd / "slos")
    out = tmp_path_factory.mktemp("out")
    code, output = _slo("compile", "--out", str(out))
    assert code == 0, output
    assert sorted(p.name for p in in_tmp_cwd.iterdir()) == ["slos"]  # the cwd is untouched
    assert (out / "dashboards" / "slos-overview.json").is_file()
    assert (out / "prometheus" / "enforcement-gate.rules.yml").is_file()


def test_a_manifest_never_reaches_outside_its_directory(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    victim = in_tmp_cwd / "precious.txt"
    victim.write_text("keep me")
    manifest = in_tmp_cwd / "generated" / MANIFEST
    for line in ("../precious.txt\t*\n", f"{victim}\t*\n"):
        manifest.write_text(line)
        code, output = _slo("compile")
        assert code == 1 and "is not a file inside generated" in output, output
        assert "nothing was written or removed" in output
        assert victim.read_text() == "keep me"


def test_a_manifest_without_owners_is_kept_by_a_partial_compile(in_tmp_cwd: Path) -> None:
    """Manifests written before owners were recorded: nothing is removed until a full
    compile says what is no longer produced."""
    before = _project(in_tmp_cwd)
    manifest = in_tmp_cwd / "generated" / MANIFEST
    names = [line.split("\t")[0] for line in manifest.read_text().splitlines()[3:]]
    manifest.write_text("".join(f"{name}\n" for name in [*names, "prometheus/old.rules.yml"]))
    (in_tmp_cwd / "generated" / "prometheus" / "old.rules.yml").write_text("groups: []\n")
    code, output = _slo("compile", "slos/telemetry.yaml")
    assert code == 0, output
    assert (in_tmp_cwd / "generated" / "prometheus" / "old.rules.yml").exists()
    code, output = _slo("compile")
    assert code == 0, output
    assert "removed generated/prometheus/old.rules.yml" in output
    assert _files(in_tmp_cwd) == before


def test_slo_test_refuses_outputs_older_than_the_specs(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    spec = in_tmp_cwd / "slos" / "enforcement-gate.yaml"
    spec.write_text(spec.read_text().replace("objective: 99.9\n", "objective: 99.5\n", 1))
    code, output = _slo("test")
    assert code == 1
    assert "stale: generated/prometheus/enforcement-gate.rules.yml" in output
    assert "stale: generated/prometheus/agent-api.rules.yml" not in output
    assert "run `slo compile`" in output


def test_slo_test_names_the_services_it_knows(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    code, output = _slo("test", "--service", "checkout")
    assert code == 1
    assert "no tests of checkout (services: agent-api, control-plane" in output


def test_a_mistyped_path_is_an_error_not_a_smaller_compile(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    code, output = _slo("compile", "slos/agent-api.yaml", "slos/agent-apj.yaml")
    assert code == 1 and "slos/agent-apj.yaml: no such file or directory" in output


def test_specs_inside_and_outside_the_set_are_not_mixed(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    (in_tmp_cwd / "other.yaml").write_text(SERVICE_SPEC)
    code, output = _slo("compile", "slos/agent-api.yaml", "other.yaml")
    assert code == 2 and "compile them separately" in output


def test_an_environment_reaches_every_service_it_carries(in_tmp_cwd: Path) -> None:
    """Compiling an environment document alone writes what a full compile writes: its changes
    reach every service it carries (a span histogram's unit changes their rules)."""
    _project(in_tmp_cwd)
    for name in ("production", "staging"):
        environment = in_tmp_cwd / "slos" / "environments" / f"{name}.yaml"
        text = environment.read_text()
        assert "span_metrics" not in text
        environment.write_text(text + "span_metrics: {unit: s}\n")
    code, output = _slo("compile", "slos/environments")
    assert code == 0, output
    assert "wrote generated/otel/production.yaml" in output  # outputs of the whole set too
    assert _slo("compile", "--check")[0] == 0


def test_slo_test_of_one_spec_checks_that_spec(in_tmp_cwd: Path) -> None:
    _project(in_tmp_cwd)
    other = in_tmp_cwd / "slos" / "enforcement-gate.yaml"
    other.write_text(other.read_text().replace("objective: 99.9\n", "objective: 99.5\n", 1))
    code, output = _slo("test", "slos/agent-api.yaml", "--match", "no such scenario")
    assert "stale" not in output  # the other service's change is not this one's business
    assert code == 1 and "no scenario matches 'no such scenario'" in output

"""`slo convert`: foreign specs become native ones that compile to the very same rules."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from compiler import formats, pipeline, writer
from compiler.cli import main
from compiler.formats.foreign import is_native_name, native_name, result_labels, window_query
from compiler.targets.prometheus import rule_files
from tests.support.paths import ROOT
from tests.support.peer_data import sloth_dir
from tests.support.sloth_verdicts import VERDICTS

OPENSLO = ROOT / "tests" / "specs" / "openslo"
GOLDEN = ROOT / "tests" / "golden" / "convert"
ACCEPTED = sorted(name for name, (accepted, _) in VERDICTS.items() if accepted)


def _rules(paths: list[Path]) -> dict[str, object]:
    result = pipeline.compile_specs(paths)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return {s.service.name: rule_files.service_rules(s) for s in result.specs.services}


def _convert(paths: list[Path], out: Path) -> list[Path]:
    result, documents = pipeline.compile_documents(paths)
    assert result.ok, "\n".join(map(str, result.diagnostics))
    written = []
    for file in formats.converted_specs(documents):
        target = out / file.path
        target.write_bytes(writer.serialize(file))
        written.append(target)
    return written


@pytest.mark.parametrize("name", ACCEPTED)
def test_convert_then_compile_gives_the_same_rules(name: str, tmp_path: Path) -> None:
    source = sloth_dir() / name
    converted = _convert([source], tmp_path)
    assert converted
    assert _rules(converted) == _rules([source])


def test_openslo_across_files_round_trips(tmp_path: Path) -> None:
    converted = _convert([OPENSLO], tmp_path)
    assert sorted(p.name for p in converted) == ["checkout.yaml", "search.yaml"]
    assert _rules(converted) == _rules([OPENSLO])


# Paths in Sloth's fixtures, resolved when a test runs (a missing data directory fails only
# the tests that need it).
GOLDEN_INPUTS = {
    "getting-started.yml": "examples/getting-started.yml",
    "in-base-k8s.yaml": "test-integration-prometheus/testdata/in-base-k8s.yaml",
}


def test_converted_specs_match_the_golden_files(in_tmp_cwd: Path, update_golden: bool) -> None:
    """What a user reads after converting; `pytest --update-golden` rewrites them."""
    for name, source in GOLDEN_INPUTS.items():
        shutil.copy(sloth_dir() / source, in_tmp_cwd / name)
    for source in OPENSLO.iterdir():
        shutil.copy(source, in_tmp_cwd / source.name)
    out = in_tmp_cwd / "out"
    out.mkdir()
    converted = _convert([in_tmp_cwd], out)
    if update_golden:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        GOLDEN.mkdir(parents=True)
        for path in converted:
            shutil.copy(path, GOLDEN / path.name)
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(p.name for p in converted)
    for path in converted:
        assert path.read_text() == (GOLDEN / path.name).read_text(), path.name


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_cli_convert_writes_once_and_refuses_to_overwrite(in_tmp_cwd: Path) -> None:
    shutil.copy(sloth_dir() / GOLDEN_INPUTS["getting-started.yml"], in_tmp_cwd / "sloth.yml")
    code, output = _run("convert", "sloth.yml")
    assert code == 0, output
    assert "wrote slos/myservice.yaml" in output
    native = in_tmp_cwd / "slos" / "myservice.yaml"
    assert native.read_text().startswith(
        "# Converted by slo-compiler from sloth.yml (Sloth prometheus/v1).\n"
    )
    assert _run("convert", "sloth.yml")[0] == 0  # the same content again: nothing to do
    native.write_text(native.read_text().replace("99.9", "99.5"))
    code, output = _run("convert", "sloth.yml")
    assert code == 1
    assert "exists: slos/myservice.yaml" in output and "nothing written" in output
    assert "99.5" in native.read_text()
    assert _run("convert", "sloth.yml", "--force")[0] == 0
    assert "99.5" not in native.read_text()
    assert _run("validate", "slos")[0] == 0


def test_cli_convert_reports_errors_and_writes_nothing(in_tmp_cwd: Path) -> None:
    bad = sloth_dir() / "test-integration-prometheus/testdata/validate/bad/bad-aa.yaml"
    shutil.copy(bad, in_tmp_cwd / "bad.yaml")
    code, output = _run("convert", "bad.yaml", "--out", "native")
    assert code == 1
    assert "bad.yaml:28: slos[1].objective: 101 is above the maximum 100" in output
    assert not (in_tmp_cwd / "native").exists()


def test_cli_convert_needs_foreign_specs(in_tmp_cwd: Path) -> None:
    spec = in_tmp_cwd / "native.yaml"
    spec.write_text(
        "apiVersion: slo-compiler/v1\nkind: Service\nservice: {name: a, owner: b}\nslos: []\n"
    )
    code, output = _run("convert", "native.yaml")
    assert code == 1 and "nothing to convert" in output
    assert _run("convert")[0] == 2  # a path is required
    assert _run("convert", "--help")[0] == 0


# -- the translations the adapters share -------------------------------------------------

_names = st.text(alphabet=st.characters(codec="ascii"), max_size=80)


@given(_names)
def test_native_name_is_native_or_empty_and_stable(text: str) -> None:
    name = native_name(text)
    assert name == "" or is_native_name(name)
    assert native_name(name) == name


_labels = st.lists(
    st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
        lambda s: s not in {"by", "without", "on", "ignoring", "bool", "offset", "and", "or"}
    ),
    unique=True,
    max_size=4,
)


@given(_labels, st.sampled_from(["{{.window}}", "{{ .window }}", "{{.window }}"]))
def test_window_placeholders_and_kept_labels(labels: list[str], placeholder: str) -> None:
    by = f" by ({', '.join(labels)})" if labels else ""
    query = f"sum{by} (rate(http_requests_total[{placeholder}]))"
    assert window_query(query) == f"sum{by} (rate(http_requests_total[$window]))"
    assert result_labels(query) == tuple(sorted(labels))
    ratio = f"{query} / {query.replace('http_requests_total', 'x_total')}"
    assert result_labels(ratio) == tuple(sorted(labels))
    assert result_labels(f"1 - ({ratio})") == tuple(sorted(labels))

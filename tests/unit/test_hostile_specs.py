"""Hostile input: every spec in tests/hostile/ is refused with its file and line, without a
traceback and without writing anything; and no mutation of a valid spec, however odd, gets
anything but our own diagnostics out of the loader and the checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import pipeline
from compiler.cli import main
from compiler.diagnostics import Severity, SpecError
from compiler.load.discovery import discover, display_path
from compiler.load.loader import MAX_FILE_BYTES, load_file, load_text
from compiler.promql import (
    PromQLError,
    has_window,
    normalized,
    parse,
    selectors_in,
    substitute_window,
)
from compiler.validate.alert_texts import template_problems
from tests.support.paths import ROOT
from tests.support.specs import SERVICE_SPEC, SIGNAL_SPEC

CORPUS = sorted((ROOT / "tests" / "hostile").glob("*.yaml"))


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= 18


@pytest.mark.parametrize("spec", CORPUS, ids=[path.stem for path in CORPUS])
@pytest.mark.parametrize("command", ["validate", "compile"])
def test_every_hostile_spec_is_refused(spec: Path, command: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [command, str(spec)] + (["--out", str(out)] if command == "compile" else [])
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert "Traceback" not in result.output
    assert re.search(rf"{re.escape(display_path(spec))}:\d+: ", result.output), result.output
    assert not out.exists()


def test_a_directory_where_an_output_goes_is_an_error_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "checkout.yaml"
    spec.write_text(SERVICE_SPEC)
    out = tmp_path / "out"
    (out / "prometheus" / "checkout.rules.yml").mkdir(parents=True)
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert result.exit_code == 1
    assert "a directory is in its place; nothing written" in result.output
    assert [p.name for p in out.rglob("*") if p.is_file()] == []


def test_a_file_where_an_output_directory_goes_is_an_error(tmp_path: Path) -> None:
    spec = tmp_path / "checkout.yaml"
    spec.write_text(SERVICE_SPEC)
    out = tmp_path / "out"
    out.mkdir()
    (out / "prometheus").write_text("not a directory")
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert result.exit_code == 1 and "cannot write" in result.output, result.output
    assert "nothing written" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in out.rglob("*")) == ["prometheus"]


def test_one_directory_for_both_outputs_is_a_usage_error(tmp_path: Path) -> None:
    spec = tmp_path / "checkout.yaml"
    spec.write_text(SERVICE_SPEC)
    both = str(tmp_path / "out")
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", both, "--dashboards", both])
    assert result.exit_code == 2 and "--out and --dashboards name one directory" in result.output


def test_a_manifest_line_through_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "checkout.yaml"
    spec.write_text(SERVICE_SPEC)
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.yml").write_text("keep me")
    out.mkdir()
    (out / "linked").symlink_to(elsewhere)
    (out / "MANIFEST").write_text("linked/precious.yml\t*\n")
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert result.exit_code == 1
    assert f"{out}/MANIFEST:1: 'linked/precious.yml' is not a file inside" in result.output
    assert (elsewhere / "precious.yml").read_text() == "keep me"


# -- the fuzzer -------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**45), max_value=10**45),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["5m", "0s", "1y", "99999d", "{{ 7*7 }}", "$window", 'x{a="b"}', "..", ""]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


BASE = yaml.safe_load(SERVICE_SPEC)
PATHS = _paths(BASE)


def _replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[head] = _replaced(copy[head], tuple(rest), value)  # type: ignore[index]
    return copy


@settings(max_examples=150, deadline=None)
@given(path=st.sampled_from(PATHS), value=_VALUES)
def test_any_mutation_of_a_valid_spec_gets_diagnostics_not_exceptions(
    tmp_path_factory: pytest.TempPathFactory, path: tuple[Any, ...], value: Any
) -> None:
    spec = tmp_path_factory.mktemp("fuzz") / "checkout.yaml"
    spec.write_text(yaml.safe_dump(_replaced(BASE, path, value), allow_unicode=True))
    result = pipeline.compile_specs([spec])
    if result.ok:
        pipeline.outputs(result.specs)  # what validates also compiles
    else:
        assert all(d.location.file for d in result.diagnostics)


def test_a_manifest_line_naming_a_directory_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "checkout.yaml"
    spec.write_text(SERVICE_SPEC)
    out = tmp_path / "out"
    (out / "prometheus").mkdir(parents=True)
    (out / "MANIFEST").write_text("prometheus\t*\n")
    result = CliRunner().invoke(main, ["compile", str(spec), "--out", str(out)])
    assert result.exit_code == 1 and "'prometheus' is not a file inside" in result.output
    assert (out / "prometheus").is_dir() and not list((out / "prometheus").iterdir())


def test_expressions_compare_as_prometheus_prints_them() -> None:
    """Prometheus returns rules with each selector's matchers sorted."""
    compiled = 'sum(rate(x_bucket{route="/api", le=~"1|1\\\\.0"}[5m])) / 2'
    running = 'sum(rate(x_bucket{le=~"1|1\\\\.0",route="/api"}[5m])) / 2'
    assert normalized(compiled) == normalized(running)
    assert normalized(compiled) != normalized("vector(0)")


def test_deep_promql_is_refused_before_the_parser_sees_it() -> None:
    with pytest.raises(PromQLError, match="nested more than 64 levels"):
        parse("(" * 10_000 + "1" + ")" * 10_000)


def test_long_chains_of_operators_are_refused_before_the_parser_sees_them() -> None:
    """The parser's memory grows with the square of a chain (1,000 terms: 400 MB)."""
    chain = " + ".join(f'sum(rate(x{{code="{i}"}}[5m]))' for i in range(202))
    with pytest.raises(PromQLError, match="more than 200 operators"):
        parse(chain)
    parse(chain.rsplit(" + ", 1)[0])  # 200 operators are fine
    parse('x{a=~"a+b*<>==!=", b!="and or unless"} == 1')  # inside strings nothing counts


def test_walking_a_large_expression_costs_its_size() -> None:
    """The parser's own walk copied every subtree (a 300-term sum took 13 s to validate)."""
    tree = parse(" + ".join(f'sum(rate(x{{code="{i}"}}[5m]))' for i in range(200)))
    assert len(selectors_in(tree)) == 200


def test_a_value_longer_than_the_limit_is_refused_at_its_line() -> None:
    text = SERVICE_SPEC.replace(
        "objective: 99.9", f"objective: 99.9\n    description: {'x' * 70_000}"
    )
    with pytest.raises(SpecError) as error:
        load_text(text, "checkout.yaml")
    (problem,) = error.value.diagnostics
    assert problem.location.line > 1 and "a value of 70,000 characters: at most 65,536" in str(
        problem
    )


def test_a_file_larger_than_the_limit_is_not_read(tmp_path: Path) -> None:
    spec = tmp_path / "huge.yaml"
    with spec.open("wb") as stream:
        stream.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is written, or read
    with pytest.raises(SpecError, match="a spec file holds at most 16,777,216"):
        load_file(spec)


def test_a_broken_spec_elsewhere_in_the_set_fails_a_partial_validate(in_tmp_cwd: Path) -> None:
    (in_tmp_cwd / "slos").mkdir()
    (in_tmp_cwd / "slos" / "checkout.yaml").write_text(SERVICE_SPEC)
    (in_tmp_cwd / "slos" / "broken.yaml").write_text(
        SERVICE_SPEC.replace("checkout", "broken").replace("objective: 99.9", "objective: 100")
    )
    result = CliRunner().invoke(main, ["validate", "slos/checkout.yaml"])
    assert result.exit_code == 1
    assert "1 error(s) in other specs of the set" in result.output


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("{{ $labels.tenant }} at {{ $value | humanizePercentage }}", True),
        ("{{- $labels.tenant -}}", True),
        ("{{-$value}}", False),
        ("{{ $value - }}", False),
        ('{{ with query "up" }}{{ . }}{{ end }}', False),
        ("a {b: {c: 1}}", True),
        ("{{ $value", False),
    ],
)
def test_annotation_templates(text: str, allowed: bool) -> None:
    data = {"signals": [{"annotations": {"note": text}}]}
    assert (not list(template_problems(data))) is allowed


def test_label_values_of_signals_are_plain_even_when_named_summary() -> None:
    data = {"signals": [{"labels": {"summary": "{{ $value }}"}}]}
    assert list(template_problems(data))


def test_the_window_placeholder_inside_a_string_is_text() -> None:
    query = "sum(rate(x{path=\"/$window\", q='$window'}[$window]))"
    assert substitute_window(query, "1h") == "sum(rate(x{path=\"/$window\", q='$window'}[1h]))"
    assert has_window(query) and not has_window('x{path="/$window"}')


def test_links_inside_a_spec_directory_are_skipped_with_a_warning(tmp_path: Path) -> None:
    """One rule for files and directories: a link inside a searched directory is never
    followed (it could lead anywhere), and never skipped silently; named, it is followed."""
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "team").mkdir(parents=True)
    (elsewhere / "shop.yaml").write_text(SIGNAL_SPEC)
    (elsewhere / "team" / "checkout.yaml").write_text(SERVICE_SPEC)
    specs = tmp_path / "slos"
    specs.mkdir()
    (specs / "shop.yaml").symlink_to(elsewhere / "shop.yaml")
    (specs / "team").symlink_to(elsewhere / "team")
    (specs / "README.md").symlink_to(elsewhere / "shop.yaml")  # not a spec's name: quiet
    found, problems = discover([specs])
    assert found == []
    assert sorted(Path(p.location.file).name for p in problems) == ["shop.yaml", "slos", "team"]
    assert "no spec files" in next(p.message for p in problems if p.location.file == str(specs))
    warned = [p for p in problems if p.severity is Severity.WARNING]
    assert len(warned) == 2 and all("symbolic link, skipped" in p.message for p in warned)
    assert discover([specs / "shop.yaml", specs / "team"])[0] == [
        specs / "shop.yaml",
        specs / "team" / "checkout.yaml",
    ]

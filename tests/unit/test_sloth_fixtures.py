"""Sloth's own test data: what Sloth accepts compiles here, what it rejects is rejected.

Verdicts are Sloth v0.16's (docs/peers.md explains each). Inputs that need Sloth's Go
plugins are rejected with a message naming the plugin. ``bad-openslo.yaml`` is marked bad
in Sloth's tree, but Sloth v0.16 accepts it on its own (28d is in its default catalog); only
the ``validate/bad`` directory as a whole fails in Sloth's test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import pipeline
from compiler.diagnostics import Severity
from compiler.load import discovery
from compiler.model.service import SpecSet
from compiler.targets.prometheus import rule_files
from tests.support.peer_data import sloth_dir
from tests.support.sloth_verdicts import DATA, VERDICTS


def _inputs() -> set[str]:
    """Every spec among Sloth's fixtures (not its outputs, not its window catalog)."""
    return {
        p.relative_to(sloth_dir()).as_posix()
        for p in sloth_dir().rglob("*")
        if p.suffix in (".yaml", ".yml")
        and "_gen" not in p.parts
        and "windows" not in p.parts
        and not p.name.startswith("out-")
    }


def test_every_sloth_input_has_a_verdict() -> None:
    assert _inputs() == set(VERDICTS)


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_sloth_verdict(name: str) -> None:
    accepted, expected = VERDICTS[name]
    path = sloth_dir() / name
    result = pipeline.compile_specs([path])
    shown = discovery.display_path(path)
    messages = [str(d).removeprefix(f"{shown}:") for d in result.diagnostics]
    assert result.ok == accepted, "\n".join(messages)
    for text in expected:
        assert any(m.startswith(text) for m in messages), f"{text!r} not in {messages}"
    if accepted:
        assert result.specs.slos
    else:  # a clear message: file, line and field of the problem
        errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
        assert errors and all(d.location.file == shown and d.location.line for d in errors)


def _rules(specs: SpecSet) -> list[dict[str, object]]:
    return [rule_files.service_rules(spec) for spec in specs.services]


def test_the_two_sloth_forms_compile_to_the_same_rules() -> None:
    plain = pipeline.compile_specs([sloth_dir() / DATA / "in-base.yaml"])
    kubernetes = pipeline.compile_specs([sloth_dir() / DATA / "in-base-k8s.yaml"])
    assert plain.ok and kubernetes.ok, (plain.diagnostics, kubernetes.diagnostics)
    assert _rules(plain.specs)
    assert _rules(plain.specs) == _rules(kubernetes.specs)


def test_sloth_page_and_ticket_become_the_default_tiers() -> None:
    result = pipeline.compile_specs([sloth_dir() / DATA / "in-base.yaml"])
    slo = result.specs.slos[0]
    assert str(slo.period) == "30d"
    shape = [
        (
            t.alert,
            t.severity,
            str(t.long_window),
            str(t.short_window),
            str(t.burn_factor),
            dict(t.labels),
        )
        for t in slo.tiers
    ]
    page = {"sloth_severity": "page", "alert03k1": "alert03v1"}
    ticket = {"sloth_severity": "ticket", "alert04k1": "alert04v1"}
    assert shape == [
        ("myServiceAlert", "critical", "1h", "5m", "14.4", page),
        ("myServiceAlert", "critical", "6h", "30m", "6", page),
        ("myServiceAlert", "warning", "1d", "2h", "3", ticket),
        ("myServiceAlert", "warning", "3d", "6h", "1", ticket),
    ]
    # Sloth's labels: the spec's and the SLO's on the SLO, alerting.labels on every alert.
    assert dict(slo.labels) == {
        "global01k1": "global01v1",
        "global02k1": "global02v1",
        "alert01k1": "alert01v1",
    }
    assert dict(slo.alert_annotations) == {"alert02k1": "alert02k2"}
    # Our low-traffic guard stays on: ten bad events at each tier's threshold.
    assert [t.min_events for t in slo.tiers] == [695, 1667, 3334, 10000]
    # slo02's alerts are disabled in Sloth: no tiers here either.
    assert result.specs.slos[1].tiers == ()


def test_ignored_keys_are_ignored_as_sloth_ignores_them() -> None:
    """good-aa's pageAlert labels never reached Sloth's alerts; they do not reach ours."""
    result = pipeline.compile_specs([sloth_dir() / DATA / "validate/good/good-aa.yaml"])
    labels = [dict(t.labels) for t in result.specs.slos[0].tiers]
    assert all("alert03k1" not in tier and "alert04k1" not in tier for tier in labels)
    assert [tier["sloth_severity"] for tier in labels] == ["page", "page", "ticket", "ticket"]


def test_the_validate_good_directory_has_duplicate_slos_as_in_sloth(tmp_path: Path) -> None:
    """Sloth's own test validates it with --ignore-slo-duplicates: svc01's SLOs repeat."""
    result = pipeline.compile_specs([sloth_dir() / DATA / "validate/good"])
    assert not result.ok
    duplicates = [d for d in result.diagnostics if "is also defined" in d.message]
    assert duplicates
    assert any("SLO 'slo1' of service 'svc01' is also defined at" in str(d) for d in duplicates)

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
from compiler.model import SpecSet
from compiler.targets import prometheus
from tests.peer_data import sloth_dir

DATA = "test-integration-prometheus/testdata"
# Sloth's fixtures use pageAlert/ticketAlert in prometheus/v1 specs, where Sloth ignores them.
PAGE_ALERT_WARNINGS = (
    "21: slos[0].alerting.pageAlert: warning: Sloth ignores 'pageAlert' in a prometheus/v1 "
    "spec (the key is 'page_alert')",
    "24: slos[0].alerting.ticketAlert: warning: Sloth ignores 'ticketAlert' in a prometheus/v1 "
    "spec (the key is 'ticket_alert')",
)
PLUGIN1 = "Sloth SLO plugin 'integration-tests/plugin1' cannot run here"

# file → (accepted?, what the messages must say, as "line: text")
VERDICTS: dict[str, tuple[bool, tuple[str, ...]]] = {
    f"{DATA}/in-base.yaml": (True, ()),
    f"{DATA}/in-base-k8s.yaml": (True, ()),
    f"{DATA}/in-openslo.yaml": (True, ()),
    f"{DATA}/in-invalid-version.yaml": (
        False,
        ("1: version: version 'prometheus/v999' is not a known spec format",),
    ),
    f"{DATA}/in-slo-plugin.yaml": (
        False,
        (
            f"8: slo_plugins.chain[0].id: {PLUGIN1}",
            f"11: slo_plugins.chain[1].id: {PLUGIN1}",
            f"24: slos[0].plugins.chain[0].id: {PLUGIN1}",
            f"26: slos[0].plugins.chain[1].id: {PLUGIN1}",
        ),
    ),
    **{
        f"{DATA}/validate/good/good-{name}.yaml": (True, PAGE_ALERT_WARNINGS)
        for name in ("aa", "ab", "ba")
    },
    f"{DATA}/validate/good/good-k8s.yaml": (True, ()),
    f"{DATA}/validate/good/good-multi.yaml": (True, ()),
    f"{DATA}/validate/good/good-multi-k8s.yaml": (True, ()),
    f"{DATA}/validate/good/good-openslo.yaml": (True, ()),
    **{
        f"{DATA}/validate/bad/bad-{name}.yaml": (
            False,
            ("28: slos[1].objective: 101 is above the maximum 100", *PAGE_ALERT_WARNINGS),
        )
        for name in ("aa", "ab", "ba")
    },
    f"{DATA}/validate/bad/bad-k8s.yaml": (
        False,
        ("7: spec.service: '' is not a valid name",),
    ),
    f"{DATA}/validate/bad/bad-multi-k8s.yaml": (
        False,
        ("22: spec.slos[0].alerting.name: alerting.name is required while the page or ticket",),
    ),
    f"{DATA}/validate/bad/bad-multi.yaml": (False, ("77: slos[1].sli: must not be empty",)),
    f"{DATA}/validate/bad/bad-openslo.yaml": (True, ()),
    "examples/getting-started.yml": (
        True,
        (
            "25: slos[0].alerting.page_alert.labels.severity: warning: label 'severity: "
            "pageteam' is dropped",
        ),
    ),
    "examples/openslo-getting-started.yml": (True, ()),
    "examples/contrib-denominator-corrected.yaml": (
        False,
        (
            "12: spec.sloPlugins.chain[0].id: Sloth SLO plugin "
            "'sloth.dev/contrib/denominator_corrected_rules/v1' is not supported",
        ),
    ),
}


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
    shown = pipeline.display_path(path)
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
    return [prometheus.service_rules(spec) for spec in specs.services]


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

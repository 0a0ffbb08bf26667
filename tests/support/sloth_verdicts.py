"""Sloth v0.16's verdict on each of its own test inputs, with what our messages must say.

docs/peers.md explains each verdict; the Sloth fixture and conversion tests both read them.
"""

from __future__ import annotations

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

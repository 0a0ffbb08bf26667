"""Reading Sloth specs: strict keys, Sloth's semantics, messages at the original lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.load.discovery import display_path
from compiler.targets.prometheus import rule_files
from tests.support.formats import SLOTH, compile_files, sloth_with

NATIVE = """\
apiVersion: slo-compiler/v1
kind: Service
service: {name: payments, owner: team-pay}
slos:
  - name: charges
    objective: 99.5
    sli: {ratio: {bad: charges_failed_total, total: charges_total}}
    alerting: {disabled: true}
"""


def test_the_example_compiles(tmp_path: Path) -> None:
    result, messages = compile_files(tmp_path, {"checkout.yaml": SLOTH})
    assert result.ok, messages
    spec = result.specs.services[0]
    assert (spec.service.name, spec.service.owner) == ("checkout", "team-shop")
    slo = spec.slos[0]
    assert [dict(t.labels)["routing"] for t in slo.tiers] == ["pager", "pager", "slack", "slack"]
    # {{.window}} became the native placeholder; the 5m base window reads the raw series.
    rules = rule_files.service_rules(spec)["groups"][0]["rules"]
    assert 'http_requests_total{code=~"5.."}[5m]' in rules[1]["expr"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  - name: requests",
            "  - name: requests\n    ojective: 99",
            "checkout.yaml:7: slos[0].ojective: unknown field 'ojective' (did you mean "
            "'objective'?)",
        ),
        (
            "version: prometheus/v1\nservice: checkout",
            "version: prometheus/v1\nService: checkout",
            "checkout.yaml:2: Service: unknown field 'Service' (did you mean 'service'?)",
        ),
        (
            "        error_query:",
            "        errorQuery:",
            "checkout.yaml:10: slos[0].sli.events.errorQuery: unknown field 'errorQuery' (did "
            "you mean 'error_query'?)",
        ),
        (
            "[{{.window}}]))\n        total_query",
            "[5m]))\n        total_query",
            "checkout.yaml:10: slos[0].sli.events.error_query: the query must contain "
            "{{.window}} where the range goes",
        ),
        (
            "[{{.window}}]))\n        total_query",
            "[{{.Window}}]))\n        total_query",
            "checkout.yaml:10: slos[0].sli.events.error_query: unsupported template "
            "'{{.Window}}': only {{.window}} is known",
        ),
        (
            'sum(rate(http_requests_total{code=~"5.."}',
            'sum(rate(http_requests_total{code=~"5.."',
            "checkout.yaml:10: slos[0].sli.events.error_query: PromQL does not parse:",
        ),
        (
            "objective: 99.9",
            "objective: 100",
            "checkout.yaml:7: slos[0].objective: an objective of 100 leaves no error budget",
        ),
        (
            "      name: CheckoutErrors\n",
            "",
            "checkout.yaml:12: slos[0].alerting: alerting.name is required while the page or "
            "ticket alert is enabled",
        ),
        (
            "      name: CheckoutErrors",
            "      name: checkout-errors",
            "checkout.yaml:13: slos[0].alerting.name: 'checkout-errors' must be letters, "
            "digits and underscores",
        ),
        (
            "    sli:\n      events:",
            "    sli:\n      plugin: {id: sloth-common/availability, options: {a: b}}\n"
            "      events:",
            "checkout.yaml:8: slos[0].sli: give only one of events, plugin",
        ),
        (
            "    sli:\n      events:\n        error_query: sum(rate(http_requests_total"
            '{code=~"5.."}[{{.window}}]))\n        total_query: sum(rate(http_requests_total'
            "[{{.window}}]))",
            "    sli:\n      plugin: {id: sloth-common/availability}",
            "checkout.yaml:9: slos[0].sli.plugin.id: Sloth SLI plugin "
            "'sloth-common/availability' cannot run here",
        ),
        (
            'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
            'sum by (route) (rate(http_requests_total{code=~"5.."}[{{.window}}]))',
            "checkout.yaml:11: slos[0].sli.events.total_query: the queries keep different "
            "labels, (route) and ()",
        ),
    ],
)
def test_each_problem_points_at_the_sloth_file(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    result, messages = compile_files(tmp_path, {"checkout.yaml": sloth_with(old, new)})
    assert not result.ok
    assert any(m.startswith(expected) for m in messages), messages


def test_kubernetes_form_is_strict_about_its_own_spelling(tmp_path: Path) -> None:
    spec = """\
    apiVersion: sloth.slok.dev/v1
    kind: PrometheusServiceLevel
    metadata: {name: checkout, namespace: shop, resourceVersion: "12"}
    spec:
      service: checkout
      slos:
        - name: requests
          objective: 99.9
          sli:
            raw:
              errorRatioQuery: sum(rate(e_total[{{.window}}])) / sum(rate(r_total[{{.window}}]))
          alerting:
            name: CheckoutErrors
            page_alert: {disable: true}
    status: {processedSLOs: 1}
    """
    result, messages = compile_files(tmp_path, {"k8s.yaml": spec})
    assert messages[0] == (
        "k8s.yaml:14: spec.slos[0].alerting.page_alert: unknown field 'page_alert' (did you "
        "mean 'pageAlert'?)"
    )
    result, messages = compile_files(
        tmp_path, {"k8s.yaml": spec.replace("page_alert", "pageAlert")}
    )
    assert result.ok, messages
    # A raw ratio has no event counts: the guard cannot apply, and the user is told.
    assert any("raw error-ratio SLI carries no event counts" in m for m in messages)
    tiers = result.specs.slos[0].tiers
    assert [t.severity for t in tiers] == ["warning", "warning"]
    assert all(t.min_events == 0 for t in tiers)


def test_labels_the_compiler_owns_are_dropped_with_a_warning(tmp_path: Path) -> None:
    text = sloth_with("labels: {routing: pager}", "labels: {routing: pager, severity: sev1}")
    result, messages = compile_files(tmp_path, {"checkout.yaml": text})
    assert result.ok
    assert (
        messages.count(
            "checkout.yaml:15: slos[0].alerting.page_alert.labels.severity: warning: label "
            "'severity: sev1' is dropped: the compiler sets 'severity' itself (critical for "
            "Sloth's page alert, warning for its ticket alert; the label sloth_severity keeps "
            "page or ticket)"
        )
        == 1
    )
    assert {t.severity for t in result.specs.slos[0].tiers} == {"critical", "warning"}


def test_names_are_made_native_with_a_warning(tmp_path: Path) -> None:
    text = sloth_with("service: checkout", "service: Checkout_API").replace(
        "name: requests", "name: Requests.v2"
    )
    result, messages = compile_files(tmp_path, {"checkout.yaml": text})
    assert result.ok, messages
    assert (result.specs.services[0].service.name, result.specs.slos[0].name) == (
        "checkout-api",
        "requests-v2",
    )
    assert "becomes 'checkout-api'" in messages[0]


def test_queries_that_keep_labels_split_the_slo(tmp_path: Path) -> None:
    text = SLOTH.replace("sum(rate(", "sum by (route) (rate(")
    result, messages = compile_files(tmp_path, {"checkout.yaml": text})
    assert result.ok, messages
    assert result.specs.slos[0].group_by == ("route",)


def test_a_query_of_unknown_shape_is_summed_with_a_warning(tmp_path: Path) -> None:
    text = SLOTH.replace(
        'sum(rate(http_requests_total{code=~"5.."}', 'rate(http_requests_total{code=~"5.."}'
    )
    text = text.replace("[{{.window}}]))\n        total", "[{{.window}}])\n        total")
    result, messages = compile_files(tmp_path, {"checkout.yaml": text})
    assert result.ok, messages
    assert any("cannot tell which labels this query's result keeps" in m for m in messages)


def test_a_directory_may_mix_formats_and_spread_a_service(tmp_path: Path) -> None:
    second = SLOTH.replace("name: requests", "name: latency")
    openslo = """\
    apiVersion: openslo/v1alpha
    kind: SLO
    metadata: {name: logins}
    spec:
      service: checkout
      objectives:
        - target: 0.99
          ratioMetrics:
            good: {source: prometheus, query: "sum(rate(logins_ok_total[{{.window}}]))"}
            total: {source: prometheus, query: "sum(rate(logins_total[{{.window}}]))"}
    """
    result, messages = compile_files(
        tmp_path,
        {
            "a/checkout.yaml": SLOTH,
            "b/more.yaml": second,
            "c/logins.yaml": openslo,
            "native.yaml": NATIVE,
        },
    )
    assert result.ok, messages
    checkout = next(s for s in result.specs.services if s.service.name == "checkout")
    assert [slo.name for slo in checkout.slos] == ["requests", "latency", "logins"]
    shown = display_path(tmp_path)
    assert checkout.source.split(", ") == [
        f"{shown}/{name}" for name in ("a/checkout.yaml", "b/more.yaml", "c/logins.yaml")
    ]
    assert {s.service.name for s in result.specs.services} == {"checkout", "payments"}


def test_the_same_slo_in_two_files_is_an_error_naming_both(tmp_path: Path) -> None:
    result, messages = compile_files(tmp_path, {"a.yaml": SLOTH, "b.yaml": SLOTH})
    assert not result.ok
    assert (
        "b.yaml:6: slos[0].name: SLO 'requests' of service 'checkout' is also defined at "
        in (messages[-1])
    )
    assert messages[-1].endswith("a.yaml:6")


def test_unknown_versions_and_kinds_say_what_is_known(tmp_path: Path) -> None:
    windows = "apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec: {sloPeriod: 7d}\n"
    other = "apiVersion: openslo/v2alpha\nkind: SLO\n"
    result, messages = compile_files(tmp_path, {"w.yaml": windows, "o.yaml": other})
    assert not result.ok
    assert messages[0].startswith("o.yaml:1: apiVersion: apiVersion 'openslo/v2alpha': expected")
    assert "OpenSLO's apiVersion: openslo/v1 and openslo/v1alpha" in messages[0]
    assert messages[1].startswith(
        "w.yaml:2: kind: kind 'AlertWindows' of sloth.slok.dev/v1 is not read"
    )

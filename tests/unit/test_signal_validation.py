"""Problems in signals and routing specs: each named with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import pipeline
from compiler.diagnostics import Severity
from compiler.load import discovery
from tests.support.specs import ROUTING_SPEC, SIGNAL_SPEC, diagnostics_of

QUEUE_THRESHOLD = "    threshold:\n      gauge: queue_depth\n      above: 1000\n"
NO_DATA = "    no_data:\n      window: 5m\n      job: shop\n"


def _with(old: str, new: str, base: str = SIGNAL_SPEC) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def test_the_example_is_valid(tmp_path: Path) -> None:
    assert diagnostics_of(tmp_path, SIGNAL_SPEC, "shop.yaml") == []
    assert diagnostics_of(tmp_path, ROUTING_SPEC, "routing.yaml") == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  - name: QueueDeep\n",
            "  - name: ErrorsHigh\n",
            "shop.yaml:33: signals[1].name: duplicate signal 'ErrorsHigh' (also signals[0])",
        ),
        (
            "  - name: QueueDeep\n",
            "  - name: ShopBurnFast\n",
            "shop.yaml:33: signals[1].name: 'ShopBurnFast' is already a burn-rate alert of SLO "
            "'availability'",
        ),
        (
            "    group_by: [queue]\n",
            "    group_by: [severity]\n",
            "shop.yaml:36: signals[1].group_by[0]: cannot group by 'severity': the compiler "
            "sets it",
        ),
        (
            "    for: 10m\n",
            "    for: 10m\n    labels: {telemetry: other}\n",
            "shop.yaml:41: signals[1].labels.telemetry: label 'telemetry' is set by the "
            "compiler; choose another",
        ),
        (
            "    telemetry: direct\n",
            "",
            "shop.yaml:43: signals[2].pipeline_down: this alert reports 'collector' down, so its "
            "own data cannot arrive through 'collector': set telemetry: direct",
        ),
        (
            "{{ $labels.queue }}",
            "{{ $labels.tenant }}",
            "shop.yaml:35: signals[1].summary: refers to $labels.tenant, which this alert does "
            "not carry (it carries queue, service, severity, telemetry)",
        ),
        (
            "    for: 10m\n",
            "    for: 10m\n    trend: {gauge: queue_depth, window: 5m}\n",
            "shop.yaml:33: signals[1]: give exactly one condition: threshold, new_events, "
            "no_data, baseline, trend, promql (found threshold, trend)",
        ),
        (
            QUEUE_THRESHOLD,
            "",
            "shop.yaml:33: signals[1]: give exactly one condition: threshold, new_events, "
            "no_data, baseline, trend, promql",
        ),
        (
            "      above: 1000\n",
            "      above: 1000\n      below: 10\n",
            "shop.yaml:37: signals[1].threshold: give either above or below",
        ),
        (
            "      above: 0.05\n",
            "      above: 1\n",
            "shop.yaml:32: signals[0].threshold.above: can never fire: a ratio is at most 1, "
            "never above 1",
        ),
        (
            "      above: 0.05\n",
            "      below: 1.5\n",
            "shop.yaml:32: signals[0].threshold.below: fires whenever there is data: a ratio is "
            "at most 1, always below 1.5",
        ),
        (
            "      above: 0.05\n",
            "      below: 0\n",
            "shop.yaml:32: signals[0].threshold.below: can never fire: the value is never below 0",
        ),
        (
            "      above: 0.05\n",
            "      above: -1\n",
            "shop.yaml:32: signals[0].threshold.above: fires whenever there is data: the value "
            "is never below 0, let alone -1",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    threshold: {histogram: request_seconds, quantile: 0.99, above: 1}\n",
            "shop.yaml:36: signals[1].threshold.above: can never fire: histogram_quantile "
            "reports at most the largest bucket bound 1, never above 1",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_depth\n      rate: requests_total\n",
            "shop.yaml:37: signals[1].threshold: give exactly one measure: rate, ratio, gauge, "
            "histogram (found rate, gauge)",
        ),
        (
            "      gauge: queue_depth\n",
            "",
            "shop.yaml:37: signals[1].threshold: give exactly one measure: rate, ratio, gauge, "
            "histogram",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_depth\n      per: 1h\n",
            "shop.yaml:39: signals[1].threshold.per: 'per' goes with rate only",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_depth\n      quantile: 0.5\n",
            "shop.yaml:39: signals[1].threshold.quantile: 'quantile' goes with histogram only",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_depth\n      min_events: 10\n",
            "shop.yaml:39: signals[1].threshold.min_events: 'min_events' goes with ratio or "
            "histogram only",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_depth\n      window: 5m\n",
            "shop.yaml:39: signals[1].threshold.window: a gauge is read as it is now, not over a "
            "window; use 'for' to require a value for a while",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    threshold: {histogram: request_seconds, above: 0.5}\n",
            "shop.yaml:36: signals[1].threshold: give the quantile to read from the histogram, "
            "e.g. quantile: 0.99",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    threshold: {gauge: requests_total, above: 5}\n",
            "shop.yaml:36: signals[1].threshold.gauge: 'requests_total' is a counter; a counter "
            "only grows: watch its rate instead",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    threshold: {gauge: request_seconds, above: 5}\n",
            "shop.yaml:36: signals[1].threshold.gauge: 'request_seconds' is a histogram; read a "
            "quantile with histogram: and quantile:",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_depth{\n",
            "shop.yaml:38: signals[1].threshold.gauge: unexpected end of input inside braces",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    threshold: {histogram: request_seconds_bucket, quantile: 0.9, above: 0.5}\n",
            "shop.yaml:36: signals[1].threshold.histogram: name the histogram by its base name "
            "'request_seconds'",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    threshold: {histogram: 'request_seconds{le=\"1\"}', quantile: 0.9, above: 0.5}\n",
            "shop.yaml:36: signals[1].threshold.histogram: do not match on 'le'; the compiler "
            "chooses the buckets",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_dept\n",
            "shop.yaml:38: signals[1].threshold.gauge: series 'queue_dept' is not declared under "
            "metrics (did you mean 'queue_depth'?)",
        ),
        (
            "    group_by: [queue]\n",
            "    group_by: [qeue]\n",
            "shop.yaml:38: signals[1].threshold.gauge: 'queue_depth' has no label 'qeue' (did "
            "you mean 'queue'?); declared labels: queue",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    baseline: {gauge: queue_depth, factor: 2, floor: 10}\n",
            "shop.yaml:36: signals[1].baseline: give baseline_window: a gauge's baseline is its "
            "average over it",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    baseline: {rate: 'sum(rate(requests_total[$window]))', baseline_offset: 1w,\n"
            "               factor: 2, floor: 10}\n",
            "shop.yaml:36: signals[1].baseline.baseline_offset: a query cannot be shifted back "
            "in time: give counter selectors to compare against an earlier window",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    baseline: {rate: requests_total, window: 5m, baseline_window: 30m, factor: 3,\n"
            "               floor: 10}\n",
            "shop.yaml:36: signals[1].baseline.baseline_window: can never fire: a rolling "
            "baseline over 30m catches up with any lasting change before it has held for 15m; "
            "make it longer than 45m, or set baseline_offset (e.g. 1w)",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    baseline: {rate: requests_total, factor: 1, floor: 10, baseline_offset: 1w}\n",
            "shop.yaml:36: signals[1].baseline.factor: 1 is not above 1",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    baseline: {rate: requests_total, factor: 2, baseline_offset: 1w}\n",
            "shop.yaml:36: signals[1].baseline: missing required field 'floor'",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD + "    for: 10m\n",
            "    new_events: {counter: requests_total, window: 5m, lookback: 5m}\n",
            "shop.yaml:36: signals[1].new_events.lookback: lookback 5m must be longer than "
            "window 5m",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    new_events: {counter: requests_total, window: 5m}\n",
            "shop.yaml:37: signals[1].for: for 10m is not shorter than the window 5m: a single "
            "new event would never fire",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD + "    for: 10m\n",
            "    new_events: {counter: queue_depth}\n",
            "shop.yaml:36: signals[1].new_events.counter: 'queue_depth' is a gauge; counting "
            "events needs a counter",
        ),
        (
            "    group_by: [queue]\n" + QUEUE_THRESHOLD,
            "    trend: {gauge: requests_total, window: 10m}\n",
            "shop.yaml:36: signals[1].trend.gauge: 'requests_total' is a counter; a counter "
            "only grows: watch its rate instead",
        ),
        (
            NO_DATA,
            "    no_data:\n      window: 5m\n",
            "shop.yaml:45: signals[2].no_data: give what to watch: job, series or counters",
        ),
        (
            NO_DATA,
            "    group_by: [job]\n" + NO_DATA + "      lookback: 5m\n",
            "shop.yaml:49: signals[2].no_data.lookback: lookback 5m must be longer than window 5m",
        ),
        (
            NO_DATA,
            "    no_data:\n      window: 5m\n      counters: [queue_depth]\n",
            "shop.yaml:47: signals[2].no_data.counters[0]: 'queue_depth' is a gauge; counting "
            "events needs a counter",
        ),
        (
            QUEUE_THRESHOLD,
            "    promql: sum(rate(requests_total[5m]) > 1\n",
            "shop.yaml:37: signals[1].promql: PromQL does not parse: unclosed left parenthesis",
        ),
        (
            QUEUE_THRESHOLD,
            "    promql: requests_total[5m]\n",
            "shop.yaml:37: signals[1].promql: an alert expression must return an instant vector "
            "(a set of series)",
        ),
        (
            QUEUE_THRESHOLD,
            "    promql: sum by (tenant) (rate(requests_total[5m])) > 1\n",
            "shop.yaml:36: signals[1].group_by[0]: no series the expression reads has the label "
            "'queue'",
        ),
        (
            QUEUE_THRESHOLD,
            "    promql: sum by (queue) (rate(request_total[5m])) > 1\n",
            "shop.yaml:37: signals[1].promql: series 'request_total' is not declared under "
            "metrics (did you mean 'requests_total'?)",
        ),
        (
            "    threshold:\n      gauge",
            "    threshhold:\n      gauge",
            "shop.yaml:37: signals[1].threshhold: unknown field 'threshhold' (did you mean "
            "'threshold'?)",
        ),
        (
            "      gauge: queue_depth\n",
            "      gauge: queue_depth\n      aggregate: median\n",
            "shop.yaml:39: signals[1].threshold.aggregate: 'median' is not one of max, min, sum, "
            "avg (did you mean 'min'?)",
        ),
        (
            "    severity: warning\n",
            "    severity: page\n",
            "shop.yaml:34: signals[1].severity: 'page' is not one of critical, warning, info",
        ),
        (
            "  - name: QueueDeep\n",
            "  - name: queue-deep\n",
            "shop.yaml:33: signals[1].name: 'queue-deep' must be letters, digits and "
            "underscores, not starting with a digit",
        ),
    ],
)
def test_each_problem_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert expected in diagnostics_of(tmp_path, _with(old, new), "shop.yaml")


def test_a_relative_runbook_needs_a_base_url(tmp_path: Path) -> None:
    text = _with("  runbook_base_url: https://runbooks.example/\n", "")
    text = _with("    for: 10m\n", "    for: 10m\n    runbook: queue.md\n", text)
    found = diagnostics_of(tmp_path, text, "shop.yaml")
    assert (
        "shop.yaml:40: signals[1].runbook: runbook 'queue.md' is relative but "
        "service.runbook_base_url is not set" in found
    )
    assert (
        "shop.yaml:24: signals[0]: warning: the alert will carry no runbook_url: set "
        "service.runbook_base_url" in found
    )


def test_pipelines_without_a_down_alert_or_without_users_are_warnings(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(_with("    pipeline_down: collector\n", ""))
    result = pipeline.compile_specs([path])
    assert result.ok
    (warning,) = result.diagnostics
    assert warning.severity is Severity.WARNING
    assert str(warning).endswith(
        "shop.yaml:4: service.name: warning: alerts depend on telemetry pipeline 'collector' "
        "but no signal reports it down (pipeline_down: collector), so they are never held "
        "back while it is"
    )
    path.write_text(_with("  telemetry: collector\n", ""))
    (warning,) = pipeline.compile_specs([path]).diagnostics
    assert str(warning).endswith(
        "shop.yaml:40: signals[2]: warning: no alert's data arrives through 'collector' "
        "(telemetry: collector); nothing is held back while it is down"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "{routing_key_file: /run/secrets/pd}",
            "{routing_key_file: secrets/pd}",
            "routing.yaml:6: routing.receivers.pager.pagerduty.routing_key_file: 'secrets/pd' "
            "must be an absolute path",
        ),
        (
            "{routing_key_file: /run/secrets/pd}",
            "{routing_key: abc123}",
            "routing.yaml:6: routing.receivers.pager.pagerduty.routing_key: unknown field "
            "'routing_key' (did you mean 'routing_key_file'?)",
        ),
        (
            "critical: {receiver: pager}",
            "critical: {receiver: pagr}",
            "routing.yaml:10: routing.severities.critical.receiver: no receiver 'pagr' (did you "
            "mean 'pager'?); receivers: pager, tickets",
        ),
        (
            "    warning: {receiver: tickets}\n",
            "    warning: {receiver: tickets}\n  default_receiver: nobody\n",
            "routing.yaml:12: routing.default_receiver: no receiver 'nobody'; receivers: pager, "
            "tickets",
        ),
        (
            "    tickets:\n      slack",
            "    blackhole:\n      slack",
            "routing.yaml:7: routing.receivers.blackhole: 'blackhole' is the receiver the "
            "compiler adds for alerts that go nowhere; choose another name",
        ),
        (
            "    critical: {receiver: pager}\n",
            "",
            "routing.yaml:9: routing.severities: missing required field 'critical'",
        ),
        (
            "kind: Routing",
            "kind: Routng",
            "routing.yaml:2: kind: 'Routng' is not one of Service, Routing (did you mean "
            "'Routing'?)",
        ),
        (
            "warning: {receiver: tickets}",
            "warning: {receiver: tickets, repeat_interval: 1 day}",
            "routing.yaml:11: routing.severities.warning.repeat_interval: '1 day' is not a "
            "duration like 5m, 1h or 30d",
        ),
        (
            '    tickets:\n      slack: {api_url_file: /run/secrets/slack, channel: "#t"}\n',
            "    tickets: {}\n",
            "routing.yaml:7: routing.receivers.tickets: must not be empty",
        ),
    ],
)
def test_routing_problems(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert expected in diagnostics_of(tmp_path, _with(old, new, ROUTING_SPEC), "routing.yaml")


def test_one_routing_for_all_specs(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ROUTING_SPEC)
    (tmp_path / "b.yaml").write_text(ROUTING_SPEC)
    result = pipeline.compile_specs([tmp_path])
    shown = discovery.display_path(tmp_path) + "/"
    assert [str(d).replace(shown, "") for d in result.diagnostics] == [
        "b.yaml:2: kind: a second Routing document (the first is in a.yaml)"
    ]


@pytest.mark.parametrize(
    ("grouping", "warned"),
    [
        ("group_by: [tenant]", False),
        ("group_by: [code]", True),
        ("group_by: [code]\n    across_tenants: true", False),
    ],
)
def test_a_signal_that_drops_the_tenant_is_a_warning(
    tmp_path: Path, grouping: str, warned: bool
) -> None:
    """Two tenants' numbers added up: the alert cannot say which tenant to act on."""
    text = SIGNAL_SPEC.replace(
        "    group_by: [tenant]\n    threshold:", f"    {grouping}\n    threshold:", 1
    )
    assert grouping in text
    messages = diagnostics_of(tmp_path, text)
    expected = (
        "checkout.yaml:27: signals[0].group_by: warning: requests_total is labelled by tenant, but "
        "the alert is not split by it"
    )
    assert any(m.startswith(expected) for m in messages) is warned, messages

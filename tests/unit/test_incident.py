"""The synthetic incident: label values that satisfy selectors, and traffic that gives
every SLI of every test spec the error ratio it should have, as promtool evaluates it."""

from __future__ import annotations

import pytest

from compiler.preview.incident import labels_for
from compiler.promql import parse_selector
from compiler.synthetic.labels import selects
from compiler.synthetic.local_prometheus import alert_samples


@pytest.mark.parametrize(
    "text",
    ['m{code=~"5..", route!="/healthz"}', 'm{code!~"2..|3..", tenant="t1"}', "m"],
)
def test_labels_satisfy_the_selector(text: str) -> None:
    selector = parse_selector(text)
    labels = labels_for(selector, ("code", "route", "tenant"), {})
    assert selects(selector, "m", labels)


def test_alerts_are_pending_for_their_for_then_firing() -> None:
    rule = {
        "alert": "Fast",
        "expr": "x > 1",
        "for": "2m",
        "labels": {"severity": "page", "window": ""},
    }
    result = [
        {
            "metric": {"__name__": "x", "service": "s", "window": "1h"},
            # active from 100 to 400, gap, active again at 600
            "values": [[t, "2"] for t in (100, 160, 220, 280, 340, 400, 600, 660)],
        }
    ]
    samples = list(alert_samples(rule, result, 60))
    states = [(labels["alertstate"], stamp) for labels, stamp in samples]
    assert states == [
        ("pending", 100), ("pending", 160), ("firing", 220), ("firing", 280), ("firing", 340),
        ("firing", 400), ("pending", 600), ("pending", 660),
    ]  # fmt: skip
    labels = samples[0][0]
    assert labels == {
        "alertname": "Fast",
        "alertstate": "pending",
        "service": "s",
        "severity": "page",
    }

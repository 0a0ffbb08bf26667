"""Property test: random signals of every kind compile into rules promtool accepts, and the
scenarios generated for them agree with promtool's evaluation of those rules.

The scenario generator predicts, from windows, ``for`` and ``clear_after``, when each alert
fires and when it is silent; promtool evaluates the rules. Hypothesis draws the parameters
(thresholds on either side, windows, hold and clear times, groupings, baselines rolling or a
day back, trends with and without a level), many signals per promtool run.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compiler import pipeline, writer
from compiler.outputs import Root
from compiler.synthetic import promtool

SERVICE = {
    "apiVersion": "slo-compiler/v1",
    "kind": "Service",
    "service": {"name": "prop", "owner": "team-test", "runbook_base_url": "https://rb.example/"},
    "metrics": {
        "requests_total": {"type": "counter", "labels": ["tenant", "code"]},
        "errors_total": {"type": "counter", "labels": ["tenant"]},
        "depth": {"type": "gauge", "labels": ["tenant"]},
        "seconds": {"type": "histogram", "labels": ["tenant"], "buckets": [0.1, 0.5, 1, 5]},
        "up": {"type": "gauge", "labels": ["job", "tenant"]},
    },
}

windows = st.sampled_from(["2m", "5m", "10m"])
holds = st.sampled_from([None, "1m", "3m"])
keeps = st.sampled_from([None, "2m", "7m"])
groupings = st.sampled_from([[], ["tenant"]])


@st.composite
def thresholds(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["rate", "ratio", "gauge", "histogram"]))
    side = draw(st.sampled_from(["above", "below"]))
    body: dict[str, Any] = {}
    if kind == "rate":
        body = {"rate": "requests_total", "window": draw(windows)}
        body["per"] = draw(st.sampled_from([None, "1m", "1h"]))
        body[side] = draw(st.sampled_from([0.5, 3, 40, 900]))
    elif kind == "ratio":
        body = {
            "ratio": {"numerator": 'requests_total{code=~"5.."}', "denominator": "requests_total"},
            "window": draw(windows),
            side: draw(st.sampled_from([0.01, 0.05, 0.3, 0.8])),
        }
    elif kind == "gauge":
        body = {"gauge": "depth", side: draw(st.sampled_from([-5, 0.5, 10, 1000]))}
        body["aggregate"] = draw(st.sampled_from([None, "max", "min", "sum", "avg"]))
    else:
        body = {
            "histogram": "seconds",
            "quantile": draw(st.sampled_from([0.5, 0.9, 0.99])),
            "window": draw(windows),
            side: draw(st.sampled_from([0.3, 0.75, 2])),
        }
    return {"threshold": {k: v for k, v in body.items() if v is not None}}


@st.composite
def baselines(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["rate", "ratio", "gauge"]))
    body: dict[str, Any] = {
        "factor": draw(st.sampled_from([1.5, 2, 3])),
        "floor": draw(st.sampled_from([0, 0.2, 10])),
    }
    if kind == "rate":
        body |= {"rate": "requests_total", "window": draw(windows)}
    elif kind == "ratio":
        body |= {
            "ratio": {"numerator": "errors_total", "denominator": "requests_total"},
            "window": draw(windows),
        }
        body["floor"] = min(body["floor"], 0.2)
    else:
        body["gauge"] = "depth"
    if draw(st.booleans()):
        body |= {"baseline_offset": draw(st.sampled_from(["2h", "1d"])), "baseline_window": "30m"}
    else:  # rolling: long enough to leave a lasting change room to fire
        body["baseline_window"] = "3h"
    return {"baseline": body}


@st.composite
def others(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["trend", "new_events", "no_data"]))
    if kind == "trend":
        body: dict[str, Any] = {"gauge": "depth", "window": draw(windows)}
        body["rising_faster_than"] = draw(st.sampled_from([0, 1, 30]))
        body["per"] = draw(st.sampled_from([None, "1h"]))
        body["above"] = draw(st.sampled_from([None, 0, 300]))
        return {"trend": {k: v for k, v in body.items() if v is not None}}
    if kind == "new_events":
        return {
            "new_events": {
                "counter": "errors_total",
                "window": draw(st.sampled_from(["5m", "10m"])),
                "lookback": draw(st.sampled_from(["1h", "1d"])),
            }
        }
    sources = draw(
        st.sampled_from(
            [
                {"job": "app"},
                {"series": ["depth"]},
                {"counters": ["requests_total"]},
                {"job": "app", "counters": ["errors_total"]},
            ]
        )
    )
    return {"no_data": {"window": draw(st.sampled_from(["3m", "5m"])), **sources}}


@st.composite
def signals(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = []
    for index in range(6):
        condition = draw(st.one_of(thresholds(), baselines(), others()))
        signal: dict[str, Any] = {
            "name": f"Signal{index}",
            "severity": "warning",
            "group_by": draw(groupings),
            **condition,
        }
        hold = draw(holds)  # shorter than any new_events window
        if hold:
            signal["for"] = hold
        keep = draw(keeps)
        if keep:
            signal["clear_after"] = keep
        found.append(signal)
    return found


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    # A failing example prints its whole spec; shrinking it costs minutes of promtool runs.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=signals())
def test_generated_scenarios_agree_with_promtool(
    drawn: list[dict[str, Any]], tmp_path_factory: Any, promtool_path: str
) -> None:
    tmp = tmp_path_factory.mktemp("prop")
    spec = tmp / "prop.yaml"
    spec.write_text(yaml.safe_dump({**SERVICE, "signals": drawn}, sort_keys=False))
    result = pipeline.compile_specs([spec])
    assert result.ok, "\n".join(map(str, result.diagnostics))
    out = tmp / "generated"
    writer.write(writer.plan(pipeline.outputs(result.specs), {Root.GENERATED: out}))
    checked = promtool.check_rules(sorted(out.glob("prometheus/*.yml")))
    assert checked.ok, checked.output
    tests = sorted(out.glob("tests/*.test.yml"))
    assert tests, "no scenarios generated"
    ran = promtool.test_rules(tests)
    assert ran.ok, ran.output + "\n" + spec.read_text()

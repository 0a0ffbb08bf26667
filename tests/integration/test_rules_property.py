"""Property tests: any valid spec compiles to rules that promtool accepts, deterministically,
with alert thresholds that are exactly the burn factor times the error budget."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compiler import burn_rate, conventions, pipeline, promql, writer
from compiler.durations import Duration
from compiler.synthetic import promtool
from compiler.targets.prometheus import rule_files, slo_rules

LABELS = ["tenant", "agent", "route", "code"]
NAME = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6})?", fullmatch=True)
# Label values exercise PromQL string escaping: quotes, backslashes, newlines, unicode.
VALUE = st.text(alphabet=st.sampled_from(list('ab5."\\\n/ é*')), min_size=1, max_size=8)
# Free text goes into annotations, which Prometheus expands as Go templates: everything but
# template delimiters ("{{", "}}": refused at validation) must make rules promtool accepts.
TEXT = st.text(alphabet=st.sampled_from(list("a {}$%.\"'\\\n|:#-é<>&")), max_size=30).filter(
    lambda text: "{{" not in text and "}}" not in text and text.strip() == text
)
WINDOWS = ["1m", "2m", "5m", "10m", "30m", "1h", "2h", "6h", "12h", "1d", "3d"]
PERIODS = ["1d", "7d", "14d", "28d", "30d", "90d"]


@st.composite
def selector(draw: st.DrawFn, metric: str) -> str:
    matchers = []
    for label in draw(st.lists(st.sampled_from(["code", "route"]), unique=True, max_size=2)):
        op = draw(st.sampled_from(["=", "!=", "=~"]))
        value = draw(st.sampled_from(["5..", "2..|3..", ".*/api"]) if op == "=~" else VALUE)
        matchers.append(f"{label}{op}{promql.quote(value)}")
    return f"{metric}{{{', '.join(matchers)}}}" if matchers else metric


@st.composite
def tier(draw: st.DrawFn, period: Duration, budget: Decimal, index: int) -> dict[str, Any]:
    fitting = [w for w in WINDOWS if Duration.parse(w) < period]
    long_index = draw(st.integers(1, len(fitting) - 1))
    short = draw(st.sampled_from(fitting[:long_index]))
    result: dict[str, Any] = {
        "alert": f"Burn{index}",
        "severity": draw(st.sampled_from(["critical", "warning", "info"])),
        "long_window": fitting[long_index],
        "short_window": short,
    }
    # A factor whose threshold stays below a 100% error ratio.
    top = min(Decimal(50), (Decimal(1) / budget) - Decimal("0.01"))
    factor = draw(st.decimals(Decimal("0.5"), top, places=2, allow_nan=False))
    if draw(st.booleans()):
        result["burn_factor"] = float(factor)
    else:
        share = burn_rate.share_from_factor(factor, period, Duration.parse(fitting[long_index]))
        result["budget_share"] = float(min(share, Decimal(100)))
    if draw(st.booleans()):
        result["for"] = draw(st.sampled_from(["1m", "2m", "15m"]))
    if draw(st.booleans()):
        result["min_events"] = draw(st.integers(0, 10_000))
    return result


@st.composite
def slo(draw: st.DrawFn, name: str) -> dict[str, Any]:
    objective = draw(st.decimals(Decimal("50"), Decimal("99.999"), places=3, allow_nan=False))
    period = draw(st.sampled_from(PERIODS))
    group_by = draw(st.lists(st.sampled_from(["tenant", "agent"]), unique=True, max_size=2))
    kind = draw(st.sampled_from(["bad", "good", "query", "latency"]))
    if kind == "latency":
        sli: dict[str, Any] = {
            "latency": {
                "histogram": "req_seconds",
                "threshold": draw(st.sampled_from([0.1, 1, 2.5])),
            }
        }
    elif kind == "query":
        by = f"by ({', '.join(group_by)}) " if group_by else ""
        sli = {
            "ratio": {
                "bad": f'sum {by}(rate(requests_total{{code=~"5.."}}[$window]))',
                "total": f"sum {by}(rate(requests_total[$window]))",
            }
        }
    else:
        sli = {"ratio": {kind: draw(selector("requests_total")), "total": "requests_total"}}
    spec: dict[str, Any] = {
        "name": name,
        "objective": float(objective),
        "period": period,
        "group_by": group_by,
        "sli": sli,
        "labels": draw(st.dictionaries(st.sampled_from(["team", "tier"]), VALUE, max_size=2)),
    }
    description = draw(TEXT)
    if description:
        spec["description"] = description
    budget = burn_rate.error_budget(Decimal(repr(float(objective))))
    choice = draw(st.sampled_from(["default", "tiers", "disabled", "unguarded"]))
    if choice == "tiers":
        count = draw(st.integers(1, 3))
        spec["alerting"] = {
            "tiers": [draw(tier(Duration.parse(period), budget, i)) for i in range(count)]
        }
    elif choice == "disabled":
        spec["alerting"] = {"disabled": True}
    elif choice == "unguarded":
        spec["alerting"] = {"low_traffic": False}
    return spec


@st.composite
def service(draw: st.DrawFn, index: int) -> dict[str, Any]:
    names = draw(st.lists(NAME, min_size=1, max_size=3, unique=True))
    return {
        "apiVersion": "slo-compiler/v1",
        "kind": "Service",
        "service": {
            "name": f"svc{index}",
            "owner": "team",
            "runbook_base_url": "https://runbooks.example/",
        },
        "metrics": {
            "requests_total": {"type": "counter", "labels": LABELS},
            "req_seconds": {"type": "histogram", "labels": LABELS, "buckets": [0.1, 1, 2.5]},
        },
        "slos": [draw(slo(name)) for name in names],
    }


def _compile(tmp_path: Path, specs: list[dict[str, Any]]) -> pipeline.Compilation:
    directory = tmp_path / "specs"
    directory.mkdir(exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    for spec in specs:
        (directory / f"{spec['service']['name']}.yaml").write_text(yaml.safe_dump(spec))
    return pipeline.compile_specs([directory])


SERVICES_PER_RUN = 8


# Each example is a spec set checked by one promtool run. Shrinking such examples takes
# minutes, and the diagnostics already name the failing file and field, so it is skipped.
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(st.tuples(*[service(i) for i in range(SERVICES_PER_RUN)]))
def test_any_valid_spec_compiles_to_rules_promtool_accepts(
    tmp_path_factory: Any, specs: tuple[dict[str, Any], ...]
) -> None:
    tmp_path = tmp_path_factory.mktemp("prop")
    result = _compile(tmp_path, list(specs))
    assert result.ok, "\n".join(map(str, result.diagnostics))
    outputs = list(rule_files.rule_files(result.specs))
    again = list(rule_files.rule_files(_compile(tmp_path, list(specs)).specs))
    assert [writer.serialize(o) for o in outputs] == [writer.serialize(o) for o in again]
    files = []
    for output in outputs:
        path = tmp_path / output.path.replace("/", "_")
        path.write_bytes(writer.serialize(output))
        files.append(path)
    checked = promtool.check_rules(files)  # one promtool run for the whole set
    assert checked.ok, checked.output
    for spec in result.specs.services:
        for one_slo in spec.slos:
            _assert_thresholds(one_slo, slo_rules.slo_rule_group(spec.service, one_slo))


def _assert_thresholds(one_slo: Any, group: dict[str, Any]) -> None:
    """Each alert compares burn rates with its factor, and the burn rate divides the error
    ratio by the budget: the threshold on the error ratio is factor x budget, exactly."""
    (burn,) = [r for r in group["rules"] if r.get("record") == conventions.BURN_RATE]
    divisor = Decimal(burn["expr"].rsplit(" / ", 1)[1])
    assert divisor == one_slo.error_budget
    alerts = [rule for rule in group["rules"] if "alert" in rule]
    assert len(alerts) == len(one_slo.tiers)
    for rule, one_tier in zip(alerts, one_slo.tiers, strict=True):
        literals = [
            Decimal(line.rsplit(" > ", 1)[1])
            for line in rule["expr"].splitlines()
            if line.startswith(conventions.BURN_RATE)
        ]
        assert len(literals) == 2  # the long and the short window
        for literal in literals:
            assert literal == one_tier.burn_factor
            assert literal * divisor == one_slo.threshold(one_tier)

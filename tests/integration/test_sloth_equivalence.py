"""Our rules and Sloth's own rules raise the same alerts on the same synthetic series.

For each of Sloth's golden outputs (shared/peers/sloth), our rules are compiled from the same
input (with the same period and windows), both rule files are loaded into one promtool test,
and at each check the set of firing severities (Sloth's ``sloth_severity``, which converted
tiers keep) must be what both rule sets are expected to raise. Expectations come from the
documented windows: Sloth's ``rate()`` over the exact window, ours the mean of the 5m rate
(docs/spec.md, "The math"). Checks are placed where both sets stay unchanged for two
evaluations either side, so "same alerts" holds within one evaluation interval; at the
transitions themselves our long windows lag by about half the base window, which the timing
test pins down. The low-traffic scenario is the documented exception: Sloth pages on one
failed request, our guard holds the alert back.

Everything is batched into two promtool runs (one per core).
"""

from __future__ import annotations

import copy
import itertools
import math
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from compiler import pipeline, writer
from compiler.durations import Duration
from compiler.model.service import ServiceSpec
from compiler.model.slo import SLO
from compiler.synthetic.series import counter, promtool_input
from compiler.targets.prometheus import rule_files
from tests.support.peer_data import sloth_dir, sloth_groups

METRIC = "http_request_duration_seconds_count"
JOB = "myservice"
BUSY = 1000 / 60  # requests per second: 1000 a minute
QUIET = 1 / 600  # one request every ten minutes
BASE_MINUTES = 5
STABLE = 2  # a check needs the same alerts this many evaluations either side
CLEAN, BURN, RECOVERY = 60, 60, 20  # minutes of the step scenario
LEVEL_MINUTES = 32  # each constant burn rate


@dataclass(frozen=True)
class Comparison:
    """One of Sloth's outputs and how to build ours from the same input."""

    name: str
    output: str  # relative to Sloth's fixtures
    source: str
    sloth_id: str
    service: str
    slo: str
    edit: Callable[[dict[str, Any]], None] | None = None  # what Sloth's flags changed
    dynamics: bool = True  # also run the burst (off where windows and factors repeat another's)


def _period(period: str) -> Callable[[dict[str, Any]], None]:
    def edit(spec: dict[str, Any]) -> None:
        for slo in spec["slos"]:
            slo["period"] = period

    return edit


def _custom_windows(spec: dict[str, Any]) -> None:
    """Sloth's --slo-period-windows-path windows/ (a 7d catalog) as native tiers."""
    catalog = yaml.safe_load(
        (sloth_dir() / "test-integration-prometheus/windows/7d.yaml").read_text()
    )
    windows = catalog["spec"]
    _period(windows["sloPeriod"])(spec)
    for slo in spec["slos"]:
        tiers = slo["alerting"].get("tiers", [])
        for tier, (kind, speed) in zip(
            tiers,
            [("page", "quick"), ("page", "slow"), ("ticket", "quick"), ("ticket", "slow")],
            strict=False,
        ):
            window = windows[kind][speed]
            assert tier["labels"]["sloth_severity"] == kind
            tier["long_window"] = str(Duration.parse(window["longWindow"]))
            tier["short_window"] = str(Duration.parse(window["shortWindow"]))
            tier["budget_share"] = window["errorBudgetPercent"]


def _no_alerts(spec: dict[str, Any]) -> None:
    """Sloth's --disable-alerts."""
    for slo in spec["slos"]:
        slo["alerting"] = {"disabled": True}


BASE = "test-integration-prometheus/testdata/in-base.yaml"
COMPARISONS = (
    Comparison(
        "out-base",
        "test-integration-prometheus/testdata/out-base.yaml.tpl",
        BASE,
        "svc01-slo1",
        "svc01",
        "slo1",
    ),
    Comparison(
        "out-base-28d",
        "test-integration-prometheus/testdata/out-base-28d.yaml.tpl",
        BASE,
        "svc01-slo1",
        "svc01",
        "slo1",
        _period("28d"),
    ),
    Comparison(
        "out-base-custom-windows-7d",
        "test-integration-prometheus/testdata/out-base-custom-windows-7d.yaml.tpl",
        BASE,
        "svc01-slo1",
        "svc01",
        "slo1",
        _custom_windows,
    ),
    Comparison(
        "out-base-k8s",
        "test-integration-prometheus/testdata/out-base-k8s.yaml.tpl",
        "test-integration-prometheus/testdata/in-base-k8s.yaml",
        "svc01-slo1",
        "svc01",
        "slo1",
        dynamics=False,
    ),
    Comparison(
        "getting-started",
        "examples/_gen/getting-started.yml",
        "examples/getting-started.yml",
        "myservice-requests-availability",
        "myservice",
        "requests-availability",
        dynamics=False,
    ),
    Comparison(
        "out-base-no-alerts",
        "test-integration-prometheus/testdata/out-base-no-alerts.yaml.tpl",
        BASE,
        "svc01-slo1",
        "svc01",
        "slo1",
        _no_alerts,
    ),
    Comparison(
        "out-openslo",
        "test-integration-prometheus/testdata/out-openslo.yaml.tpl",
        "test-integration-prometheus/testdata/in-openslo.yaml",
        "svc01-slo1-0",
        "svc01",
        "slo1",
    ),
    Comparison(
        "openslo-getting-started",
        "examples/_gen/openslo-getting-started.yml",
        "examples/openslo-getting-started.yml",
        "my-service-sloth-slo-my-service-0",
        "my-service",
        "sloth-slo-my-service",
    ),
)
# Sloth outputs that cannot be compared, and why (docs/peers.md lists them).
NOT_COMPARED = {
    "test-integration-prometheus/testdata/out-slo-plugin.yaml.tpl": "input needs Sloth's Go "
    "test plugin integration-tests/plugin1, rejected",
    "examples/_gen/contrib-denominator-corrected.yaml": "input needs the plugin "
    "sloth.dev/contrib/denominator_corrected_rules/v1, rejected",
}


# -- what each rule set raises, by the documented windows ---------------------------------


def sloth_ratio(errors: Sequence[float], minute: int, window: int) -> float:
    """Sloth's ratio over ``window`` minutes: rate() over the exact window (or the history)."""
    ks = range(max(1, minute - window + 1), minute + 1)
    return sum(errors[k] for k in ks) / len(ks) if ks else math.nan


def our_ratio(errors: Sequence[float], minute: int, window: int) -> float:
    """Ours (docs/spec.md): bad and total 5m rates, each averaged over the evaluations in the
    window, divided last. A 5m rate over less than 5m of history counts the missing minutes
    as empty (rate() does not extrapolate to before a counter's first sample)."""
    if window == BASE_MINUTES:
        return sloth_ratio(errors, minute, window)
    bad = total = 0.0
    for m in range(max(1, minute - window), minute + 1):
        ks = range(max(1, m - BASE_MINUTES + 1), m + 1)
        bad += sum(errors[k] for k in ks)
        total += len(ks)
    return bad / total if total else math.nan


@dataclass(frozen=True)
class Pair:
    """A tier: severity (page/ticket), window pair in minutes, error-ratio threshold."""

    severity: str
    long: int
    short: int
    threshold: float


def firing(
    ratio: Callable[[Sequence[float], int, int], float],
    pairs: Sequence[Pair],
    errors: Sequence[float],
    minute: int,
) -> frozenset[str]:
    """Severities whose pairs exceed their threshold over both windows at ``minute``."""
    return frozenset(
        p.severity
        for p in pairs
        if ratio(errors, minute, p.long) > p.threshold
        and ratio(errors, minute, p.short) > p.threshold
    )


def _pairs(slo: SLO) -> list[Pair]:
    return [
        Pair(
            dict(t.labels)["sloth_severity"],
            int(t.long_window.minutes),
            int(t.short_window.minutes),
            float(slo.threshold(t)),
        )
        for t in slo.tiers
    ]


@dataclass
class Scenario:
    """One promtool test group: series, and the expected severities at check minutes."""

    name: str
    minutes: int
    series: list[dict[str, str]]
    sloth: dict[int, frozenset[str]] = field(default_factory=dict)
    ours: dict[int, frozenset[str]] = field(default_factory=dict)
    extra: list[dict[str, Any]] = field(default_factory=list)
    # (side, severity) → minutes after the burst starts until it first fires
    first_firing: dict[tuple[str, str], int] = field(default_factory=dict)


def _busy_series(
    ratios: Sequence[tuple[int, float]], minutes: int, rate: float = BUSY
) -> list[dict[str, str]]:
    """Requests at ``rate`` per second; from each (start minute, ratio) on, that share fails."""
    return promtool_input(
        [
            counter(METRIC, {"job": JOB, "code": "200"}, [(s, rate * (1 - r)) for s, r in ratios]),
            counter(METRIC, {"job": JOB, "code": "500"}, [(s, rate * r) for s, r in ratios]),
        ],
        minutes,
    )


def _errors(ratios: Sequence[tuple[int, float]], minutes: int) -> list[float]:
    """Error ratio of each minute k (events in (k-1, k]), index 0 unused."""
    values = [0.0] * (minutes + 1)
    for k in range(1, minutes + 1):
        values[k] = next((r for s, r in sorted(ratios, reverse=True) if s <= k - 1), 0.0)
    return values


def _modelled(
    name: str, ratios: list[tuple[int, float]], minutes: int, pairs: list[Pair], every: int
) -> Scenario:
    """A busy scenario with checks every ``every`` minutes where both sets are stable."""
    errors = _errors(ratios, minutes)
    scenario = Scenario(name, minutes, _busy_series(ratios, minutes))
    for minute in range(every, minutes - STABLE + 1, every):
        around = range(minute - STABLE, minute + STABLE + 1)
        sloth = {firing(sloth_ratio, pairs, errors, m) for m in around}
        ours = {firing(our_ratio, pairs, errors, m) for m in around}
        if len(sloth) == 1 and len(ours) == 1:
            scenario.sloth[minute] = sloth.pop()
            scenario.ours[minute] = ours.pop()
    return scenario


def _levels(pairs: Sequence[Pair], budget: float) -> list[float]:
    """Constant burn rates that fall between the tiers' factors (and above and below all)."""
    factors = sorted({round(p.threshold / budget, 9) for p in pairs})
    if not factors:
        return [20.0]
    between = [math.sqrt(a * b) for a, b in itertools.pairwise(factors)]
    return [factors[0] / 2, *between, factors[-1] * 1.4]


def scenarios(slo: SLO, dynamics: bool = True) -> list[Scenario]:
    """The scenarios for one SLO's tiers (no tiers: both rule sets must stay silent)."""
    pairs = _pairs(slo)
    budget = float(slo.error_budget)
    if not pairs:
        burst = [(0, 0.0), (10, 20 * budget)]
        return [_modelled("errors at 20x the budget; neither alerts", burst, 60, pairs, 10)]
    top = max(p.threshold for p in pairs) / budget * 1.4
    result = [
        _modelled(f"constant burn {level:.3g}x", [(0, level * budget)], LEVEL_MINUTES, pairs, 10)
        for level in _levels(pairs, budget)
    ]
    if dynamics:
        result.append(_burst(pairs, top * budget))
    result.append(_low_traffic(slo))
    return result


def _burst(pairs: list[Pair], ratio: float) -> Scenario:
    """Clean traffic, a burst, recovery: checks away from transitions, and the transitions
    themselves pinned for each side (ours lag by about half the base window)."""
    ratios = [(0, 0.0), (CLEAN, ratio), (CLEAN + BURN, 0.0)]
    minutes = CLEAN + BURN + RECOVERY
    scenario = _modelled(
        f"{CLEAN}m clean, {BURN}m burning, {RECOVERY}m clean", ratios, minutes, pairs, 5
    )
    errors = _errors(ratios, minutes)
    for side, ratio_of in (("sloth", sloth_ratio), ("ours", our_ratio)):
        for severity in ("page", "ticket"):
            first = next(
                m for m in range(CLEAN, minutes) if severity in firing(ratio_of, pairs, errors, m)
            )
            scenario.first_firing[side, severity] = first - CLEAN
    return scenario


def _low_traffic(slo: SLO) -> Scenario:
    """One request every ten minutes and one failure: Sloth pages and tickets, our guard
    holds both back while our burn rates are as far above the thresholds as Sloth's."""
    failure, minutes = 30, 36
    series = promtool_input(
        [
            counter(METRIC, {"job": JOB, "code": "200"}, [(0, QUIET)]),
            counter(
                METRIC, {"job": JOB, "code": "500"}, [(0, 0), (failure, 1 / 60), (failure + 1, 0)]
            ),
        ],
        minutes,
    )
    scenario = Scenario("one failed request, one request every ten minutes", minutes, series)
    scenario.sloth[20] = scenario.ours[20] = frozenset()
    for minute in range(failure + 3, minutes):
        scenario.sloth[minute] = frozenset({"page", "ticket"})
        scenario.ours[minute] = frozenset()
    fastest = min(slo.tiers, key=lambda t: t.long_window)
    selector = (
        f'slo:burn_rate:ratio{{service="{slo.service}", slo="{slo.name}", '
        f'window="{fastest.long_window}"}}'
    )
    scenario.extra.append(
        {
            "expr": f"count({selector} > {fastest.burn_factor})",
            "eval_time": f"{failure + 4}m",
            "exp_samples": [{"labels": "{}", "value": 1}],
        }
    )
    return scenario


# -- promtool ---------------------------------------------------------------------------


def _expr(selector: str) -> str:
    return f'group by (sloth_severity) (ALERTS{{alertstate="firing", {selector}}})'


def _samples(severities: frozenset[str]) -> list[dict[str, Any]]:
    return [{"labels": f'{{sloth_severity="{s}"}}', "value": 1} for s in sorted(severities)]


def _test_group(scenario: Scenario, sloth_selector: str, our_selector: str) -> dict[str, Any]:
    checks = []
    for side, selector in ((scenario.sloth, sloth_selector), (scenario.ours, our_selector)):
        for minute, severities in sorted(side.items()):
            checks.append(
                {
                    "expr": _expr(selector),
                    "eval_time": f"{minute}m",
                    "exp_samples": _samples(severities),
                }
            )
    selectors = {"sloth": sloth_selector, "ours": our_selector}
    for (side, severity), after in sorted(scenario.first_firing.items()):
        expr = _expr(f'{selectors[side]}, sloth_severity="{severity}"')
        for minute, expected in ((after - 1, frozenset()), (after, frozenset({severity}))):
            checks.append(
                {
                    "expr": expr,
                    "eval_time": f"{CLEAN + minute}m",
                    "exp_samples": _samples(expected),
                }
            )
    return {
        "name": scenario.name,
        "interval": "1m",
        "input_series": scenario.series,
        "promql_expr_test": checks + scenario.extra,
    }


@dataclass
class Prepared:
    comparison: Comparison
    slo: SLO
    scenarios: list[Scenario]
    test_file: Path


def _ours(comparison: Comparison, tmp: Path) -> ServiceSpec:
    """Our compilation of the comparison's input, with Sloth's flags applied as spec edits."""
    source = sloth_dir() / comparison.source
    if comparison.edit is None:
        result = pipeline.compile_specs([source])
    else:
        converted, documents = pipeline.compile_documents([source])
        assert converted.ok, converted.diagnostics
        spec = copy.deepcopy(documents[0].data)
        comparison.edit(spec)
        edited = tmp / f"{comparison.name}.yaml"
        edited.write_text(writer.to_yaml(spec))
        result = pipeline.compile_specs([edited])
    assert result.ok, "\n".join(map(str, result.diagnostics))
    return next(s for s in result.specs.services if s.service.name == comparison.service)


def _prepare(comparison: Comparison, tmp: Path) -> Prepared:
    spec = _ours(comparison, tmp)
    slo = next(s for s in spec.slos if s.name == comparison.slo)
    our_rules = rule_files.service_rules(spec)
    ours = tmp / f"{comparison.name}.ours.rules.yml"
    ours.write_text(writer.to_yaml(our_rules))
    sloth_rules = {"groups": sloth_groups(sloth_dir() / comparison.output)}
    theirs = tmp / f"{comparison.name}.sloth.rules.yml"
    theirs.write_text(yaml.safe_dump(sloth_rules, sort_keys=False, width=4096))
    found = scenarios(slo, comparison.dynamics)
    sloth_selector = f'sloth_id="{comparison.sloth_id}"'
    our_selector = f'service="{comparison.service}", slo="{comparison.slo}"'
    document = {
        "rule_files": [theirs.name, ours.name],
        "evaluation_interval": "1m",
        # Without an order promtool evaluates groups in random order, and Sloth's alerts (in
        # a group after its recordings) would read them one evaluation late at random.
        "group_eval_order": [g["name"] for g in [*sloth_rules["groups"], *our_rules["groups"]]],
        "tests": [_test_group(s, sloth_selector, our_selector) for s in found],
    }
    test_file = tmp / f"{comparison.name}.test.yml"
    test_file.write_text(yaml.safe_dump(document, sort_keys=False, width=4096))
    return Prepared(comparison, slo, found, test_file)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, promtool_path: str) -> list[Prepared]:
    tmp = tmp_path_factory.mktemp("sloth-equivalence")
    return [_prepare(c, tmp) for c in COMPARISONS]


@pytest.fixture(scope="module")
def promtool_results(prepared: list[Prepared], promtool_path: str) -> dict[str, str]:
    """promtool's output for each comparison: two processes, one per core."""
    halves = [prepared[0::2], prepared[1::2]]

    def run(batch: list[Prepared]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [promtool_path, "test", "rules", *(p.test_file.name for p in batch)],
            cwd=batch[0].test_file.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream, so that each verdict follows its file
            text=True,
            check=False,
        )

    with ThreadPoolExecutor(2) as pool:
        completed = list(pool.map(run, halves))
    verdicts: dict[str, str] = {}
    for batch, result in zip(halves, completed, strict=True):
        sections = {
            section.split("\n", 1)[0].strip(): section
            for section in result.stdout.split("Unit Testing:")[1:]
        }
        for one in batch:
            verdicts[one.comparison.name] = sections.get(one.test_file.name, result.stdout)
    return verdicts


def test_every_sloth_output_is_compared_or_explained() -> None:
    outputs = {
        p.relative_to(sloth_dir()).as_posix()
        for p in sloth_dir().rglob("*")
        if p.is_file() and (p.name.startswith("out-") or "_gen" in p.parts)
    }
    assert outputs == {c.output for c in COMPARISONS} | set(NOT_COMPARED)


@pytest.mark.parametrize("comparison", COMPARISONS, ids=[c.name for c in COMPARISONS])
def test_same_alerts_as_sloth(
    comparison: Comparison, prepared: list[Prepared], promtool_results: dict[str, str]
) -> None:
    one = next(p for p in prepared if p.comparison == comparison)
    # Away from transitions, and at busy traffic, the expectations are the same for both.
    for scenario in one.scenarios:
        if scenario.name.startswith("one failed request"):  # the guard's exception
            continue
        assert scenario.sloth == scenario.ours, scenario.name
    checks = [s for scenario in one.scenarios for s in scenario.sloth.values()]
    assert len(checks) >= (15 if one.slo.tiers else 5), "too few meaningful checks"
    if one.slo.tiers:  # each severity is seen firing and silent
        for severity in ("page", "ticket"):
            assert any(severity in s for s in checks) and any(severity not in s for s in checks)
    verdict = promtool_results[comparison.name]
    assert "SUCCESS" in verdict and "FAILED" not in verdict, verdict

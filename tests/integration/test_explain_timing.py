"""`slo explain`'s times against Prometheus's engine (issue 17, item 2).

Hypothesis draws a tier of the reference SLOs or of the test specs in tests/specs (which have
a tier with `for:`), an error ratio (a full outage, a burn just above the tier's factor, or
anything in between) and, for a guarded tier, the traffic (ample, or a little above or below
what its guard needs); compiler.review.alerting says when the tier fires after a step to
that ratio, or that it never does, and when a full outage's alert resolves. promtool then
evaluates the compiled rules on synthetic counters doing exactly that: the tier's alert must
be firing at the explained minute and not one evaluation before it, and resolved at the
explained reset time and not one evaluation before. Drawn tiers stop at 6h windows to keep
promtool's runs short (the model does not treat longer ones differently); one 1d tier is
checked once, with the cases a draw may miss (`for:`, traffic below and above a guard).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import writer
from compiler.model.service import ServiceSpec, SpecSet
from compiler.model.slo import SLO, RatioSLI, Tier
from compiler.promql import quote
from compiler.review import alerting
from compiler.synthetic import promtool
from compiler.synthetic.series import promtool_values
from compiler.targets.prometheus import rule_files
from compiler.targets.prometheus.slo_rules import SloSeries, alert_rules
from compiler.targets.rule_tests.event_series import group_label_values
from compiler.targets.rule_tests.promtool_files import (
    expected_alert,
    input_series,
    untestable,
)
from compiler.targets.rule_tests.timeline import Phase

MAX_LONG = 6 * 3600

# (spec, SLO, tier, error ratio, events per minute)
Case = tuple[ServiceSpec, SLO, Tier, Fraction, Fraction]


def _counted(slo: SLO) -> bool:
    """Whether the SLI counts events the synthetic counters can set to a chosen error ratio:
    a query SLI (an OpenSLO time slice, say) records whatever its query computes from them,
    and the base records it averages are what the model starts from, not the counters."""
    sli = slo.sli
    sides = (sli.total, sli.bad, sli.good) if isinstance(sli, RatioSLI) else ()
    return all(side is None or side.query is None for side in sides)


def _tiers(*sets: SpecSet, max_long: int = MAX_LONG) -> list[tuple[ServiceSpec, SLO, Tier]]:
    return [
        (spec, slo, tier)
        for specs in sets
        for spec in specs.services
        for slo in spec.slos
        if slo.name not in {name for name, _ in untestable(spec)} and _counted(slo)
        for tier in slo.tiers
        if tier.long_window.seconds <= max_long
    ]


def _group(
    spec: ServiceSpec, slo: SLO, tier: Tier, lane: tuple[Phase, ...], checks: list[tuple[int, bool]]
) -> dict[str, Any]:
    """A promtool test group: ``lane``'s traffic; at each (minute, firing) of ``checks`` the
    tier's alert is firing or not. ALERTS carries the tier's windows as labels, so the check
    is of this tier alone even where several tiers share an alert name."""
    minutes = max(minute for minute, _ in checks) + 1
    labels = group_label_values(slo, 1)
    rule = alert_rules(spec.service, slo)[slo.tiers.index(tier)]
    alert_labels = {
        "alertname": tier.alert,
        "alertstate": "firing",
        **expected_alert(rule, {**SloSeries(slo).labels(), **labels[0]})["exp_labels"],
    }
    sample = "ALERTS{" + ", ".join(f"{k}={quote(v)}" for k, v in sorted(alert_labels.items()))
    expr = (
        f'ALERTS{{alertname={quote(tier.alert)}, alertstate="firing", '
        f"long_window={quote(str(tier.long_window))}, "
        f"short_window={quote(str(tier.short_window))}}}"
    )
    return {
        "name": f"{slo.service}/{slo.name} {alerting.label(tier)}",
        "interval": "1m",
        "input_series": [
            {"series": one.selector, "values": promtool_values(one, minutes)}
            for one in input_series(slo, (lane,), labels)
        ],
        "promql_expr_test": [
            {
                "expr": expr,
                "eval_time": f"{minute}m",
                "exp_samples": [{"labels": sample + "}", "value": 1}] if firing else [],
            }
            for minute, firing in checks
        ],
    }


@st.composite
def cases(draw: st.DrawFn, tiers: list[tuple[ServiceSpec, SLO, Tier]]) -> Case:
    # An index, not the tier itself: a failing example prints short.
    spec, slo, tier = tiers[draw(st.integers(0, len(tiers) - 1))]
    threshold = Fraction(slo.threshold(tier))
    kind = draw(st.sampled_from(["outage", "factor", "between"]))
    if kind == "outage":
        ratio = Fraction(1)
    elif kind == "factor":
        ratio = threshold * alerting.JUST_ABOVE
    else:
        lowest = threshold * Fraction(21, 20)
        ratio = lowest + (1 - lowest) * Fraction(draw(st.integers(0, 1000)), 1000)
    traffic = alerting.ample_traffic(tier)
    if tier.min_events and not tier.min_bad_events:
        # Events per minute the guard needs, times 4/5 (fires only once the outage floor is
        # reached, if ever) or 3/2 (fires as if
        # traffic were ample: the guard holds from the step on).
        needed = Fraction(tier.min_events * 60, tier.long_window.seconds)
        traffic = draw(st.sampled_from([traffic, needed * Fraction(4, 5), needed * Fraction(3, 2)]))
    return spec, slo, tier, ratio, traffic


def _groups(case: Case) -> list[dict[str, Any]]:
    """The step to the case's ratio, and for a full outage at ample traffic also its end."""
    spec, slo, tier, ratio, traffic = case
    fires = alerting.time_to_fire(slo, tier, ratio, traffic)
    start = alerting.warm_up_minutes(slo, tier)
    lane = (Phase(0, traffic, Fraction(0)), Phase(start, traffic, traffic * ratio))
    if fires is None:  # below the guard: silent through two long windows after the step
        needed = alerting.min_traffic(tier)
        assert needed is not None and traffic < needed * 60, (traffic, needed)
        silent = start + 2 * tier.long_window.seconds // 60
        return [_group(spec, slo, tier, lane, [(start + 5, False), (silent, False)])]
    assert fires % 60 == 0, fires
    ample = alerting.time_to_fire(slo, tier, ratio)
    needed = alerting.min_traffic(tier)
    if needed is None or traffic >= needed * 60:
        assert fires == ample, "the guard held: same as ample"
    else:  # below the guard, the outage floor's failed events page it, never sooner
        assert tier.outage_floor and ample is not None and fires >= ample, (fires, ample)
    at = start + fires // 60
    groups = [_group(spec, slo, tier, lane, [(at - 1, False), (at, True)])]
    if ratio == 1 and traffic == alerting.ample_traffic(tier):
        reset = alerting.reset_time(slo, tier)
        assert reset is not None and reset % 60 == 0, reset
        stop = start + alerting.outage_minutes(slo, tier)
        stopped = (*lane, Phase(stop, traffic, Fraction(0)))
        resolved = stop + reset // 60
        groups.append(_group(spec, slo, tier, stopped, [(resolved - 1, True), (resolved, False)]))
    return groups


def test_explained_times_are_when_promtool_fires(
    reference_specs: SpecSet, golden_specs: SpecSet, tmp_path_factory: Any, promtool_path: str
) -> None:
    tiers = _tiers(reference_specs, golden_specs)
    assert any(tier.for_ for _, _, tier in tiers) and any(tier.min_events for _, _, tier in tiers)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=cases(tiers))
    def check(case: Case) -> None:
        spec, slo, tier, ratio, _ = case
        tmp_path: Path = tmp_path_factory.mktemp("explain")
        rules = tmp_path / "rules.yml"
        rules.write_text(writer.to_yaml(rule_files.service_rules(spec)))
        test_file = tmp_path / "explain.test.yml"
        document = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": _groups(case)}
        test_file.write_text(writer.to_yaml(document))
        result = promtool.test_rules([test_file])
        assert result.ok, (slo.name, alerting.label(tier), str(ratio), result.output[:3000])

    check()


def _case(
    specs: SpecSet,
    alert: str,
    ratio: Fraction,
    guard_share: Fraction | None,
    long_window: str = "1h",
) -> Case:
    spec, slo, tier = next(
        t
        for t in _tiers(specs, max_long=3 * 86400)
        if t[2].alert == alert and str(t[2].long_window) == long_window
    )
    traffic = alerting.ample_traffic(tier)
    if guard_share is not None:
        traffic = Fraction(tier.min_events * 60, tier.long_window.seconds) * guard_share
    return spec, slo, tier, ratio, traffic


def test_for_and_the_guard_as_promtool_sees_them(
    reference_specs: SpecSet, golden_specs: SpecSet, tmp_path: Path, promtool_path: str
) -> None:
    """The cases the drawn ones may miss, always: a tier with `for:`, and traffic below and
    above a guard."""
    cases = [
        _case(golden_specs, "JobsFailingFast", Fraction(1), None),
        # Below the guard: a full outage pages once 100 events failed (the outage floor), ...
        _case(
            reference_specs, "ValdricsEnforcementErrorBudgetBurnFast", Fraction(1), Fraction(4, 5)
        ),
        # ... a partial one (5% of 800 an hour is 40 failures) never does.
        _case(
            reference_specs,
            "ValdricsEnforcementErrorBudgetBurnFast",
            Fraction(1, 20),
            Fraction(4, 5),
        ),
        _case(
            reference_specs,
            "ValdricsEnforcementErrorBudgetBurnFast",
            Fraction(1, 20),
            Fraction(3, 2),
        ),
        # A ticket tier of a day, once: the drawn cases stop at 6h to keep promtool quick.
        _case(reference_specs, "AgentApiAvailabilityErrorBudgetBurn", Fraction(1, 10), None, "1d"),
    ]
    assert cases[0][2].for_ is not None
    assert alerting.time_to_fire(*cases[1][1:]) is not None
    assert alerting.time_to_fire(*cases[2][1:]) is None
    for index, case in enumerate(cases):
        spec = case[0]
        rules = tmp_path / f"rules-{index}.yml"
        rules.write_text(writer.to_yaml(rule_files.service_rules(spec)))
        test_file = tmp_path / f"explain-{index}.test.yml"
        document = {"rule_files": [str(rules)], "evaluation_interval": "1m", "tests": _groups(case)}
        test_file.write_text(writer.to_yaml(document))
        result = promtool.test_rules([test_file])
        assert result.ok, (index, result.output[:3000])

"""Two compiled spec sets compared by service, SLO and signal, not by file.

Pure: two :class:`SpecSet` in, a :class:`ModelDiff` out. SLIs and signal conditions are
compared as the PromQL the rules evaluate, normalized, so a reformatted query is no change.
Every tier whose numbers move (an objective change moves all of them) carries its alerting
before and after (compiler.review.alerting); a change that makes paging later, rarer or
gone is marked as weaker, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import TypeVar

from compiler import burn_rate
from compiler.conventions import DISCARD_RECEIVER
from compiler.model.routing import Routing
from compiler.model.service import GatePolicy, ServiceSpec, SpecSet
from compiler.model.signal import Signal
from compiler.model.slo import SLO, LatencySLI, Tier
from compiler.promql import normalized
from compiler.review import alerting
from compiler.review.explain import sli_fields
from compiler.targets.prometheus import signal_rules
from compiler.targets.rule_tests.timeline import SloMath

SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


class Status(Enum):
    """What happened to a service, SLO, signal or tier."""

    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    """One field, before and after (as shown; "-" when absent)."""

    name: str
    before: str
    after: str
    weaker: str | None = None  # why this makes paging later, rarer or gone; None if not


@dataclass(frozen=True)
class TierChange:
    """A tier added, removed or changed, with what it does to alerting."""

    name: str  # the tier's label: alert and windows (the new one's, if changed)
    status: Status
    fields: tuple[FieldChange, ...] = ()  # the spec's fields
    effects: tuple[FieldChange, ...] = ()  # threshold, times, budget spent: before → after

    @property
    def weaker(self) -> tuple[str, ...]:
        """Why this tier now pages later, rarer or not at all."""
        if self.status is Status.REMOVED:
            return ("removed",)
        found = (change.weaker for change in (*self.fields, *self.effects))
        return tuple(dict.fromkeys(reason for reason in found if reason))


@dataclass(frozen=True)
class ItemChange:
    """An SLO or a signal added, removed, renamed or changed."""

    kind: str  # "slo" or "signal"
    name: str
    status: Status
    old_name: str | None = None  # for a rename
    fields: tuple[FieldChange, ...] = ()
    tiers: tuple[TierChange, ...] = ()
    summary: tuple[FieldChange, ...] = ()  # an added or removed item's key facts

    @property
    def weaker(self) -> tuple[str, ...]:
        """Why paging of this SLO or signal is weaker (removed, slower, quieter)."""
        if self.status is Status.REMOVED:
            return ("removed",)
        found = [c.weaker for c in self.fields if c.weaker]
        found += [reason for tier in self.tiers for reason in tier.weaker]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class ServiceChange:
    """Everything that changed in one service."""

    name: str
    status: Status
    fields: tuple[FieldChange, ...] = ()  # owner, telemetry, gate policy
    items: tuple[ItemChange, ...] = ()


@dataclass(frozen=True)
class ModelDiff:
    """The whole difference: services in name order, then routing."""

    services: tuple[ServiceChange, ...]
    routing: tuple[FieldChange, ...]

    @property
    def empty(self) -> bool:
        """Whether nothing a reviewer cares about changed."""
        return not self.services and not self.routing


def diff(before: SpecSet, after: SpecSet) -> ModelDiff:
    """What changed from ``before`` to ``after``."""
    old = {spec.service.name: spec for spec in before.services}
    new = {spec.service.name: spec for spec in after.services}
    services = []
    for name in sorted(old.keys() | new.keys()):
        change = _service(old.get(name), new.get(name))
        if change is not None:
            services.append(change)
    return ModelDiff(tuple(services), _routing(before.routing, after.routing))


def _service(old: ServiceSpec | None, new: ServiceSpec | None) -> ServiceChange | None:
    if old is None or new is None:
        spec = new or old
        assert spec is not None
        status = Status.ADDED if new is not None else Status.REMOVED
        items = tuple(
            _added_slo(slo) if new else _removed(slo.name, "slo") for slo in spec.slos
        ) + tuple(
            _added_signal(signal) if new else _removed(signal.name, "signal")
            for signal in spec.signals
        )
        return ServiceChange(spec.service.name, status, (), items)
    fields = _changes(
        [
            ("owner", old.service.owner, new.service.owner, None),
            ("telemetry", old.service.telemetry or "-", new.service.telemetry or "-", None),
        ]
    ) + _gate_changes(old.gate, new.gate)
    items = _slo_changes(old.slos, new.slos) + _signal_changes(old.signals, new.signals)
    if not fields and not items:
        return None
    return ServiceChange(new.service.name, Status.CHANGED, fields, items)


# --- SLOs --------------------------------------------------------------------------------


def _slo_changes(old: Sequence[SLO], new: Sequence[SLO]) -> tuple[ItemChange, ...]:
    pairs, removed, added = _match(old, new, lambda s: s.name, lambda a, b: a.sli == b.sli)
    changes = [c for a, b in pairs if (c := _slo_change(a, b)) is not None]
    changes += [_removed(slo.name, "slo") for slo in removed]
    changes += [_added_slo(slo) for slo in added]
    return tuple(changes)


def _slo_facts(slo: SLO) -> dict[str, str]:
    return {
        "objective": f"{burn_rate.format_number(slo.objective)}%",
        "period": str(slo.period),
        "error budget": f"{burn_rate.format_percent(slo.error_budget)} "
        f"({alerting.format_seconds(alerting.budget_in_time(slo))} of outage)",
        "group_by": ", ".join(slo.group_by) or "-",
        **sli_fields(slo),
        "runbook": slo.runbook_url or "-",
    }


def _slo_change(old: SLO, new: SLO) -> ItemChange | None:
    before, after = _slo_facts(old), _slo_facts(new)
    fields = []
    for key, a, b in _changed(before, after):  # an SLI of another kind has other fields
        weaker = None
        if key == "objective" and new.objective < old.objective:
            weaker = "looser objective"
        if key == "SLI threshold" and _latency(new) > _latency(old):
            weaker = "slower counts as good"
        fields.append(FieldChange(key, a, b, weaker))
    tiers = _tier_changes(old, new)
    renamed = old.name != new.name
    if not fields and not tiers and not renamed:
        return None
    status = Status.RENAMED if renamed else Status.CHANGED
    return ItemChange("slo", new.name, status, old.name if renamed else None, tuple(fields), tiers)


def _changed(before: dict[str, str], after: dict[str, str]) -> Iterator[tuple[str, str, str]]:
    """(key, before, after) of each fact that differs; "-" where a side has none."""
    for key in dict.fromkeys([*before, *after]):
        a, b = before.get(key, "-"), after.get(key, "-")
        if a != b:
            yield key, a, b


def _latency(slo: SLO) -> float:
    """A latency SLI's threshold in seconds (0 for other SLIs)."""
    return slo.sli.threshold if isinstance(slo.sli, LatencySLI) else 0.0


def _added_slo(slo: SLO) -> ItemChange:
    facts = _slo_facts(slo)
    summary = [FieldChange(k, "-", facts[k]) for k in ("objective", "period", "error budget")]
    tiers = tuple(
        TierChange(alerting.label(t), Status.ADDED, _tier_fields(None, t), _effects(None, slo, t))
        for t in slo.tiers
    )
    return ItemChange("slo", slo.name, Status.ADDED, summary=tuple(summary), tiers=tiers)


def _removed(name: str, kind: str) -> ItemChange:
    return ItemChange(kind, name, Status.REMOVED)


def _tier_changes(old: SLO, new: SLO) -> tuple[TierChange, ...]:
    """Tiers matched by alert name and order among those of that name; the tiers left over
    on both sides are matched in order (an alert renamed with its SLO, say)."""
    before, after = _keyed(old.tiers), _keyed(new.tiers)
    pairs = [(before[key], after[key]) for key in before if key in after]
    removed = [tier for key, tier in before.items() if key not in after]
    added = [tier for key, tier in after.items() if key not in before]
    paired = min(len(removed), len(added))
    pairs += list(zip(removed[:paired], added[:paired], strict=True))
    removed, added = removed[paired:], added[paired:]
    # The same tier of an SLO whose alerting math is the same fires the same: skip the model.
    same_math = SloMath.of(old) == SloMath.of(new) and old.period == new.period
    changes = []
    for a, b in sorted(pairs, key=lambda pair: new.tiers.index(pair[1])):
        fields = _tier_fields(a, b)
        if same_math and not fields and a == b:
            continue
        effects = _effects((old, a), new, b, every=bool(fields))
        if fields or effects:
            changes.append(TierChange(alerting.label(b), Status.CHANGED, fields, effects))
    changes += [
        TierChange(alerting.label(a), Status.REMOVED, _tier_fields(a, None)) for a in removed
    ]
    changes += [
        TierChange(alerting.label(b), Status.ADDED, _tier_fields(None, b), _effects(None, new, b))
        for b in added
    ]
    return tuple(changes)


def _keyed(tiers: Sequence[Tier]) -> dict[tuple[str, int], Tier]:
    seen: dict[str, int] = {}
    result = {}
    for tier in tiers:
        count = seen.get(tier.alert, 0)
        seen[tier.alert] = count + 1
        result[(tier.alert, count)] = tier
    return result


def _tier_facts(tier: Tier) -> dict[str, str]:
    return {
        "alert": tier.alert,
        "severity": tier.severity,
        "windows": f"{tier.long_window}/{tier.short_window}",
        "burn factor": f"{burn_rate.format_number(tier.burn_factor)}x",
        "for": str(tier.for_) if tier.for_ else "-",
        "guard": _guard(tier),
        "runbook": tier.runbook_url or "-",
    }


def _guard(tier: Tier) -> str:
    parts = []
    if tier.min_events:
        parts.append(f"{tier.min_events} events")
    if tier.min_bad_events:
        parts.append(f"{tier.min_bad_events} bad events")
    text = " and ".join(parts) or "-"
    if tier.outage_floor:
        text += f", or {tier.outage_floor} failed"
    return text


def _tier_fields(old: Tier | None, new: Tier | None) -> tuple[FieldChange, ...]:
    before = _tier_facts(old) if old else {}
    after = _tier_facts(new) if new else {}
    result = []
    for key, a, b in _changed(before, after):
        weaker = None
        if old and new:
            if key == "severity" and SEVERITY_RANK.get(new.severity, 9) > SEVERITY_RANK.get(
                old.severity, 9
            ):
                weaker = "lower severity"
            if key == "guard" and (
                new.min_events > old.min_events or new.min_bad_events > old.min_bad_events
            ):
                weaker = "higher guard"
            floor_before, floor_after = old.outage_floor, new.outage_floor
            if key == "guard" and floor_before and not 0 < floor_after <= floor_before:
                weaker = "an outage at low traffic pages later or not at all"
        result.append(FieldChange(key, a, b, weaker))
    return tuple(result)


def _percent(ratio: Fraction | None) -> str:
    if ratio is None:
        return "-"
    value = float(ratio) * 100
    text = f"{value:.3g}" if value < 10 else f"{value:.1f}".removesuffix(".0")
    return f"{text}%"


def _effect_facts(slo: SLO, tier: Tier) -> dict[str, tuple[str, float | None]]:
    """Shown value and a number to compare (larger: pages later or spends more)."""
    report = alerting.tier_report(slo, tier)
    outage, factor = report.outage, report.at_factor
    return {
        "fires above": (_percent(Fraction(report.threshold)), float(report.threshold)),
        "fires on full outage after": (
            alerting.format_seconds(outage.fires_after),
            _later(outage.fires_after),
        ),
        "fires at its factor after": (
            alerting.format_seconds(factor.fires_after),
            _later(factor.fires_after),
        ),
        "budget spent before it fires (outage)": (_percent(outage.budget_spent), None),
        "budget spent before it fires (at factor)": (_percent(factor.budget_spent), None),
        "resets after": (alerting.format_seconds(report.reset_after), None),
    }


def _later(seconds: int | None) -> float:
    return float("inf") if seconds is None else float(seconds)


_WEAKER = {
    "fires above": "quieter",
    "fires on full outage after": "slower",
    "fires at its factor after": "slower",
}


def _effects(
    old: tuple[SLO, Tier] | None, slo: SLO, tier: Tier, every: bool = False
) -> tuple[FieldChange, ...]:
    """The tier's alerting before and after: every quantity once any one of them moved (or
    with ``every``), so that a reviewer sees what stayed as well; none if nothing moved."""
    after = _effect_facts(slo, tier)
    before = _effect_facts(*old) if old else {}
    if not every and all(before.get(key, ("-",))[0] == shown for key, (shown, _) in after.items()):
        return ()
    result = []
    for key, (shown, number) in after.items():
        was, was_number = before.get(key, ("-", None))
        weaker = None
        if number is not None and was_number is not None and number > was_number:  # later
            weaker = _WEAKER.get(key)
        result.append(FieldChange(key, was, shown, weaker))
    return tuple(result)


# --- signals -----------------------------------------------------------------------------


def _signal_facts(signal: Signal) -> dict[str, str]:
    return {
        "severity": signal.severity,
        "condition": normalized(signal_rules.condition_expr(signal.condition, signal.group_by)),
        "group_by": ", ".join(signal.group_by) or "-",
        "for": str(signal.for_) if signal.for_ else "-",
        "clear_after": str(signal.clear_after) if signal.clear_after else "-",
        "runbook": signal.runbook_url or "-",
    }


def _signal_changes(old: Sequence[Signal], new: Sequence[Signal]) -> tuple[ItemChange, ...]:
    pairs, removed, added = _match(old, new, lambda s: s.name, lambda a, b: _same_signal(a, b))
    changes: list[ItemChange] = []
    for a, b in pairs:
        before, after = _signal_facts(a), _signal_facts(b)
        fields = []
        for key, value in after.items():
            if before[key] != value:
                weaker = None
                if key == "severity" and SEVERITY_RANK.get(b.severity, 9) > SEVERITY_RANK.get(
                    a.severity, 9
                ):
                    weaker = "lower severity"
                if key == "for" and _seconds(b.for_) > _seconds(a.for_):
                    weaker = "slower"
                fields.append(FieldChange(key, before[key], value, weaker))
        if a.name != b.name or fields:
            status = Status.RENAMED if a.name != b.name else Status.CHANGED
            old_name = a.name if a.name != b.name else None
            changes.append(ItemChange("signal", b.name, status, old_name, tuple(fields)))
    changes += [_removed(signal.name, "signal") for signal in removed]
    changes += [_added_signal(signal) for signal in added]
    return tuple(changes)


def _same_signal(a: Signal, b: Signal) -> bool:
    """Whether two signals differ in their names only (a default runbook link follows the
    name, so it is left out)."""
    left, right = _signal_facts(a), _signal_facts(b)
    return {**left, "runbook": ""} == {**right, "runbook": ""}


def _seconds(duration: object) -> int:
    return getattr(duration, "seconds", 0)


def _added_signal(signal: Signal) -> ItemChange:
    facts = _signal_facts(signal)
    summary = tuple(FieldChange(k, "-", facts[k]) for k in ("severity", "for"))
    return ItemChange("signal", signal.name, Status.ADDED, summary=summary)


# --- routing and gate --------------------------------------------------------------------


_TIMINGS = ("group_wait", "group_interval", "repeat_interval")


def _routing(old: Routing | None, new: Routing | None) -> tuple[FieldChange, ...]:
    before, after = _routing_facts(old), _routing_facts(new)
    result = []
    for key, a, b in _changed(before, after):
        weaker = None
        if key.startswith("route ") and not key.endswith(_TIMINGS):
            if b in ("-", DISCARD_RECEIVER):
                weaker = "not delivered"
            elif _pages(old, a) and not _pages(new, b):
                weaker = "no longer pages"
        result.append(FieldChange(key, a, b, weaker))
    return tuple(result)


def _pages(routing: Routing | None, receiver: str) -> bool:
    """Whether ``receiver`` pages someone (has a PagerDuty integration)."""
    found = [r for r in routing.receivers if r.name == receiver] if routing else []
    return any(r.pagerduty is not None for r in found)


def _routing_facts(routing: Routing | None) -> dict[str, str]:
    if routing is None:
        return {}
    routes = [(r.severity, r) for r in routing.routes]
    routes += [(f"{team.team} {r.severity}", r) for team in routing.teams for r in team.routes]
    if routing.security is not None:
        routes.append(("security", routing.security))
    facts = {f"route {name}": r.receiver for name, r in routes}
    facts["default receiver"] = routing.default_receiver
    facts["group_by"] = ", ".join(routing.group_by)
    for name, r in routes:
        for key in _TIMINGS:
            value = getattr(r, key)
            if value is not None:
                facts[f"route {name} {key}"] = str(value)
    for receiver in routing.receivers:
        kinds = [k for k in ("pagerduty", "slack", "webhook") if getattr(receiver, k)]
        facts[f"receiver {receiver.name}"] = ", ".join(
            f"{k}: {_short(getattr(receiver, k))}" for k in kinds
        )
    return facts


def _short(value: object) -> str:
    fields = getattr(value, "__dataclass_fields__", {})
    return " ".join(str(getattr(value, name)) for name in fields if getattr(value, name))


def _gate_changes(old: GatePolicy, new: GatePolicy) -> tuple[FieldChange, ...]:
    names = ("lookback", "clear_windows", "signoff", "freeze_below", "max_gap_evaluations")
    return _changes(
        [
            (f"gate {name}", _show(getattr(old, name)), _show(getattr(new, name)), None)
            for name in names
        ]
    )


def _show(value: object) -> str:
    if value is None:
        return "-"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _changes(rows: Iterable[tuple[str, str, str, str | None]]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(name, a, b, weaker) for name, a, b, weaker in rows if a != b)


# --- matching ----------------------------------------------------------------------------

T = TypeVar("T")


def _match(
    old: Sequence[T], new: Sequence[T], name: Callable[[T], str], same: Callable[[T, T], bool]
) -> tuple[list[tuple[T, T]], list[T], list[T]]:
    """Pairs by name; of the rest, a removed and an added item that are ``same`` apart from
    their names are a rename. Returns (pairs, removed, added)."""
    by_name = {name(item): item for item in new}
    pairs = [(item, by_name[name(item)]) for item in old if name(item) in by_name]
    taken = {name(b) for _, b in pairs}
    removed = [item for item in old if name(item) not in by_name]
    added = [item for item in new if name(item) not in taken]
    for item in list(removed):
        twin = next((other for other in added if same(item, other)), None)
        if twin is not None:
            pairs.append((item, twin))
            removed.remove(item)
            added.remove(twin)
    return pairs, removed, added

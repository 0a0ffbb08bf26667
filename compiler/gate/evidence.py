"""What the server says about one SLO, turned into reasons (docs/gate.md, "Decision").

Every check reads the series the compiler generates (``compiler.conventions``), at one
evaluation time (the server's clock when the run began). Missing, NaN or failed answers
become UNKNOWN reasons; they never count as "nothing is wrong".
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from compiler import burn_rate, conventions
from compiler.durations import Duration, DurationError
from compiler.gate import decision
from compiler.gate.decision import Episode, Firing, Reason, SignOff, Verdict
from compiler.gate.prometheus_api import ApiError, PrometheusClient
from compiler.gate.signoffs import SignOffSet
from compiler.gate.times import format_span, format_time, parse_rfc3339
from compiler.model.service import ServiceSpec
from compiler.model.slo import SLO, Tier
from compiler.promql import PromQLError, normalized, quote
from compiler.targets.prometheus import slo_rules

# Used for the gap check when the SLO's rule group (and so its interval) cannot be found.
FALLBACK_INTERVAL = 60.0
# A range query may return at most 11,000 points per series.
_MAX_STEPS = 10_000
_INPUTS = (
    conventions.BURN_RATE,
    conventions.EVENTS_TOTAL,
    conventions.EVENTS_BAD,
    conventions.BUDGET_REMAINING,
)

# How far the server's clock may be from this machine's, and the rule evaluator's from the
# server's: beyond it "recent" and "now" mean nothing the gate can check.
MAX_CLOCK_SKEW = 300.0


@dataclass
class Evidence:
    """The timestamps and findings a decision rests on (the JSON report's ``evidence``)."""

    evaluated_at: float
    evaluation_interval: float | None = None
    rules_evaluated_at: float | None = None
    checked_from: float | None = None  # the clear period searched for gaps in the records
    checked_to: float | None = None
    history_from: float | None = None  # when records began, if within the lookback
    episode: Episode | None = None
    signoff: SignOff | None = None
    alerts_now: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SloResult:
    """The decision about one SLO, with its reasons and evidence."""

    service: str
    slo: str
    owner: str | None
    source: str | None  # spec file and line, for annotations
    line: int | None
    reasons: tuple[Reason, ...]
    evidence: Evidence | None = None

    @property
    def verdict(self) -> Verdict:
        """BLOCK, UNKNOWN or PASS (see :func:`decision.verdict_of`)."""
        return decision.verdict_of(self.reasons)

    @property
    def deciding(self) -> list[Reason]:
        """The reasons with the SLO's own verdict: the ones that explain it."""
        verdict = self.verdict
        return [r for r in self.reasons if r.verdict is verdict]

    @property
    def since(self) -> float | None:
        """When the deciding condition began, if known."""
        stamps = [r.since for r in self.deciding if r.since is not None]
        return min(stamps) if stamps else None


def group_text(labels: dict[str, str], slo: SLO) -> str:
    """``tenant=b`` for a grouped SLO's series, or an empty string."""
    return ", ".join(f"{name}={labels.get(name, '')}" for name in slo.group_by)


def _for_group(text: str) -> str:
    return f" for {text}" if text else ""


def tier_text(tier: Tier) -> str:
    """``Name (critical, 1h/5m)``: how reasons name a tier."""
    return f"{tier.alert} ({tier.severity}, {tier.long_window}/{tier.short_window})"


class SloJudge:
    """Collects the reasons for one SLO's decision; each check adds to ``reasons``."""

    def __init__(
        self,
        client: PrometheusClient,
        spec: ServiceSpec,
        slo: SLO,
        now: float,
        rule_groups: Sequence[dict[str, Any]],
    ) -> None:
        self.client = client
        self.spec = spec
        self.slo = slo
        self.now = now
        self.rule_groups = rule_groups
        self.policy = spec.gate
        self.series = slo_rules.SloSeries(slo)
        self.reasons: list[Reason] = []
        self.evidence = Evidence(evaluated_at=now)
        self.values: dict[tuple[str, str, str], float] = {}  # (metric, window, group) → value

    # -- helpers ---------------------------------------------------------------------

    def add(self, verdict: Verdict, code: str, message: str, **times: float | None) -> None:
        """Record one reason."""
        self.reasons.append(Reason(verdict, code, message, times.get("since"), times.get("until")))

    def unknown(self, code: str, message: str, **times: float | None) -> None:
        """Record missing evidence."""
        self.add(Verdict.UNKNOWN, code, message, **times)

    def block(self, code: str, message: str, **times: float | None) -> None:
        """Record evidence that promotion must wait."""
        self.add(Verdict.BLOCK, code, message, **times)

    def guarded(self, check: Callable[[], None]) -> None:
        """Run one check; a failed request is an UNKNOWN reason, and the other checks run."""
        try:
            check()
        except ApiError as error:
            self.unknown(error.kind, error.message)

    @property
    def interval(self) -> float:
        """The rule group's evaluation interval (seconds)."""
        return self.evidence.evaluation_interval or FALLBACK_INTERVAL

    @property
    def max_gap(self) -> float:
        """The longest hole in the records that still counts as continuous evidence."""
        return self.policy.max_gap_evaluations * self.interval

    # -- the decision ----------------------------------------------------------------

    def judge(self, signoffs: SignOffSet) -> SloResult:
        """Run every check and return the decision."""
        if not self.slo.tiers:
            self.unknown("alerting-disabled", "the SLO has no burn-rate alerts to judge")
        else:
            self.check_rules()
            self.guarded(self.check_inputs)
            self.guarded(self.check_conditions)
            self.guarded(self.check_alerts)
            self.check_episode(signoffs)
            self.guarded(self.check_gaps)
            if not self.reasons:
                self.passed()
        return SloResult(
            service=self.slo.service,
            slo=self.slo.name,
            owner=self.spec.service.owner,
            source=self.slo.location.file or self.spec.source,
            line=self.slo.location.line or None,
            reasons=tuple(self.reasons),
            evidence=self.evidence,
        )

    def check_rules(self) -> None:
        """The SLO's rule group is loaded, complete, healthy and recently evaluated."""
        name = conventions.rule_group_name(self.slo.service, self.slo.name)
        copies = [g for g in self.rule_groups if g.get("name") == name]
        if not copies:
            self.unknown(
                "rules-missing",
                f"rule group '{name}' is not loaded in the server: the alerts and records "
                "the gate reads are not evaluated there",
            )
            return
        # Several copies (rulers behind Thanos, tenants' namespaces): judge the freshest.
        group = max(copies, key=lambda g: _evaluated_at(g) or 0.0)
        interval = group.get("interval")
        shortest = min(tier.short_window for tier in self.slo.tiers)
        if not isinstance(interval, int | float) or isinstance(interval, bool):
            pass  # not reported: the fallback interval is used
        elif not 0 < interval <= shortest.seconds:  # NaN fails too
            self.unknown(
                "rules-unhealthy",
                f"rule group '{name}' reports an evaluation interval of {interval!r}s: not a "
                f"positive number of seconds up to its shortest window ({shortest}), so its "
                "records and alerts cannot follow that window",
            )
        else:
            self.evidence.evaluation_interval = float(interval)
        expected = slo_rules.slo_rule_group(self.spec.service, self.slo)["rules"]
        loaded = {_rule_key(rule): rule for rule in group.get("rules", [])}
        missing = [_rule_text(rule) for rule in expected if _rule_key(rule) not in loaded]
        if missing:
            self.unknown(
                "rules-missing",
                f"rule group '{name}' lacks {len(missing)} rule(s) of the spec: "
                f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}",
            )
        for rule in expected:
            running = loaded.get(_rule_key(rule))
            if running is not None and not _same_expression(rule["expr"], running.get("query")):
                self.unknown(
                    "rules-differ",
                    f"rule {_rule_text(rule)} in '{name}' runs {running.get('query')!r}, not the "
                    "expression compiled from the spec: deploy the generated rules",
                )
        for rule in group.get("rules", []):
            if rule.get("health") != "ok":
                self.unknown(
                    "rules-unhealthy",
                    f"rule {rule.get('name')} in '{name}' has health '{rule.get('health')}'"
                    + (f": {rule['lastError']}" if rule.get("lastError") else ""),
                )
        evaluated = _evaluated_at(group)
        self.evidence.rules_evaluated_at = evaluated
        if evaluated is None:
            self.unknown("rules-stale", f"rule group '{name}' has not been evaluated yet")
        elif evaluated > self.now + MAX_CLOCK_SKEW:
            self.unknown(
                "clock-skew",
                f"rule group '{name}' was last evaluated at {format_time(evaluated)}, after the "
                f"server's own time {format_time(self.now)}: the query engine's clock and the "
                "rule evaluator's disagree",
            )
        elif self.now - evaluated > self.max_gap:
            self.unknown(
                "rules-stale",
                f"rule group '{name}' was last evaluated at {format_time(evaluated)}, "
                f"{format_span(self.now - evaluated)} ago: more than "
                f"{self.policy.max_gap_evaluations} evaluation intervals",
                since=evaluated,
            )

    def check_inputs(self) -> None:
        """Every series a tier reads has a value now, and none is NaN; record them."""
        names = "|".join(_INPUTS)
        matchers = self.series.matchers
        for item in self.client.instant(f'{{__name__=~"{names}", {matchers}}}', self.now):
            key = (
                item.labels.get("__name__", ""),
                item.labels.get(conventions.WINDOW_LABEL, ""),
                group_text(item.labels, self.slo),
            )
            self.values[key] = item.value
            if math.isnan(item.value):
                self.unknown("nan", f"{self._name(key[0], key[1], key[2])} is NaN now")
        needed = []
        for tier in self.slo.tiers:
            needed += [
                (conventions.BURN_RATE, tier.long_window),
                (conventions.BURN_RATE, tier.short_window),
            ]
            if tier.min_events:
                needed.append((conventions.EVENTS_TOTAL, tier.long_window))
            if tier.min_bad_events or tier.outage_floor:
                needed.append((conventions.EVENTS_BAD, tier.long_window))
            if tier.outage_floor:
                needed.append((conventions.EVENTS_BAD, tier.short_window))
        if self.policy.freeze_below is not None:
            needed.append((conventions.BUDGET_REMAINING, self.slo.period))
        present = {(metric, window) for metric, window, _ in self.values}
        for metric, window in dict.fromkeys(needed):
            if (metric, str(window)) not in present:
                self.unknown(
                    "no-data",
                    f"no value of {self._name(metric, str(window))} at "
                    f"{format_time(self.now)}: the records are not being written",
                )
        if self.policy.freeze_below is not None:
            self._check_budget(self.policy.freeze_below)

    def _check_budget(self, share: Any) -> None:
        for (metric, window, group), value in sorted(self.values.items()):
            if metric != conventions.BUDGET_REMAINING or window != str(self.slo.period):
                continue
            if not math.isnan(value) and value * 100 < float(share):
                self.block(
                    "budget-freeze",
                    f"error budget remaining over {self.slo.period}{_for_group(group)} is "
                    f"{_percent(value)}, below the freeze threshold of "
                    f"{burn_rate.format_number(share)}%",
                )

    def check_conditions(self) -> None:
        """Evaluate each tier's alert expression now: the alert's own condition, whatever
        ALERTS says (a lagging ruler, a long ``for`` or no Alertmanager cannot hide it)."""
        for tier in self.slo.tiers:
            expr = slo_rules.alert_expr(tier, self.series)
            for item in self.client.instant(expr, self.now):
                group = group_text(item.labels, self.slo)
                long_burn = self.values.get((conventions.BURN_RATE, str(tier.long_window), group))
                short_burn = self.values.get((conventions.BURN_RATE, str(tier.short_window), group))
                self.block(
                    "burning-now",
                    f"{tier_text(tier)}: the alert condition is true now{_for_group(group)}: "
                    f"burn rate {_burn(long_burn)} over {tier.long_window} and "
                    f"{_burn(short_burn)} over {tier.short_window}, above "
                    f"{burn_rate.format_number(tier.burn_factor)}x",
                )

    def check_alerts(self) -> None:
        """ALERTS now (firing or pending blocks) and over the lookback (episodes)."""
        selector = self._alerts_selector()
        history = self.client.samples(f"{selector}[{self.policy.lookback}]", self.now)
        pending: dict[tuple[tuple[str, str], ...], float] = {}
        firings = []
        for item in history:
            stamps = [t for t, _ in item.samples]
            if item.labels.get("alertstate") == "firing":
                name, long_window = self._alert_tier(item.labels)
                firings.append(Firing(name, long_window, tuple(stamps)))
            else:
                since = decision.runs(stamps, self.max_gap)[-1][0] if stamps else None
                pending[tuple(sorted(item.labels.items()))] = since or self.now
        episode = decision.latest_episode(firings, self.policy.clear_windows, self.max_gap)
        self.evidence.episode = episode
        for item in self.client.instant(selector, self.now):
            state = item.labels.get("alertstate", "")
            name, _ = self._alert_tier(item.labels)
            group = group_text(item.labels, self.slo)
            if state == "firing":
                since = episode.began if episode else None
            else:
                since = pending.get(tuple(sorted(item.labels.items())))
            self.evidence.alerts_now.append(
                {"alert": name, "state": state, "group": group, "since": since}
            )
            started = f" since {format_time(since)}" if since is not None else ""
            self.block(
                f"alert-{state}" if state in ("firing", "pending") else "alert-active",
                f"{name} is {state or 'active'}{_for_group(group)}{started}",
                since=since,
            )

    def check_episode(self, signoffs: SignOffSet) -> None:
        """After an episode: clear long enough, and signed off by the owner."""
        episode = self.evidence.episode
        if episode is None:
            return
        # While an alert is active the clear period has not even begun: that reason says so.
        active = any(r.code in ("alert-firing", "alert-pending") for r in self.reasons)
        if self.now < episode.clear_until and not active:
            self.block(
                "clear-too-short",
                decision.clear_message(episode, self.now),
                since=episode.began,
                until=episode.clear_until,
            )
        if not self.policy.signoff:
            return
        candidates = signoffs.for_slo(self.slo.service, self.slo.name)
        owner = self.spec.service.owner
        rejected = []
        for signoff in sorted(candidates, key=lambda s: s.signed_at, reverse=True):
            problems = decision.signoff_problems(signoff, owner, episode, self.now)
            if not problems:
                self.evidence.signoff = signoff
                return
            rejected.append((signoff, problems))
        began = f"the episode that began at {format_time(episode.began)}"
        for signoff, problems in rejected:
            self.block(
                problems[0][0],
                f"sign-off {signoff.where} does not count for {began}: "
                + "; ".join(message for _, message in problems),
                since=episode.began,
            )
        if not rejected:
            ignored = signoffs.ignored_for(self.slo.service, self.slo.name)
            note = (
                f" ({len(ignored)} sign-off file(s) with errors ignored: {', '.join(ignored)})"
                if ignored
                else ""
            )
            self.block(
                "no-signoff",
                f"no sign-off by {owner} for {began} ({', '.join(episode.alerts)}){note}",
                since=episode.began,
            )

    def check_gaps(self) -> None:
        """The records the alerts read have samples throughout the clear period.

        A history younger than the lookback (a new deployment, a new server) is evidence
        from where it begins, once it covers the SLO's clear period; holes after it began
        longer than ``max_gap`` are gaps. The answer depends on the data only, not on when
        the gate runs: holes are looked for at every evaluation interval of an absolute grid
        (a subquery's steps), whatever the range query's step.
        """
        episode = self.evidence.episode
        start = self.now - self.policy.lookback.seconds
        if episode is not None:
            start = max(start, episode.last_firing)
        if start >= self.now:
            return
        self.evidence.checked_from, self.evidence.checked_to = start, self.now
        wanted: dict[str, set[Duration]] = {}
        for tier in self.slo.tiers:
            wanted.setdefault(conventions.BURN_RATE, set()).update(
                (tier.long_window, tier.short_window)
            )
            if tier.min_events:
                wanted.setdefault(conventions.EVENTS_TOTAL, set()).add(tier.long_window)
            if tier.min_bad_events or tier.outage_floor:
                wanted.setdefault(conventions.EVENTS_BAD, set()).add(tier.long_window)
            if tier.outage_floor:
                wanted.setdefault(conventions.EVENTS_BAD, set()).add(tier.short_window)
        grid = max(1, round(self.interval))
        step = max(grid, math.ceil((self.now - start) / _MAX_STEPS))
        steps = int((self.now - start) // step)
        first = self.now - steps * step  # the last step is now
        # Per step: 0 where some grid point in the step had no sample for longer than G.
        covered: dict[str, list[bool]] = {}
        for metric, windows in sorted(wanted.items()):
            # A window the answer leaves out (the query gives each a series) has no samples.
            for window in sorted(windows):
                covered[self._name(metric, str(window))] = [False] * (steps + 1)
            for item in self.client.range(
                self._coverage_expr(metric, windows, grid, step), first, self.now, step
            ):
                at = {round((t - first) / step): value > 0 for t, value in item.samples}
                name = self._name(metric, item.labels.get(conventions.WINDOW_LABEL, ""))
                covered[name] = [at.get(k, False) for k in range(steps + 1)]
        began = self._history_began(covered, first, step, young=episode is None)
        holes: dict[tuple[float, float], list[str]] = {}
        for name, flags in covered.items():
            missing = [first + k * step for k, ok in enumerate(flags) if not ok]
            for hole_start, hole_end in decision.runs(missing, step * 1.5):
                if began is not None and hole_end <= began:
                    continue  # before the records began: the young history, judged above
                span = (max(start, hole_start - step - self.max_gap), hole_end)
                holes.setdefault(span, []).append(name)
        for (hole_start, hole_end), names in sorted(holes.items()):
            self.unknown(
                "gap",
                f"no samples of {', '.join(names)} from {format_time(hole_start)} to "
                f"{format_time(hole_end)} ({format_span(hole_end - hole_start)}), longer than "
                f"{self.policy.max_gap_evaluations} evaluation intervals "
                f"({format_span(self.max_gap)}): the rules or the server were not running, "
                "so silence there is no evidence",
                since=hole_start,
                until=hole_end,
            )

    def _coverage_expr(self, metric: str, windows: set[Duration], grid: int, step: int) -> str:
        """Per window: 1 or more where every grid point of the last step saw a sample within
        ``max_gap``, 0 where one did not (``or`` a zero for each window, since a window
        with no samples at all is no series)."""
        names = sorted(str(w) for w in windows)
        label = conventions.WINDOW_LABEL
        counts = (
            f"count by ({label}) (count_over_time("
            f'{metric}{{{self.series.matchers}, {label}=~"{"|".join(names)}"}}'
            f"[{int(self.max_gap)}s]))"
        )
        zeros = " or ".join(f'label_replace(vector(0), "{label}", "{n}", "", "")' for n in names)
        return f"min_over_time(({counts} or {zeros})[{step}s:{grid}s])"

    def _history_began(
        self, covered: dict[str, list[bool]], first: float, step: float, young: bool
    ) -> float | None:
        """When the records began, if after the start of the lookback: a young history. It
        counts as evidence once it covers the clear period (``clear_windows`` of the
        longest long window); before that the SLO is UNKNOWN (``short-history``)."""
        if not young or not covered:
            return None
        leading = [
            next((k for k, ok in enumerate(flags) if ok), None) for flags in covered.values()
        ]
        if any(k is None for k in leading):
            return None  # a series with no samples at all: a gap over the whole period
        latest = max(k for k in leading if k is not None)
        if latest == 0:
            return None  # records from the start of the lookback: not young
        began = first + latest * step - step
        self.evidence.history_from = began
        longest = max(tier.long_window.seconds for tier in self.slo.tiers)
        needed = self.policy.clear_windows * longest
        if self.now - began < needed:
            self.unknown(
                "short-history",
                f"the records begin at {format_time(began)}, {format_span(self.now - began)} "
                f"ago: less than the clear period of {self.policy.clear_windows} x "
                f"{Duration(longest)} (the longest window), so no alert could have fired and "
                f"cleared in it; the gate can pass from {format_time(began + needed)}",
                since=began,
                until=began + needed,
            )
        return began

    def passed(self) -> None:
        """The PASS reason: what the evidence was."""
        episode = self.evidence.episode
        checked = (
            f"records complete from {format_time(self.evidence.checked_from)}"
            if self.evidence.checked_from is not None
            else "records complete"
        )
        if self.evidence.history_from is not None:
            checked = (
                f"records complete since they began at "
                f"{format_time(self.evidence.history_from)}, within the {self.policy.lookback} "
                "lookback and longer than the clear period"
            )
        if episode is None:
            self.add(
                Verdict.PASS,
                "no-episode",
                f"no burn-rate alert fired in the last {self.policy.lookback}; no tier "
                f"condition is true now; {checked}",
                since=self.now - self.policy.lookback.seconds,
            )
            return
        signed = (
            f"; signed off in {self.evidence.signoff.where} by {self.evidence.signoff.owner}"
            if self.evidence.signoff
            else ""
        )
        self.add(
            Verdict.PASS,
            "episode-cleared",
            f"the episode of {format_time(episode.began)} ({', '.join(episode.alerts)}) has "
            f"been clear since {format_time(episode.last_firing)}, beyond "
            f"{format_time(episode.clear_until)} ({episode.clear_after}){signed}; {checked}",
            since=episode.last_firing,
        )

    # -- naming ----------------------------------------------------------------------

    def _alerts_selector(self) -> str:
        names = "|".join(sorted({tier.alert for tier in self.slo.tiers}))
        return f'ALERTS{{{self.series.matchers}, alertname=~"{names}"}}'

    def _alert_tier(self, labels: dict[str, str]) -> tuple[str, Duration]:
        """How to name an alert series, and the long window its clear period counts.

        An alert of the SLO that matches no tier of the spec (rules older than the spec)
        still counts, with its own long window, or the longest one if that is unreadable.
        """
        for tier in self.slo.tiers:
            if (
                labels.get("alertname") == tier.alert
                and labels.get(conventions.SEVERITY_LABEL) == tier.severity
                and labels.get(conventions.LONG_WINDOW_LABEL) == str(tier.long_window)
                and labels.get(conventions.SHORT_WINDOW_LABEL) == str(tier.short_window)
            ):
                return tier_text(tier), tier.long_window
        longest = max(tier.long_window for tier in self.slo.tiers)
        try:
            window = Duration.parse(labels.get(conventions.LONG_WINDOW_LABEL, ""))
        except DurationError:
            window = longest
        name = (
            f"{labels.get('alertname')} ({labels.get(conventions.SEVERITY_LABEL)}, "
            f"{labels.get(conventions.LONG_WINDOW_LABEL)}/"
            f"{labels.get(conventions.SHORT_WINDOW_LABEL)}; not a tier of the spec)"
        )
        return name, max(window, longest)

    def _name(self, metric: str, window: str, group: str = "") -> str:
        labels = [f'{conventions.WINDOW_LABEL}="{window}"'] if window else []
        labels += [group] if group else []
        return f"{metric}{{{', '.join(labels)}}}"


def _skew_message(skew: float) -> str:
    shown = f"{abs(skew):.0f}s" if abs(skew) < 1e9 else "far"
    side = "behind" if skew < 0 else "ahead of"
    return (
        f"the server's clock (time()) is {shown} {side} this machine's, more than "
        f"{MAX_CLOCK_SKEW:.0f}s: the gate cannot tell what is recent there"
    )


def _evaluated_at(group: dict[str, Any]) -> float | None:
    text = group.get("lastEvaluation")
    if not isinstance(text, str) or text.startswith("0001-"):
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        return None


def _rule_key(rule: dict[str, Any]) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """A rule's identity: its kind, name and the labels that tell windows and tiers apart."""
    labels = rule.get("labels") or {}
    keep = (
        conventions.WINDOW_LABEL,
        conventions.SEVERITY_LABEL,
        conventions.LONG_WINDOW_LABEL,
        conventions.SHORT_WINDOW_LABEL,
        conventions.ALERT_LABEL,
    )
    name = rule.get("record") or rule.get("alert") or rule.get("name") or ""
    kind = "alerting" if "alert" in rule or rule.get("type") == "alerting" else "recording"
    return kind, name, tuple((k, str(labels[k])) for k in keep if labels.get(k))


def _same_expression(compiled: str, running: Any) -> bool:
    """Whether the server runs the compiled expression: both parsed and printed by one
    printer, so that the server's own formatting (spaces, number forms) does not matter."""
    if not isinstance(running, str):
        return False
    try:
        return normalized(compiled) == normalized(running)
    except PromQLError:
        return False


def _rule_text(rule: dict[str, Any]) -> str:
    kind, name, labels = _rule_key(rule)
    inner = ", ".join(f"{k}={quote(v)}" for k, v in labels)
    return f"{'alert ' if kind == 'alerting' else ''}{name}{{{inner}}}"


def _burn(value: float | None) -> str:
    return "?" if value is None else f"{burn_rate.format_number(round(value, 2))}x"


def _percent(ratio: float) -> str:
    return f"{burn_rate.format_number(round(ratio * 100, 1))}%"


def judge_all(
    client: PrometheusClient,
    selected: Iterable[tuple[ServiceSpec, SLO]],
    signoffs: SignOffSet,
) -> tuple[float | None, list[SloResult]]:
    """Decide every selected SLO at one evaluation time (the server's clock).

    If the server cannot tell its time or its rules, every SLO is UNKNOWN for that reason.
    """
    chosen = list(selected)
    try:
        now = client.server_time()
        skew = now - time.time()
        if not math.isfinite(skew) or abs(skew) > MAX_CLOCK_SKEW:
            raise ApiError("clock-skew", _skew_message(skew))
        groups = client.rule_groups()
    except ApiError as error:
        reason = Reason(Verdict.UNKNOWN, error.kind, error.message)
        return None, [
            SloResult(
                slo.service,
                slo.name,
                spec.service.owner,
                slo.location.file or spec.source,
                slo.location.line or None,
                (reason,),
            )
            for spec, slo in chosen
        ]
    results = [SloJudge(client, spec, slo, now, groups).judge(signoffs) for spec, slo in chosen]
    return now, results

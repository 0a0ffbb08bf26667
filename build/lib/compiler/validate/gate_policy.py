"""The ``gate:`` section of a spec: the release-gate policy of one service, checked.

The defaults (in :class:`compiler.model.GatePolicy`) are runbook 002's release-gate rule:
a firing in the last 7 days is an episode, which blocks until the alerts have been clear
for two long windows of every tier that fired and the owner has signed off.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from compiler.diagnostics import Diagnostic
from compiler.durations import Duration, DurationError
from compiler.model.service import GatePolicy
from compiler.model.slo import SLO

if TYPE_CHECKING:  # semantics builds the policy; importing it here would be circular
    from compiler.validate.context import Checker

_DEFAULT = GatePolicy()


def build_policy(check: Checker, raw: dict[str, Any] | None, slos: Sequence[SLO]) -> GatePolicy:
    """The policy a schema-valid ``gate:`` mapping (or its absence) describes."""
    raw = raw or {}
    lookback = _DEFAULT.lookback
    if "lookback" in raw:
        try:
            lookback = Duration.parse(raw["lookback"])
        except DurationError as exc:
            check.error(("gate", "lookback"), str(exc))
    freeze = raw.get("freeze_below")
    policy = GatePolicy(
        lookback=lookback,
        clear_windows=int(raw.get("clear_windows", _DEFAULT.clear_windows)),
        signoff=bool(raw.get("signoff", _DEFAULT.signoff)),
        freeze_below=None if freeze is None else Decimal(repr(freeze)),
        max_gap_evaluations=int(raw.get("max_gap_evaluations", _DEFAULT.max_gap_evaluations)),
    )
    _check_lookback(check, policy, "lookback" in raw, slos)
    return policy


def _check_lookback(
    check: Checker, policy: GatePolicy, explicit: bool, slos: Sequence[SLO]
) -> None:
    """An episode must stay in the lookback until it has been clear long enough."""
    for slo in slos:
        for tier in slo.tiers:
            needed = tier.long_window.seconds * policy.clear_windows
            if needed <= policy.lookback.seconds:
                continue
            message = (
                f"the release gate's lookback {policy.lookback} is shorter than "
                f"{policy.clear_windows} x the {tier.long_window} window of tier "
                f"'{tier.alert}' of SLO '{slo.name}': an episode would leave the lookback "
                f"before it is clear; set gate.lookback to at least {Duration(needed)}"
            )
            if explicit:
                check.error(("gate", "lookback"), message)
            else:
                check.diagnostics.append(Diagnostic(slo.location, message))
            return

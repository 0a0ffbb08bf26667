"""Rule shapes: SLOs whose generated rules differ only in names, selectors and texts.

Two SLOs have the same shape when everything that decides which alerts their rules fire,
and when, is the same: the alert math (error budget, base window, every tier's windows,
threshold, ``for`` and low-traffic guard), the period, the SLI's kind and form (which side
is counted, from a selector or a query, how the synthetic events split over its series), how
many labels it groups by, and which tiers share an alert name. Alert names, labels and texts
are not part of it: each SLO's own test checks its alerts with their exact labels and texts.
Such SLOs share one full scenario set (docs/testing.md, "Per SLO and per shape"); each SLO
keeps a small test of its own that proves its rules are an instance of the shape.

The key is computed from one SLO alone, so a service's own test file (which names its
SLOs' shapes) stays a function of its spec, as the output cache requires.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from compiler.model.slo import SLO, LatencySLI, RatioSLI
from compiler.targets.prometheus import slo_rules
from compiler.targets.rule_tests.event_series import event_series, group_label_values
from compiler.targets.rule_tests.timeline import SloMath

KEY_LENGTH = 12  # hex digits of the shape's hash: names stay short, clashes stay unlikely
SUBJECT_PREFIX = "shape "


@lru_cache(maxsize=16384)  # asked for by the service's test file and by the shape files
def shape_key(slo: SLO) -> str:
    """The name of ``slo``'s shape: a short hash of what decides its rules' alerts."""
    text = repr(_shape(slo)).encode("utf-8")
    return hashlib.sha256(text).hexdigest()[:KEY_LENGTH]


def subject(key: str) -> str:
    """The prefix of a shape's test group names (``shape 3f2a...``), by which `slo test`
    reports it."""
    return f"{SUBJECT_PREFIX}{key}"


def _shape(slo: SLO) -> tuple[object, ...]:
    alerts = [tier.alert for tier in slo.tiers]
    return (
        SloMath.of(slo),
        slo.period.seconds,
        _sli_form(slo),
        tuple(kind.share for kind in event_series(slo)),
        len(slo.group_by),
        len(group_label_values(slo, 2)),
        tuple(alerts.index(name) for name in alerts),  # which tiers share an alert name
    )


def _sli_form(slo: SLO) -> tuple[object, ...]:
    match slo.sli:
        case RatioSLI(total=total, bad=bad, good=good):
            return (
                "ratio",
                "bad" if bad is not None else "good",
                *(
                    "selector" if side.selector is not None else "query"
                    for side in (total, bad or good)
                    if side is not None
                ),
            )
        case LatencySLI():
            # A whole-number bound is matched as `1|1\.0`, a regex: another expression.
            return ("latency", slo_rules.le_matcher(slo.sli.threshold).op)

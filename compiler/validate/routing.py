"""From a ``kind: Routing`` document to a :class:`~compiler.model.routing.Routing`.

The schema has checked shapes; here: receivers that routes name must exist (with a
did-you-mean), secret files must be absolute paths (Alertmanager would resolve a relative
one against its working directory, wherever that is), and a spec set holds one routing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from compiler import conventions
from compiler.diagnostics import Diagnostic, errors
from compiler.durations import Duration
from compiler.load.loader import Document, PathKey, iter_paths
from compiler.load.schema_check import check as schema_check
from compiler.model.routing import (
    DEFAULT_GROUP_BY,
    DEFAULT_GROUP_INTERVAL,
    DEFAULT_GROUP_WAIT,
    DEFAULT_REPEAT_INTERVAL,
    SEVERITIES,
    PagerDuty,
    Receiver,
    Routing,
    SeverityRoute,
    Slack,
    TeamRoutes,
    Webhook,
)
from compiler.validate.context import Checker, parse_duration

KIND = "Routing"
SCHEMA = "routing-v1.schema.json"


def build_routing(document: Document) -> tuple[Routing | None, list[Diagnostic]]:
    """Build the routing from a ``kind: Routing`` document, or report why it cannot be."""
    found = schema_check(document, SCHEMA)
    if found:
        return None, found
    check = Checker(document)
    raw: dict[str, Any] = document.data["routing"]
    for field, value in iter_paths(raw, ("routing",)):
        if str(field[-1]).endswith("_file") and not str(value).startswith("/"):
            check.error(field, f"'{value}' must be an absolute path")
    receivers = tuple(_receiver(name, spec) for name, spec in sorted(raw["receivers"].items()))
    known = [r.name for r in receivers]
    if conventions.DISCARD_RECEIVER in known:
        check.error(
            ("routing", "receivers", conventions.DISCARD_RECEIVER),
            f"'{conventions.DISCARD_RECEIVER}' is the receiver the compiler adds for alerts "
            "that go nowhere; choose another name",
        )
    routes = []
    for severity in SEVERITIES:
        spec = raw["severities"].get(severity)
        path: PathKey = ("routing", "severities", severity)
        if spec is None:  # only info may be left out: it is shown on dashboards, not sent
            routes.append(SeverityRoute(severity, conventions.DISCARD_RECEIVER))
            continue
        routes.append(_route(check, severity, spec, path, known))
    teams = tuple(
        TeamRoutes(
            team,
            tuple(
                _route(check, severity, spec[severity], ("routing", "teams", team, severity), known)
                for severity in SEVERITIES
                if severity in spec
            ),
            document.locate(("routing", "teams", team)),
        )
        for team, spec in raw.get("teams", {}).items()
    )
    security = (
        _route(check, "", raw["security"], ("routing", "security"), known)
        if "security" in raw
        else None
    )
    receivers_by_name = {r.name: r for r in receivers}
    for route, path in [
        *((r, ("routing", "severities", "critical")) for r in routes),
        *((r, ("routing", "teams", t.team, "critical")) for t in teams for r in t.routes),
    ]:
        receiver = receivers_by_name.get(route.receiver)
        if route.severity == "critical" and receiver is not None and receiver.pagerduty is None:
            check.warn(
                (*path, "receiver"),
                f"critical alerts go to '{route.receiver}', which has no pagerduty integration: "
                "a page nobody acknowledges is not escalated (PagerDuty's escalation policy "
                "does that; Slack and webhooks notify once and repeat only after "
                "repeat_interval)",
            )
    default = raw.get("default_receiver", raw["severities"]["warning"]["receiver"])
    if "default_receiver" in raw:
        _known_receiver(check, default, known, ("routing", "default_receiver"))
    routing = Routing(
        receivers=receivers,
        routes=tuple(routes),
        default_receiver=default,
        teams=teams,
        security=security,
        group_by=tuple(raw.get("group_by", DEFAULT_GROUP_BY)),
        group_wait=_timing(check, raw, "group_wait") or DEFAULT_GROUP_WAIT,
        group_interval=_timing(check, raw, "group_interval") or DEFAULT_GROUP_INTERVAL,
        repeat_interval=_timing(check, raw, "repeat_interval") or DEFAULT_REPEAT_INTERVAL,
        source=document.file,
        location=document.locate(("kind",)),
    )
    if errors(check.diagnostics):
        return None, check.diagnostics
    return routing, check.diagnostics


def _route(
    check: Checker, severity: str, spec: dict[str, Any], path: PathKey, known: list[str]
) -> SeverityRoute:
    _known_receiver(check, spec["receiver"], known, (*path, "receiver"))
    return SeverityRoute(
        severity,
        spec["receiver"],
        parse_duration(check, (*path, "group_wait"), spec.get("group_wait")),
        parse_duration(check, (*path, "group_interval"), spec.get("group_interval")),
        parse_duration(check, (*path, "repeat_interval"), spec.get("repeat_interval")),
    )


def _timing(check: Checker, raw: dict[str, Any], key: str) -> Duration | None:
    return parse_duration(check, ("routing", key), raw.get(key))


def _receiver(name: str, spec: dict[str, Any]) -> Receiver:
    pagerduty, slack, webhook = spec.get("pagerduty"), spec.get("slack"), spec.get("webhook")
    return Receiver(
        name=name,
        pagerduty=PagerDuty(pagerduty["routing_key_file"]) if pagerduty else None,
        slack=Slack(slack["api_url_file"], slack.get("channel")) if slack else None,
        webhook=Webhook(webhook["url"], webhook.get("credentials_file")) if webhook else None,
    )


def _known_receiver(check: Checker, name: str, known: list[str], path: PathKey) -> None:
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    check.error(path, f"no receiver '{name}'{hint}; receivers: {', '.join(known)}")


def routing_checks(routings: Iterable[Routing]) -> list[Diagnostic]:
    """One routing for the whole spec set."""
    routings = list(routings)
    return [
        Diagnostic(
            extra.location, f"a second Routing document (the first is in {routings[0].source})"
        )
        for extra in routings[1:]
    ]


def team_checks(routing: Routing, owners: Iterable[str]) -> list[Diagnostic]:
    """Every team the routing names owns a service of the set (a typo would route nothing)."""
    known = sorted(set(owners))
    problems = []
    for team in routing.teams:
        if team.team not in known:
            close = difflib.get_close_matches(team.team, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(
                Diagnostic(
                    team.location,
                    f"no service is owned by '{team.team}'{hint}; owners: {', '.join(known)}",
                )
            )
    return problems

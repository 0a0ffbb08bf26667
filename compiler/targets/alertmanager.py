"""Alertmanager's configuration: routing by team and severity, receivers, and inhibition.

Written only when the specs hold a ``kind: Routing`` document (docs/alertmanager.md).
Critical alerts go to the paging receiver, warnings to the ticket receiver, info to a
receiver without integrations (dashboards show it; nobody is notified); a team's own
receivers come first for the services it owns, and security alerts reach the security
receiver as well. Inhibition comes from the model:

- while an alert that reports a telemetry pipeline down fires (``pipeline_down``), every
  alert labelled with that pipeline (``telemetry``) is held back: it is computed from data
  that is not arriving;
- while an SLO's critical burn-rate alert fires, its warning tiers for the same label set
  are held back (the page already says more than the ticket would).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from compiler import conventions
from compiler.model.routing import Receiver, Routing, SeverityRoute
from compiler.model.service import SpecSet
from compiler.outputs import OutputFile, generated_header
from compiler.promql import quote

# Slack's default message is only the alert name; these list each alert's summary and runbook.
_SLACK_TITLE = (
    "[{{ .Status | toUpper }}] {{ .CommonLabels.service }}: {{ .CommonLabels.alertname }}"
)
_SLACK_TEXT = (
    "{{ range .Alerts }}{{ .Annotations.summary }}\n"
    "{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}\n{{ end }}"
    "{{ end }}"
)


def config_files(specs: SpecSet) -> list[OutputFile]:
    """``alertmanager/alertmanager.yml``, if the specs say how to route."""
    if specs.routing is None:
        return []
    return [
        OutputFile(
            conventions.ALERTMANAGER_PATH,
            config(specs, specs.routing),
            header=generated_header(specs.routing.source),
        )
    ]


def config(specs: SpecSet, routing: Routing) -> dict[str, Any]:
    """The whole configuration file."""
    owned: dict[str, list[str]] = {}
    for spec in specs.services:
        owned.setdefault(spec.service.owner, []).append(spec.service.name)
    return {
        "route": route_tree(routing, owned),
        "receivers": receivers(routing),
        "inhibit_rules": inhibit_rules(specs),
    }


def matcher(label: str, value: str) -> str:
    """One Alertmanager matcher, ``label="value"``."""
    return f"{label}={quote(value)}"


def route_tree(
    routing: Routing, owned: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """The root route (the default receiver and timing) with, in order: the security route
    (which lets alerts go on), one route per team and severity it names (for the services
    the team owns, in ``owned``), and one per severity."""
    routes = []
    if routing.security is not None:
        security = matcher(conventions.CATEGORY_LABEL, conventions.SECURITY_CATEGORY)
        routes.append({**_route(routing.security, [security]), "continue": True})
    for team in routing.teams:
        services = sorted((owned or {}).get(team.team, ()))
        if not services:
            continue
        # Service names are lower-case letters, digits and dashes: nothing to escape.
        pattern = "|".join(services)
        for team_route in team.routes:
            by_team = f"{conventions.SERVICE_LABEL}=~{quote(pattern)}"
            routes.append(_route(team_route, [by_team, _severity(team_route)]))
    routes += [
        _route(severity_route, [_severity(severity_route)]) for severity_route in routing.routes
    ]
    return {
        "receiver": routing.default_receiver,
        "group_by": list(routing.group_by),
        "group_wait": str(routing.group_wait),
        "group_interval": str(routing.group_interval),
        "repeat_interval": str(routing.repeat_interval),
        "routes": routes,
    }


def _severity(route: SeverityRoute) -> str:
    return matcher(conventions.SEVERITY_LABEL, route.severity)


def _route(route: SeverityRoute, matchers: list[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"receiver": route.receiver, "matchers": matchers}
    for key in ("group_wait", "group_interval", "repeat_interval"):
        value = getattr(route, key)
        if value is not None:
            entry[key] = str(value)
    return entry


def receivers(routing: Routing) -> list[dict[str, Any]]:
    """Every receiver the spec declares, and the discarding one if a route uses it."""
    result = [_receiver(receiver) for receiver in routing.receivers]
    used = {route.receiver for route in routing.routes} | {routing.default_receiver}
    if conventions.DISCARD_RECEIVER in used:
        result.append({"name": conventions.DISCARD_RECEIVER})
    return result


def _receiver(receiver: Receiver) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": receiver.name}
    if receiver.pagerduty:
        entry["pagerduty_configs"] = [
            {"routing_key_file": receiver.pagerduty.routing_key_file, "send_resolved": True}
        ]
    if receiver.slack:
        slack: dict[str, Any] = {"api_url_file": receiver.slack.api_url_file}
        if receiver.slack.channel:
            slack["channel"] = receiver.slack.channel
        slack.update({"send_resolved": True, "title": _SLACK_TITLE, "text": _SLACK_TEXT})
        entry["slack_configs"] = [slack]
    if receiver.webhook:
        webhook: dict[str, Any] = {"url": receiver.webhook.url, "send_resolved": True}
        if receiver.webhook.credentials_file:
            webhook["http_config"] = {
                "authorization": {"credentials_file": receiver.webhook.credentials_file}
            }
        entry["webhook_configs"] = [webhook]
    return entry


def inhibit_rules(specs: SpecSet) -> list[dict[str, Any]]:
    """Pipeline-down alerts hold back the pipeline's alerts; pages hold back tickets."""
    rules: list[dict[str, Any]] = []
    for signal in specs.signals:
        if signal.pipeline_down:
            rules.append(
                {
                    "source_matchers": [
                        matcher("alertname", signal.name),
                        matcher(conventions.SERVICE_LABEL, signal.service),
                    ],
                    "target_matchers": [matcher(conventions.TELEMETRY_LABEL, signal.pipeline_down)],
                }
            )
    for slo in specs.slos:
        severities = {tier.severity for tier in slo.tiers}
        if not {"critical", "warning"} <= severities:
            continue
        same_slo = [
            matcher(conventions.SERVICE_LABEL, slo.service),
            matcher(conventions.SLO_LABEL, slo.name),
        ]
        rule: dict[str, Any] = {
            "source_matchers": [*same_slo, matcher(conventions.SEVERITY_LABEL, "critical")],
            "target_matchers": [*same_slo, matcher(conventions.SEVERITY_LABEL, "warning")],
        }
        if slo.group_by:
            rule["equal"] = list(slo.group_by)
        rules.append(rule)
    return rules

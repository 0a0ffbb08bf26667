"""The compiled form of a ``kind: Routing`` document: where alerts go, by team and severity.

Receivers hold only references to secrets (files Alertmanager reads when it sends), never
the secrets themselves; the target ``targets/alertmanager.py`` writes the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.diagnostics import Location
from compiler.durations import Duration

SEVERITIES = ("critical", "warning", "info")
DEFAULT_GROUP_BY = ("service", "alertname")
# Alertmanager's own defaults, written out so the generated file says what it does.
DEFAULT_GROUP_WAIT = Duration.parse("30s")
DEFAULT_GROUP_INTERVAL = Duration.parse("5m")
DEFAULT_REPEAT_INTERVAL = Duration.parse("4h")


@dataclass(frozen=True)
class PagerDuty:
    """PagerDuty Events API v2: the routing key is read from a file."""

    routing_key_file: str


@dataclass(frozen=True)
class Slack:
    """A Slack incoming webhook: the webhook URL is read from a file."""

    api_url_file: str
    channel: str | None = None


@dataclass(frozen=True)
class Webhook:
    """A generic webhook; an optional bearer token is read from a file."""

    url: str
    credentials_file: str | None = None


@dataclass(frozen=True)
class Receiver:
    """A named destination with one or more integrations."""

    name: str
    pagerduty: PagerDuty | None = None
    slack: Slack | None = None
    webhook: Webhook | None = None


@dataclass(frozen=True)
class SeverityRoute:
    """Where alerts of one severity go, and how often they are re-sent."""

    severity: str
    receiver: str
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None


@dataclass(frozen=True)
class TeamRoutes:
    """Where one owning team's alerts go, for the severities it names."""

    team: str  # a service's owner
    routes: tuple[SeverityRoute, ...]
    location: Location = field(default=Location(""), compare=False)


@dataclass(frozen=True)
class Routing:
    """The whole routing tree: one route per severity, receivers, and timing defaults."""

    receivers: tuple[Receiver, ...]
    routes: tuple[SeverityRoute, ...]  # one per severity, in SEVERITIES order
    default_receiver: str  # alerts whose severity no route knows (e.g. from other sources)
    teams: tuple[TeamRoutes, ...] = ()  # before the severity routes, for their services
    security: SeverityRoute | None = None  # also receives alerts labelled category=security
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY
    group_wait: Duration = DEFAULT_GROUP_WAIT
    group_interval: Duration = DEFAULT_GROUP_INTERVAL
    repeat_interval: Duration = DEFAULT_REPEAT_INTERVAL
    source: str = ""
    location: Location = field(default=Location(""), compare=False)

    def receiver_for(self, owner: str, severity: str) -> str | None:
        """Where an alert of a service owned by ``owner`` with ``severity`` goes (besides the
        security receiver): the team's route, else the severity's; None for neither."""
        for team in self.teams:
            if team.team == owner:
                for route in team.routes:
                    if route.severity == severity:
                        return route.receiver
        return next((r.receiver for r in self.routes if r.severity == severity), None)

"""Settings several parts of a collector config share: text the collector must not expand,
OTTL strings, component types per version, headers, and the persistent sending queue."""

from __future__ import annotations

import re
from typing import Any

from compiler.durations import Duration
from compiler.model import otel_versions
from compiler.model.environment import Auth, Environment
from compiler.targets.otel import delivery as otel_delivery

Config = dict[str, Any]

# The file_storage extension every persistent sending queue keeps its data in (each exporter
# gets its own file in the directory).
QUEUE_STORAGE = "file_storage/queue"


def spelled(kind: str, component_id: str, environment: Environment) -> str:
    """``component_id`` with its type spelled for the environment's collector version."""
    type_name, _, name = component_id.partition("/")
    type_spelled = otel_versions.component_type(kind, type_name, environment.version)
    return f"{type_spelled}/{name}" if name else type_spelled


def headers(auth: Auth | None, further: tuple[tuple[str, str], ...]) -> Config:
    """The headers an exporter sends: the auth header (a reference) and the others."""
    found = dict(further)
    if auth is not None:
        found[auth.header] = auth.value
    return {name: literal(value) for name, value in sorted(found.items())}


def persistent_queue(outage: Duration, queue_size: int) -> Config:
    """OTLP: every request retried for the whole outage, queued on disk meanwhile."""
    return {
        "timeout": otel_delivery.OTLP_TIMEOUT,
        "retry_on_failure": {
            "enabled": True,
            "initial_interval": otel_delivery.OTLP_INITIAL_INTERVAL,
            "max_interval": otel_delivery.OTLP_MAX_INTERVAL,
            "max_elapsed_time": str(outage),
        },
        "sending_queue": {
            "enabled": True,
            "storage": QUEUE_STORAGE,
            "sizer": "items",
            "queue_size": queue_size,
            "num_consumers": otel_delivery.OTLP_CONSUMERS,
            "block_on_overflow": True,
        },
    }


def ottl(text: str) -> str:
    """An OTTL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(text: str) -> str:
    """Text the collector must not expand: ``$`` doubled, ``${env:NAME}`` references kept."""
    return re.sub(r"\$(?!\{env:)", "$$", text) if "$" in text else text

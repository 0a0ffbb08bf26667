"""OpenTelemetry Collector releases: which component names and config forms each one takes.

Every version-dependent choice the collector config target makes is a row here, so that an
environment can name another collector version and get the spelling that version expects.
Where the first release of a change is uncertain, the row names the LATER candidate: the old
spelling keeps loading as a deprecated alias after each of these renames, so erring late only
costs a warning in the collector's log, while erring early would name a component that release
does not know. The evidence behind each row is in docs/otel.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


@total_ordering
@dataclass(frozen=True)
class Version:
    """A collector release such as 0.156.0 (core and contrib share the 0.x number)."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """``0.156.0`` or ``v0.156.0``; raise ValueError otherwise."""
        match = _VERSION.match(text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a collector version like 0.156.0")
        return cls(*(int(part) for part in match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor, self.patch) < (other.major, other.minor, other.patch)


# The release generated configs target unless an environment names another.
DEFAULT_VERSION = Version(0, 156, 0)
# Oldest release supported: the persistent sending queue counts data points (`sizer: items`)
# from v0.130.0 on, and the queue size in points is what the loss bounds are computed from.
MIN_VERSION = Version(0, 130, 0)
# Newest release the research behind this table looked at; later ones are assumed unchanged.
NEWEST_CHECKED = Version(0, 162, 0)


@dataclass(frozen=True)
class Rename:
    """A component type renamed in ``since``; the old name remains a deprecated alias."""

    kind: str  # receivers, processors, exporters, connectors, extensions
    old: str
    new: str
    since: Version
    confidence: str


RENAMES: tuple[Rename, ...] = (
    Rename("exporters", "otlp", "otlp_grpc", Version(0, 144, 0), "high"),
    Rename("exporters", "otlphttp", "otlp_http", Version(0, 144, 0), "high"),
    # PR merged 2026-04-28, between the v0.151.0 and v0.152.0 cuts: the later one is taken.
    Rename("connectors", "spanmetrics", "span_metrics", Version(0, 152, 0), "medium"),
    # PR merged 2026-05-28, after v0.153.0 was cut; first seen on a v0.154.0 image.
    Rename(
        "exporters",
        "prometheusremotewrite",
        "prometheus_remote_write",
        Version(0, 154, 0),
        "medium",
    ),
    # The snake_case renames reached the delta-to-cumulative processor by v0.159.0 (seen in a
    # built binary's component list); its first release is not established, so the later
    # candidate is taken: earlier releases that already know it still accept the old name.
    Rename("processors", "deltatocumulative", "delta_to_cumulative", Version(0, 159, 0), "low"),
)

# The filter processor's `metric_conditions` (inferred OTTL context) exist from v0.146.0; older
# releases take the OTTL list under `metrics.metric`, which later ones still accept.
FILTER_CONDITIONS_SINCE = Version(0, 146, 0)


def component_type(kind: str, name: str, version: Version) -> str:
    """The type name ``version`` knows for a component; ``name`` is its current name."""
    for rename in RENAMES:
        if rename.kind == kind and rename.new == name:
            return name if version >= rename.since else rename.old
    return name


def deprecated_alias(kind: str, type_name: str, version: Version) -> Rename | None:
    """The rename that makes ``type_name`` a deprecated alias at ``version``, if any."""
    for rename in RENAMES:
        if rename.kind == kind and rename.old == type_name and version >= rename.since:
            return rename
    return None


def unknown_name(kind: str, type_name: str, version: Version) -> Rename | None:
    """The rename whose new name ``version`` does not know yet, if ``type_name`` is one."""
    for rename in RENAMES:
        if rename.kind == kind and rename.new == type_name and version < rename.since:
            return rename
    return None

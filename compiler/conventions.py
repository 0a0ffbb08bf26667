"""Names shared by every output: recording rules, labels, rule groups, files.

Rules, tests, dashboards and the release gate all read the series named here, so each name
is defined once. Windows are a label (``window="1h"``), not part of a metric name, so a
dashboard or gate query never hard-codes a window.
"""

from __future__ import annotations

import re

from compiler.durations import Duration

# Labels every SLO series carries.
SERVICE_LABEL = "service"
SLO_LABEL = "slo"
WINDOW_LABEL = "window"
# The label multi-tenant series carry their tenant in: an alert on them should say which.
TENANT_LABEL = "tenant"
# An alert labelled category="security" goes to the routing's security receiver too.
CATEGORY_LABEL = "category"
SECURITY_CATEGORY = "security"

# Labels on alerts (and on the per-tier meta series).
SEVERITY_LABEL = "severity"
LONG_WINDOW_LABEL = "long_window"
SHORT_WINDOW_LABEL = "short_window"
ALERT_LABEL = "alert"
# Names the telemetry pipeline an alert's data arrives through (absent: scraped directly);
# Alertmanager inhibits such alerts while the pipeline is reported down.
TELEMETRY_LABEL = "telemetry"

# Labels a spec may not set itself because the compiler owns them.
RESERVED_LABELS = frozenset(
    {
        SERVICE_LABEL,
        SLO_LABEL,
        WINDOW_LABEL,
        SEVERITY_LABEL,
        LONG_WINDOW_LABEL,
        SHORT_WINDOW_LABEL,
        ALERT_LABEL,
        TELEMETRY_LABEL,
        "alertname",
        "le",
    }
)

# Scrape job of the OpenTelemetry Collector's own metrics (platform: up{job="otel-collector"}).
COLLECTOR_JOB = "otel-collector"

# Per SLO and window (label `window`), per label set of the SLO's group_by.
EVENTS_TOTAL = "slo:events_total:rate"  # events per second over the window
EVENTS_BAD = "slo:events_bad:rate"  # bad events per second over the window
ERROR_RATIO = "slo:sli_error:ratio"  # bad / total over the window (0 without traffic)
BURN_RATE = "slo:burn_rate:ratio"  # error ratio / error budget over the window

# Per SLO and group, over the period.
BUDGET_REMAINING = "slo:error_budget_remaining:ratio"  # 1 - period error ratio / budget
# Per SLO and group, over the period tile (window="1h"): share of the period's error budget
# the tile's bad events consume per second. Summed over time it draws budget consumed
# against the constant-burn line (dashboards).
BUDGET_CONSUMPTION = "slo:error_budget_consumption:rate"

# Per SLO (no group labels): constants that dashboards and the gate join against.
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
PERIOD = "slo:period:seconds"
INFO = "slo:info"  # value 1; labels describe the SLO (objective, period, owner, group_by)
WINDOW_SECONDS = "slo:window:seconds"  # per recorded window: its length, to turn rates into counts

# Per SLO and tier (labels alert, severity, long_window, short_window).
TIER_BURN_FACTOR = "slo:alert_burn_factor:ratio"  # the tier's burn-rate threshold
TIER_MIN_EVENTS = "slo:alert_min_events:count"  # the low-traffic guard (0 when off)

# Windows from which everything longer is derived, and the tile the period is summed in.
MAX_BASE_WINDOW = Duration.parse("5m")
PERIOD_TILE = Duration.parse("1h")


def rule_group_name(service: str, slo: str) -> str:
    """Rule group of one SLO."""
    return f"slo:{service}:{slo}"


RULES_DIR = "prometheus"
TESTS_DIR = "tests"


def rules_path(service: str) -> str:
    """Rule file of one service, relative to the output directory."""
    return f"{RULES_DIR}/{service}.rules.yml"


def otel_config_path(environment: str) -> str:
    """OpenTelemetry Collector config of one environment, relative to the output directory."""
    return f"otel/{environment}.yaml"


def tests_path(service: str, interval: Duration | None = None) -> str:
    """Rule tests of one service, relative to the output directory: those evaluated every
    minute, or every ``interval`` (``tests/<service>.every-5m.test.yml``)."""
    if interval is None or interval.seconds == 60:
        return f"{TESTS_DIR}/{service}.test.yml"
    return f"{TESTS_DIR}/{service}.every-{interval}.test.yml"


SHAPES_DIR = "shapes"  # under TESTS_DIR: the full scenario set of each rule shape


def shape_tests_path(shape: str, interval: Duration | None = None) -> str:
    """Rule tests of one rule shape, relative to the output directory
    (``tests/shapes/<shape>.test.yml``, or ``.every-5m.test.yml``)."""
    name = f"{TESTS_DIR}/{SHAPES_DIR}/{shape}"
    if interval is None or interval.seconds == 60:
        return f"{name}.test.yml"
    return f"{name}.every-{interval}.test.yml"


def prometheus_rule_path(service: str) -> str:
    """PrometheusRule object (prometheus-operator) of one service, relative to the output."""
    return f"prometheus-operator/{service}.prometheusrule.yml"


def prometheus_rule_name(service: str) -> str:
    """``metadata.name`` of a service's PrometheusRule object."""
    return f"slo-{service}"


def ruler_namespace_path(service: str) -> str:
    """Rule namespace file of one service for mimirtool/cortextool, relative to the output."""
    return f"mimir/{service}.rules.yml"


def converted_spec_path(service: str) -> str:
    """Native spec `slo convert` writes for one service, relative to its output directory."""
    return f"{service}.yaml"


# Grafana dashboards: uids are at most 40 characters of [a-zA-Z0-9_-]. A service's SLO
# dashboard is "slo-" and the service name (cut to 40, so the overview can build the link
# from the service label in PromQL); declared dashboards join service and name with "_",
# which names cannot contain, so no two kinds of uid can coincide.
GRAFANA_UID_MAX = 40
SLO_DASHBOARD_UID_PREFIX = "slo-"
OVERVIEW_DASHBOARD_UID = "slos-overview"
GRAFANA_PROVISIONING_PATH = "grafana/dashboards.yaml"
# Where the provisioning file expects dashboards/ inside the Grafana host or container.
GRAFANA_DASHBOARDS_MOUNT = "/var/lib/grafana/dashboards/slo-compiler"


def slo_dashboard_uid(service: str) -> str:
    """uid of a service's SLO dashboard."""
    return (SLO_DASHBOARD_UID_PREFIX + service)[:GRAFANA_UID_MAX]


def declared_dashboard_uid(service: str, name: str) -> str:
    """uid of a dashboard a service spec declares."""
    return f"{service}_{name}"[:GRAFANA_UID_MAX]


def dashboard_path(uid: str) -> str:
    """File of a dashboard, relative to the dashboards directory."""
    return f"{uid}.json"


def camel_case(name: str) -> str:
    """``enforcement-gate`` → ``EnforcementGate`` (for default alert names)."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^a-zA-Z0-9]+", name) if part)


def default_alert_name(service: str, slo: str) -> str:
    """Alert name of an SLO's default tiers."""
    return f"{camel_case(service)}{camel_case(slo)}ErrorBudgetBurn"


def slug(text: str) -> str:
    """A lower-case anchor for a runbook link (``HighErrorRate`` → ``higherrorrate``)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# Signals: the value of `telemetry:` that means "scraped by Prometheus itself, no pipeline".
DIRECT_TELEMETRY = "direct"


def signal_rule_group_name(service: str) -> str:
    """Rule group of one service's signals (in the service's rule file, after its SLOs)."""
    return f"signal:{service}"


# Alertmanager: the generated configuration, and the receiver that drops what it gets.
ALERTMANAGER_PATH = "alertmanager/alertmanager.yml"
DISCARD_RECEIVER = "blackhole"

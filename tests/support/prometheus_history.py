"""A session-wide real Prometheus with 8 hours of synthetic incident history.

``prometheus_history`` starts Debian's ``prometheus`` on 127.0.0.1 (a free port, a temp
data dir) over the checked-in rules of ``slos/`` (``generated/prometheus/``), backfills
the incident of :mod:`compiler.preview.incident` for every SLO and declared series (raw series,
recording rules level by level, and the ``ALERTS`` the alerting rules would have
written), and stops the server at the end of the session. Backfilling takes tens of
seconds, so every test shares the one server.

Services: the reference platform's (``slos/``) and ``ops-console`` (declared dashboards
only, ``tests/specs/dashboards.yaml``). In every SLO one group burns from
``timeline.burn_start`` to ``timeline.burn_end`` at 1.5x its fastest tier's threshold and
one stays healthy: ``compiler.preview.incident.groups(specs, slo)`` names them (the first SLO
split by tenant burns in ``tenant="tenant-a"``; ``tenant-b`` stays healthy).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from compiler import pipeline
from compiler.model.service import SpecSet
from compiler.preview.incident import INCIDENT, Timeline, incident_series
from compiler.synthetic.local_prometheus import LocalPrometheus, server_with_history
from compiler.targets.grafana.variables import TimeRange
from tests.support.paths import ROOT

# The reference platform, and the test spec of declared dashboards (it records nothing).
# The kitchen-sink spec is left out: its rules would triple the backfill; its SLIs'
# synthetic traffic is checked with promtool instead (tests/unit/test_incident.py).
SPECS = (ROOT / "slos", ROOT / "tests" / "specs" / "dashboards.yaml")
RULE_FILES = tuple(sorted((ROOT / "generated" / "prometheus").glob("*.rules.yml")))


@dataclass(frozen=True)
class History:
    """The running server and what its history holds."""

    server: LocalPrometheus
    specs: SpecSet
    timeline: Timeline
    time_range: TimeRange  # the whole history, a point a minute
    backfill_seconds: float  # how long building the history took

    def at_minute(self, minute: float) -> int:
        """Unix time of a minute of the timeline."""
        return self.time_range.start + int(minute * 60)


@pytest.fixture(scope="session")
def prometheus_history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The shared server; fails (never skips) when Prometheus is not installed."""
    assert shutil.which("prometheus") and shutil.which("promtool"), (
        "prometheus/promtool are not on PATH: run `make tools` (Debian's prometheus package)"
    )
    result = pipeline.compile_specs(list(SPECS))
    assert result.ok, "\n".join(map(str, result.diagnostics))
    end = int(time.time()) // 60 * 60
    started = time.monotonic()
    with server_with_history(
        tmp_path_factory.mktemp("prometheus"),
        RULE_FILES,
        incident_series(result.specs, INCIDENT),
        INCIDENT.minutes,
        end=end,
        alert_history=True,
    ) as server:
        took = time.monotonic() - started
        time_range = TimeRange(end - INCIDENT.minutes * 60, end, 60)
        yield History(server, result.specs, INCIDENT, time_range, took)

"""A Prometheus server whose history holds one release-gate scenario per SLO.

Every SLO reads its own series (``lab_requests_total{scenario="<slo>"}``), so one server
with one backfilled history covers every state the gate must judge. Times are minutes
relative to the end of the history ("now" when the server starts); the live exporter
continues each series after that, so the server's own rules keep evaluating.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from compiler import pipeline, writer
from compiler.synthetic.live_history import live_server_with_history
from compiler.synthetic.local_prometheus import LocalPrometheus
from compiler.synthetic.series import Point, SyntheticSeries, counter
from compiler.targets.prometheus import slo_rules

HISTORY = 330  # minutes: the 5h lookback of gate-lab plus half an hour for the windows
RATE = 100.0  # requests per second, every scenario
OWNER = "team-lab"
REQUESTS = "lab_requests_total"
FAILURES = "lab_failures_total"

FAST = {
    "alert": "LabBurnFast",
    "severity": "critical",
    "long_window": "1h",
    "short_window": "5m",
    "burn_factor": 14.4,
}
SLOW = {
    "alert": "LabBurnSlow",
    "severity": "warning",
    "long_window": "2h",
    "short_window": "10m",
    "burn_factor": 6,
}

SIX_HOURS = {**SLOW, "alert": "LabBurnSix", "long_window": "6h", "short_window": "30m"}
EVALUATION = 60  # seconds: the lab server's (and the backfill's) evaluation interval


@dataclass(frozen=True)
class Scenario:
    """One SLO and the history that puts it in the state its name says."""

    slo: str
    errors: tuple[Point, ...] = ()  # (minute relative to the end, error ratio)
    service: str = "gate-lab"
    silent: tuple[tuple[float, float], ...] = ()  # (from, to): no samples at all
    tiers: tuple[dict[str, object], ...] = (FAST,)
    tenants: tuple[str, ...] = ()  # group_by tenant; errors apply to the last tenant
    extra: dict[str, object] = field(default_factory=dict)  # more SLO fields
    live_rules: bool = True  # False: the server does not load the SLO's rules
    live_alerts: bool = True  # False: the server evaluates its records, not its alerts
    rewritten: bool = False  # True: the server runs rules of the right names that read nothing
    # (minute relative to the end, evaluations): the server was down from that minute for
    # that many rule evaluations (a restart): no records, no ALERTS; the raw series go on.
    restart: tuple[int, int] | None = None


SCENARIOS = (
    Scenario("quiet"),
    Scenario("firing", errors=((-120, 0.02),), tenants=("a", "b")),
    # Burning for 90 minutes: the 1h window holds no ramp-up any more (20x exactly).
    Scenario("pending", errors=((-90, 0.02),), tiers=({**FAST, "for": "2h"},)),
    Scenario("burning-no-alerts", errors=((-90, 0.02),), live_alerts=False),
    Scenario("recent-clear", errors=((-200, 0.02), (-90, 0))),
    Scenario("unsigned", errors=((-290, 0.02), (-220, 0))),
    Scenario("wrong-owner", errors=((-290, 0.02), (-220, 0))),
    Scenario("old-signoff", errors=((-290, 0.02), (-220, 0))),
    Scenario("signed", errors=((-290, 0.02), (-220, 0))),
    Scenario("ruler-gap", errors=((-290, 0.02), (-220, 0)), silent=((-200, -140),)),
    Scenario("not-loaded", live_rules=False),
    Scenario("rewritten", rewritten=True),
    Scenario("two-tiers", errors=((-180, 0.1), (-150, 0)), tiers=(FAST, SLOW)),
    Scenario(
        "spent", service="gate-lab-freeze", errors=((-HISTORY, 0.004),), extra={"period": "1d"}
    ),
    Scenario("healthy", service="gate-lab-freeze", extra={"period": "1d"}),
    Scenario("young", service="gate-lab-defaults"),
    Scenario("too-young", service="gate-lab-defaults", tiers=(SIX_HOURS,)),
    # The lab evaluates every minute and tolerates 3 intervals: a hole of 3 minutes between
    # two samples (2 evaluations missed) is no gap; 4 minutes (3 missed) is one.
    Scenario("restart-within", restart=(-120, 2)),
    Scenario("restart-beyond", restart=(-120, 3)),
)

GATE_POLICIES: dict[str, dict[str, object]] = {
    "gate-lab": {"lookback": "5h"},
    "gate-lab-freeze": {"lookback": "5h", "freeze_below": 50},
    "gate-lab-defaults": {},  # runbook 002's defaults: 7d lookback
}

# (file, SLO, signer, minute signed relative to the end)
SIGNOFFS = (
    ("recent-clear", "recent-clear", OWNER, -100),
    ("wrong-owner", "wrong-owner", "someone-else", -200),
    ("old-signoff", "old-signoff", OWNER, -300),
    ("signed", "signed", OWNER, -200),
    ("ruler-gap", "ruler-gap", OWNER, -210),
    ("two-tiers", "two-tiers", OWNER, -140),
)


def spec_documents() -> dict[str, str]:
    """Spec file name → YAML text, one file per service."""
    files = {}
    for service, policy in GATE_POLICIES.items():
        slos = []
        for scenario in SCENARIOS:
            if scenario.service != service:
                continue
            selector = f'{{scenario="{scenario.slo}"}}'
            slo: dict[str, object] = {
                "name": scenario.slo,
                "objective": 99.9,
                "sli": {"ratio": {"bad": FAILURES + selector, "total": REQUESTS + selector}},
                "alerting": {"tiers": [dict(t) for t in scenario.tiers]},
                **scenario.extra,
            }
            if scenario.tenants:
                slo["group_by"] = ["tenant"]
            slos.append(slo)
        document: dict[str, object] = {
            "apiVersion": "slo-compiler/v1",
            "kind": "Service",
            "service": {"name": service, "owner": OWNER},
        }
        if policy:
            document["gate"] = policy
        document["slos"] = slos
        files[f"{service}.yaml"] = yaml.safe_dump(document, sort_keys=False)
    return files


def series(scenario: Scenario) -> list[SyntheticSeries]:
    """Requests and failures of one scenario, minutes counted from the history's start."""
    result = []
    for tenant in scenario.tenants or ("",):
        labels = {"scenario": scenario.slo, **({"tenant": tenant} if tenant else {})}
        burning = not scenario.tenants or tenant == scenario.tenants[-1]
        requests: list[Point] = [(0, RATE)]
        failures: list[Point] = [(0, 0.0)]
        if burning:
            failures += [(HISTORY + t, RATE * ratio) for t, ratio in scenario.errors]
        for start, stop in scenario.silent:
            requests += [(HISTORY + start, None), (HISTORY + stop, RATE)]
            last = failures[-1][1]
            failures += [(HISTORY + start, None), (HISTORY + stop, last)]
        result.append(counter(REQUESTS, labels, sorted(requests, key=lambda p: p[0])))
        result.append(counter(FAILURES, labels, sorted(failures, key=lambda p: p[0])))
    return result


def unrecorded(end: int) -> Callable[[str], bool]:
    """Which lines of the recorded history the restart scenarios' server never wrote."""
    holes = {
        scenario.slo: (end + minute * 60, end + minute * 60 + missed * EVALUATION)
        for scenario in SCENARIOS
        if scenario.restart is not None
        for minute, missed in [scenario.restart]
    }

    def missing(line: str) -> bool:
        for slo, (start, stop) in holes.items():
            if f'slo="{slo}"' in line and start <= float(line.rsplit(" ", 1)[-1]) < stop:
                return True
        return False

    return missing


def signoff_documents(end: int) -> dict[str, str]:
    """Sign-off file name → YAML text, dated relative to ``end`` (Unix seconds)."""
    files = {}
    for index, (name, slo, owner, minute) in enumerate(SIGNOFFS):
        files[f"{name}.yaml"] = (
            f"incident: INC-{2040 + index}\nservice: gate-lab\nslo: {slo}\nowner: {owner}\n"
            f"signed_at: {_rfc3339(end + minute * 60)}\n"
            "mitigation: rolled back; failures back to baseline\n"
        )
    # A typo makes a sign-off invalid: it is reported and ignored, never counted.
    files["unsigned-typo.yaml"] = (
        f"incident: INC-2050\nservice: gate-lab\nslo: unsigned\nowner: {OWNER}\n"
        f"sigend_at: {_rfc3339(end - 200 * 60)}\nmitigation: restarted the pods\n"
    )
    return files


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Lab:
    """The running server and the files the gate reads."""

    server: LocalPrometheus
    specs: Path
    signoffs: Path
    end: int  # Unix seconds: where the backfilled history ends


@contextlib.contextmanager
def gate_lab(work_dir: Path) -> Iterator[Lab]:
    """Build the history, start the server with the live rules, stop it on exit."""
    specs_dir = work_dir / "slos"
    specs_dir.mkdir(parents=True)
    for name, text in spec_documents().items():
        (specs_dir / name).write_text(text)
    compiled = pipeline.compile_specs([specs_dir])
    assert compiled.ok, "\n".join(map(str, compiled.diagnostics))
    full_rules, live_rules = work_dir / "all.rules.yml", work_dir / "live.rules.yml"
    groups, live_groups = [], []
    for spec in compiled.specs.services:
        for slo in spec.slos:
            scenario = next(s for s in SCENARIOS if s.slo == slo.name)
            group = slo_rules.slo_rule_group(spec.service, slo)
            groups.append(group)
            if scenario.live_rules:
                rules = [r for r in group["rules"] if scenario.live_alerts or "alert" not in r]
                if scenario.rewritten:  # every record 0, no alert ever: looks healthy
                    rules = [
                        {**r, "expr": "vector(0)" + (" > 1" if "alert" in r else "")} for r in rules
                    ]
                live_groups.append({**group, "rules": rules})
    full_rules.write_text(writer.to_yaml({"groups": groups}))
    live_rules.write_text(writer.to_yaml({"groups": live_groups}))

    all_series = [s for scenario in SCENARIOS for s in series(scenario)]
    end = int(time.time())  # not rounded: the live evaluation takes over right after
    with live_server_with_history(
        work_dir,
        [full_rules],
        all_series,
        HISTORY,
        live_rule_files=[live_rules],
        end=end,
        unrecorded=unrecorded(end),
    ) as server:
        signoffs = work_dir / "signoffs"
        signoffs.mkdir()
        for name, text in signoff_documents(end).items():
            (signoffs / name).write_text(text)
        yield Lab(server, specs_dir, signoffs, end)

"""What Prometheus pays every evaluation cycle: our rules against Sloth's own generated rules.

Sloth's `getting-started` example (its spec and the rules Sloth v0.16 generated from it, in
the team's shared peers data: shared/peers/sloth/examples/) and our rules compiled from that
same spec are loaded into one Prometheus on 127.0.0.1, over the same raw series:
``http_request_duration_seconds_count{job="myservice"}`` split over pods and codes, 0.1%
of requests failing. The raw history (and both rule sets' recorded history, as a server
that had been running would have it) is backfilled up to now, never past it: samples in
the future would put the head block ahead of the clock, and Prometheus would then refuse
every rule result as out of bounds. A live exporter continues the series, scraped every
15 s, and the rules are evaluated every 15 s.

Per rule set it reports the summed ``prometheus_rule_group_last_duration_seconds`` of its
groups (median over the cycles) and the cycles its groups missed. With ``--outage``, the
exporter's series then turn to 20% failing, and the minute each rule set's page and ticket
alerts first fire is reported.

    .venv/bin/python bench/eval_bench.py --series 200 2000 --hours 2 --outage
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from compiler import pipeline, writer
from compiler.synthetic.exporter import SyntheticExporter
from compiler.synthetic.local_prometheus import LocalPrometheus, backfill_rules, backfill_series
from compiler.synthetic.series import SyntheticSeries, counter
from compiler.targets.prometheus import rule_files

PEERS_ENV = "SLO_PEERS_DATA"
ROOT = Path(__file__).resolve().parents[1]
METRIC = "http_request_duration_seconds_count"
ERROR_SHARE = 0.001  # healthy: 0.1% of requests fail, the whole budget of a 99.9% SLO
OUTAGE_SHARE = 0.2
REQUESTS_PER_SECOND = 20.0  # per pod
INTERVAL = 15  # seconds: scrape and rule evaluation


def sloth_example() -> tuple[Path, Path]:
    """Sloth's getting-started spec and the rules Sloth generated from it."""
    candidates = [Path(os.environ[PEERS_ENV])] if os.environ.get(PEERS_ENV) else []
    candidates += [parent / "shared" / "peers" for parent in ROOT.parents]
    for peers in candidates:
        examples = peers / "sloth" / "examples"
        if (examples / "_gen" / "getting-started.yml").is_file():
            return examples / "getting-started.yml", examples / "_gen" / "getting-started.yml"
    raise SystemExit(f"Sloth's examples not found (shared/peers/sloth; or set ${PEERS_ENV})")


def raw_series(count: int, outage_minute: float | None) -> list[SyntheticSeries]:
    """``count`` raw counters: pods x {200, 500}; with ``outage_minute``, 20% fail from then."""
    series = []
    for pod in range(max(1, count // 2)):
        good: list[tuple[float, float | None]] = [(0, REQUESTS_PER_SECOND * (1 - ERROR_SHARE))]
        bad: list[tuple[float, float | None]] = [(0, REQUESTS_PER_SECOND * ERROR_SHARE)]
        if outage_minute is not None:
            good.append((outage_minute, REQUESTS_PER_SECOND * (1 - OUTAGE_SHARE)))
            bad.append((outage_minute, REQUESTS_PER_SECOND * OUTAGE_SHARE))
        labels = {"job": "myservice", "pod": f"pod-{pod}"}
        series.append(counter(METRIC, {**labels, "code": "200"}, good))
        series.append(counter(METRIC, {**labels, "code": "500"}, bad))
    return series


def our_rules(spec: Path, work: Path) -> Path:
    """Our rule file for Sloth's spec (read by our Sloth format reader)."""
    compiled = pipeline.compile_specs([spec], root=spec.parent)
    if not compiled.ok:
        raise SystemExit("\n".join(map(str, compiled.diagnostics)))
    (service,) = compiled.specs.services
    path = work / "ours.rules.yml"
    path.write_text(writer.to_yaml(rule_files.service_rules(service)))
    return path


@dataclass
class Cost:
    """One rule set's evaluation cost per cycle."""

    seconds: float  # median over the cycles of the summed group durations
    groups: int
    missed: float  # iterations missed over the whole run


_SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+)$")


def _metrics(server: LocalPrometheus) -> list[tuple[str, str, float]]:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=30) as response:
        text = response.read().decode()
    found = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            found.append((match[1], match[2], float(match[3])))
    return found


def costs(server: LocalPrometheus, files: dict[str, Path], cycles: int) -> dict[str, Cost]:
    """Each rule file's summed evaluation time per cycle, median over ``cycles``."""
    totals: dict[str, list[float]] = {name: [] for name in files}
    groups: dict[str, int] = {}
    missed: dict[str, float] = {}
    for _ in range(cycles):
        time.sleep(INTERVAL)
        samples = _metrics(server)
        for name, path in files.items():
            mine = f'rule_group="{path};'
            durations = [
                value
                for metric, labels, value in samples
                if metric == "prometheus_rule_group_last_duration_seconds" and mine in labels
            ]
            totals[name].append(sum(durations))
            groups[name] = len(durations)
            missed[name] = sum(
                value
                for metric, labels, value in samples
                if metric == "prometheus_rule_group_iterations_missed_total" and mine in labels
            )
    return {
        name: Cost(statistics.median(totals[name]), groups[name], missed[name]) for name in files
    }


def alert_timing(server: LocalPrometheus, outage_at: float, limit: float) -> dict[str, float]:
    """Minutes after the outage's start at which each rule set's alerts first fire, by
    ``<rule set> <severity>``."""
    first: dict[str, float] = {}
    while time.time() < outage_at + limit * 60:
        time.sleep(INTERVAL)
        for alert in server.query('ALERTS{alertstate="firing"}'):
            labels = alert["metric"]
            # Sloth's own rules carry sloth_id; ours (converted from the same spec) keep
            # sloth_severity but not sloth_id, and name their windows.
            if "sloth_id" in labels:
                name = f"Sloth {labels.get('sloth_severity', '?')}"
            else:
                name = f"ours {labels.get('severity', '?')} {labels.get('long_window', '')}"
            first.setdefault(name.strip(), (time.time() - outage_at) / 60)
        # Done once both have paged (Sloth's page, our critical tiers), and 3 minutes more.
        sloth = [v for k, v in first.items() if k == "Sloth page"]
        ours = [v for k, v in first.items() if k.startswith("ours critical")]
        if sloth and ours and (time.time() - outage_at) / 60 > max(min(sloth), min(ours)) + 3:
            break
    return first


@dataclass
class EvalFigures:
    """One run: both rule sets over ``series`` raw series."""

    series: int
    hours: float
    costs: dict[str, Cost]
    alerts: dict[str, float]


def run(count: int, hours: float, cycles: int, outage: bool, work: Path) -> EvalFigures:
    """Backfill, start one server with both rule sets, measure (and play the outage)."""
    spec, sloth = sloth_example()
    files = {"ours": our_rules(spec, work), "Sloth": sloth.resolve()}
    end = int(time.time()) // 60 * 60  # now, never past it
    start = end - int(hours * 3600)
    series = raw_series(count, None)
    data = work / f"data-{count}"
    backfill_series(series, start, hours * 60, data)
    exporter = SyntheticExporter(series, start)
    exporter.start()
    server = LocalPrometheus(
        data,
        list(files.values()),
        evaluation_interval=f"{INTERVAL}s",
        scrape_targets=[exporter.target],
        series_keep_job=True,  # both rule sets select job="myservice"
    )
    server.start()
    try:
        # Both rule sets' records as a server running all along would hold them.
        backfill_rules(server, list(files.values()), start, end)
        time.sleep(2 * INTERVAL)  # every group evaluates after the last restart
        measured = costs(server, files, cycles)
        alerts: dict[str, float] = {}
        if outage:
            # The same counters from now on failing 20%: totals continue, no reset.
            outage_minute = (time.time() - start) / 60 + 0.25
            exporter.series = tuple(raw_series(count, outage_minute))
            outage_at = start + outage_minute * 60
            time.sleep(max(0.0, outage_at - time.time()))
            alerts = alert_timing(server, outage_at, limit=30)
        return EvalFigures(count, hours, measured, alerts)
    finally:
        server.stop()
        exporter.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, nargs="+", default=[200, 2000, 20000])
    parser.add_argument("--hours", type=float, default=2.0, help="raw history backfilled")
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--outage", action="store_true", help="alert timing (first size)")
    args = parser.parse_args()
    for index, count in enumerate(args.series):
        with tempfile.TemporaryDirectory() as scratch:
            figures = run(count, args.hours, args.cycles, args.outage and index == 0, Path(scratch))
        ours, sloth = figures.costs["ours"], figures.costs["Sloth"]
        print(
            f"{count:>6} raw series, {args.hours:g}h history: ours {ours.seconds * 1000:.1f} ms "
            f"({ours.groups} groups, {ours.missed:.0f} missed), Sloth {sloth.seconds * 1000:.1f} "
            f"ms ({sloth.groups} groups, {sloth.missed:.0f} missed), ours/Sloth "
            f"{ours.seconds / sloth.seconds:.2f}"
        )
        for name, minutes in sorted(figures.alerts.items(), key=lambda item: item[1]):
            print(f"        outage to first {name}: {minutes:.1f} min")


if __name__ == "__main__":
    main()

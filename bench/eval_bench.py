"""What Prometheus pays every evaluation cycle: our rules against Sloth-shaped rules.

Both rule sets cover the same SLOs (per-tenant error ratios with the four default tiers)
over the same three days of raw history, each in its own real Prometheus on 127.0.0.1.
Sloth computes every window straight from raw series (`rate(x[3d])` reads three days of
every raw series at every evaluation); ours reads raw series over 5m only and derives the
rest from recorded rates. Our recording rules get their own history backfilled first, as a
server that had been running for three days would have it.

    .venv/bin/python bench/eval_bench.py [--slos 20] [--tenants 5] [--days 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from compiler import pipeline, writer
from compiler.synthetic.local_prometheus import LocalPrometheus, backfill_rules, backfill_series
from compiler.synthetic.series import counter
from compiler.targets.prometheus import rule_files

WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
SCRAPE_SECONDS = 30


def spec(slos: int) -> dict[str, Any]:
    """One service with ``slos`` per-tenant availability SLOs on separate metrics."""
    return {
        "apiVersion": "slo-compiler/v1",
        "kind": "Service",
        "service": {"name": "bench", "owner": "team-bench"},
        "metrics": {
            f"app{i}_requests_total": {"type": "counter", "labels": ["tenant", "code"]}
            for i in range(slos)
        },
        "slos": [
            {
                "name": f"app{i}",
                "objective": 99.9,
                "group_by": ["tenant"],
                "sli": {
                    "ratio": {
                        "bad": f'app{i}_requests_total{{code=~"5.."}}',
                        "total": f"app{i}_requests_total",
                    }
                },
            }
            for i in range(slos)
        ],
    }


def sloth_shaped_rules(slos: int) -> dict[str, Any]:
    """Rules in the shape Sloth v0.16 generates (../shared/peers/sloth/.../out-base.yaml.tpl):
    one raw-series ratio per window, the period from the 5m ratio, two multi-window alerts."""
    groups = []
    for i in range(slos):
        labels = {"sloth_service": "bench", "sloth_slo": f"app{i}"}
        selector = 'sloth_service="bench", sloth_slo="app' + str(i) + '"'
        bad = f'app{i}_requests_total{{code=~"5.."}}'
        rules: list[dict[str, Any]] = []
        for window in WINDOWS:
            rules.append(
                {
                    "record": f"slo:sli_error:ratio_rate{window}",
                    "expr": f"(sum by (tenant) (rate({bad}[{window}])))\n/\n"
                    f"(sum by (tenant) (rate(app{i}_requests_total[{window}])))",
                    "labels": {**labels, "sloth_window": window},
                }
            )
        rules.append(
            {
                "record": "slo:sli_error:ratio_rate30d",
                "expr": f"sum_over_time(slo:sli_error:ratio_rate5m{{{selector}}}[30d])\n"
                f"/ ignoring (sloth_window)\n"
                f"count_over_time(slo:sli_error:ratio_rate5m{{{selector}}}[30d])",
                "labels": {**labels, "sloth_window": "30d"},
            }
        )

        page = f"{_pair(selector, '5m', '1h', 14.4)}\nor\n{_pair(selector, '30m', '6h', 6)}"
        ticket = f"{_pair(selector, '2h', '1d', 3)}\nor\n{_pair(selector, '6h', '3d', 1)}"
        rules.append({"alert": "Page", "expr": page})
        rules.append({"alert": "Ticket", "expr": ticket})
        groups.append({"name": f"sloth-app{i}", "rules": rules})
    return {"groups": groups}


def _pair(selector: str, short: str, long: str, factor: float) -> str:
    def above(window: str) -> str:
        return (
            f"max(slo:sli_error:ratio_rate{window}{{{selector}}} > ({factor} * 0.001)) "
            "without (sloth_window)"
        )

    return f"({above(short)}\nand\n{above(long)})"


def cycle_cost(server: LocalPrometheus, cycles: int, interval: float) -> tuple[float, int]:
    """Median over ``cycles`` of the summed last evaluation time of all rule groups, and the
    number of groups."""
    totals = []
    groups = 0
    for _ in range(cycles):
        time.sleep(interval)
        with urllib.request.urlopen(f"{server.url}/metrics", timeout=30) as response:
            text = response.read().decode()
        durations = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("prometheus_rule_group_last_duration_seconds{")
        ]
        groups = len(durations)
        totals.append(sum(durations))
    return statistics.median(totals), groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=20)
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--cycles", type=int, default=10)
    args = parser.parse_args()
    minutes = args.days * 24 * 60
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        spec_file = work / "bench.yaml"
        spec_file.write_text(yaml.safe_dump(spec(args.slos), sort_keys=False))
        compiled = pipeline.compile_specs([spec_file])
        ours = work / "ours.rules.yml"
        ours.write_text(writer.to_yaml(rule_files.service_rules(compiled.specs.services[0])))
        sloth = work / "sloth.rules.yml"
        sloth.write_text(writer.to_yaml(sloth_shaped_rules(args.slos)))
        series = [
            counter(f"app{i}_requests_total", {"tenant": f"t{t}", "code": code}, [(0, rate)])
            for i in range(args.slos)
            for t in range(args.tenants)
            for code, rate in (("200", 20.0), ("500", 0.01))
        ]
        # Raw history runs 15 minutes past now, so rate() over 5m finds samples while we measure.
        end = int(time.time()) // 60 * 60 + 15 * 60
        start = end - int(minutes * 60)
        raw = work / "raw"
        began = time.perf_counter()
        backfill_series(series, start, minutes, raw, step=SCRAPE_SECONDS)
        print(
            f"raw history: {len(series)} series x {args.days:g} days at {SCRAPE_SECONDS}s "
            f"({time.perf_counter() - began:.0f} s to backfill)"
        )
        results = {}
        for name, rules in (("slo-compiler", ours), ("sloth-shaped", sloth)):
            data = work / name / "data"
            shutil.copytree(raw, data)
            server = LocalPrometheus(data, [rules], evaluation_interval="15s")
            server.start()
            try:
                if name == "slo-compiler":
                    began = time.perf_counter()
                    levels = backfill_rules(server, [rules], start, end - 15 * 60)
                    print(
                        f"our recorded history: {levels} levels backfilled in "
                        f"{time.perf_counter() - began:.0f} s"
                    )
                time.sleep(20)  # let every group evaluate at least once after (re)start
                results[name] = cycle_cost(server, args.cycles, 15)
            finally:
                server.stop()
        rule_counts = {
            name: sum(len(g["rules"]) for g in yaml.safe_load(path.read_text())["groups"])
            for name, path in (("slo-compiler", ours), ("sloth-shaped", sloth))
        }
        print(f"{args.slos} SLOs x {args.tenants} tenants, four burn-rate tiers each")
        for name, (seconds, groups) in results.items():
            print(
                f"{name:>13}: {seconds * 1000:8.1f} ms per evaluation cycle "
                f"({rule_counts[name]} rules in {groups} groups)"
            )
        ratio = results["sloth-shaped"][0] / results["slo-compiler"][0]
        print(f"sloth-shaped rules cost {ratio:.1f}x ours per cycle")


if __name__ == "__main__":
    main()

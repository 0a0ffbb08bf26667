"""Compile time and peak memory for a large spec set (default: 1,000 SLOs).

Writes 100 service specs of 10 SLOs each (every SLI form, per-tenant grouping, default and
explicit tiers) to a temporary directory, then runs `slo validate` and `slo compile` on them
in fresh processes, several times, and prints wall time and peak resident memory.

    make bench                      # or: .venv/bin/python bench/compile_bench.py --slos 5000
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

SLOS_PER_SERVICE = 10


def service_spec(index: int, slos: int) -> dict[str, Any]:
    """One service with ``slos`` SLOs cycling through the SLI forms the compiler supports."""
    forms: list[dict[str, Any]] = [
        {"ratio": {"bad": 'http_requests_total{code=~"5.."}', "total": "http_requests_total"}},
        {"ratio": {"good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"}},
        {
            "ratio": {
                "bad": 'sum by (tenant) (rate(http_requests_total{code=~"5.."}[$window]))',
                "total": "sum by (tenant) (rate(http_requests_total[$window]))",
            }
        },
        {"latency": {"histogram": "http_request_duration_seconds", "threshold": 0.5}},
    ]
    result = []
    for number in range(slos):
        slo: dict[str, Any] = {
            "name": f"objective-{number}",
            "objective": 99.9 if number % 2 else 99.5,
            "group_by": ["tenant"] if number % 3 else [],
            "sli": forms[number % len(forms)],
        }
        if number % 5 == 0:
            slo["alerting"] = {
                "tiers": [
                    {
                        "alert": f"Burn{number}Fast",
                        "severity": "critical",
                        "long_window": "1h",
                        "short_window": "5m",
                        "burn_factor": 14.4,
                    },
                    {
                        "alert": f"Burn{number}Slow",
                        "severity": "warning",
                        "long_window": "6h",
                        "short_window": "30m",
                        "burn_factor": 6,
                    },
                ],
                "low_traffic": {"min_events": 1000},
            }
        result.append(slo)
    return {
        "apiVersion": "slo-compiler/v1",
        "kind": "Service",
        "service": {
            "name": f"service-{index}",
            "owner": "team-bench",
            "runbook_base_url": "https://runbooks.example/",
        },
        "metrics": {
            "http_requests_total": {"type": "counter", "labels": ["code", "tenant"]},
            "http_request_duration_seconds": {
                "type": "histogram",
                "labels": ["tenant"],
                "buckets": [0.1, 0.5, 1],
            },
        },
        "slos": result,
    }


def measure(command: list[str]) -> tuple[float, float]:
    """Run ``command`` through a wrapper so its own peak RSS is reported, not the largest."""
    wrapper = (
        "import resource,subprocess,sys,time;"
        "s=time.perf_counter();r=subprocess.run(sys.argv[1:]);e=time.perf_counter()-s;"
        "m=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss;"
        "print(e,m/1024);sys.exit(r.returncode)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    seconds, mib = completed.stdout.split()[-2:]
    return float(seconds), float(mib)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=1000, help="number of SLOs (default 1000)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions (default 3)")
    args = parser.parse_args()
    services = max(1, args.slos // SLOS_PER_SERVICE)
    with tempfile.TemporaryDirectory() as scratch:
        specs = Path(scratch) / "slos"
        specs.mkdir()
        for index in range(services):
            text = yaml.safe_dump(service_spec(index, SLOS_PER_SERVICE), sort_keys=False)
            (specs / f"service-{index}.yaml").write_text(text)
        out, dashboards = Path(scratch) / "generated", Path(scratch) / "dashboards"
        slo = [sys.executable, "-m", "compiler"]
        commands = {
            "validate": [*slo, "validate", str(specs)],
            "compile": [
                *slo,
                "compile",
                str(specs),
                "--out",
                str(out),
                "--dashboards",
                str(dashboards),
            ],
        }
        print(
            f"spec set: {services} services x {SLOS_PER_SERVICE} SLOs = "
            f"{services * SLOS_PER_SERVICE} SLOs, {args.runs} runs each"
        )
        for name, command in commands.items():
            results = [measure(command) for _ in range(args.runs)]
            seconds = [r[0] for r in results]
            print(
                f"{name:>9}: median {statistics.median(seconds):.2f} s "
                f"(min {min(seconds):.2f}, max {max(seconds):.2f}), "
                f"peak RSS {max(r[1] for r in results):.0f} MiB"
            )
        rule_files = sorted((out / "prometheus").glob("*.yml"))
        rules = sum(
            len(group["rules"])
            for path in rule_files
            for group in yaml.safe_load(path.read_text())["groups"]
        )
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"   output: {len(rule_files)} rule files, {rules} rules, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()

"""Compile time, CPU and peak memory for large spec sets (default: 1,000 SLOs).

Writes services of 10 SLOs each (every SLI form, per-tenant grouping on two thirds, default
and explicit tiers) to a temporary directory, then runs, in fresh processes: `slo validate`;
`slo compile --no-cache` with nothing on disk (cold); `slo compile` again with nothing
changed (warm, from the cache); and `slo compile` after editing one spec.

    .venv/bin/python bench/compile_bench.py --slos 100 1000 10000
    make bench                      # this and bench/eval_bench.py as one table (bench/table.py)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compiler.workers import idle_cores

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


@dataclass(frozen=True)
class Run:
    """One command's wall time, CPU time (user + system) and peak resident memory, and
    the cores other processes left idle when it started (what `--jobs auto` takes)."""

    seconds: float
    cpu: float
    mib: float
    idle: int = 0


def measure(command: list[str]) -> Run:
    """Run ``command`` through a wrapper so its own CPU and peak RSS are reported."""
    wrapper = (
        "import resource,subprocess,sys,time;"
        "s=time.perf_counter();r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL);"
        "e=time.perf_counter()-s;u=resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(e,u.ru_utime+u.ru_stime,u.ru_maxrss/1024);sys.exit(r.returncode)"
    )
    idle = idle_cores()
    completed = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    seconds, cpu, mib = completed.stdout.split()[-3:]
    return Run(float(seconds), float(cpu), float(mib), idle)


@dataclass
class Figures:
    """What one spec set of ``slos`` SLOs costs to validate and compile, and produces."""

    slos: int
    validate: Run
    cold: Run  # --no-cache, nothing on disk
    warm: Run  # nothing changed since the last compile
    one_edit: Run  # one spec edited since the last compile
    sizes: dict[str, int]  # bytes of rules, tests, dashboards


def write_specs(directory: Path, slos: int) -> list[Path]:
    """``slos`` SLOs as services of SLOS_PER_SERVICE under ``directory``."""
    directory.mkdir(parents=True)
    paths = []
    for index in range(max(1, slos // SLOS_PER_SERVICE)):
        path = directory / f"service-{index}.yaml"
        path.write_text(yaml.safe_dump(service_spec(index, SLOS_PER_SERVICE), sort_keys=False))
        paths.append(path)
    return paths


def compile_figures(slos: int, runs: int = 1, jobs: str = "auto") -> Figures:
    """Validate, compile cold, compile again unchanged, and after one edit (fresh processes;
    the median of ``runs`` for the first two)."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        paths = write_specs(work / "slos", slos)
        out, dashboards, cache = work / "generated", work / "dashboards", work / "cache"
        slo = [sys.executable, "-m", "compiler"]
        compile_ = [*slo, "compile", str(work / "slos"), "--out", str(out)]
        compile_ += ["--dashboards", str(dashboards), "--cache-dir", str(cache)]
        compile_ += ["--jobs", str(jobs)]
        validate = _median([measure([*slo, "validate", str(work / "slos")]) for _ in range(runs)])
        colds = []
        for _ in range(runs):
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(dashboards, ignore_errors=True)
            colds.append(measure([*compile_, "--no-cache"]))
        measure(compile_)  # fills the cache
        warm = measure(compile_)
        edited = paths[len(paths) // 2]
        edited.write_text(edited.read_text().replace("objective: 99.5", "objective: 99.4", 1))
        one_edit = measure(compile_)
        sizes = {
            "rules": _size(out / "prometheus"),
            "tests": _size(out / "tests"),
            "dashboards": _size(dashboards),
        }
        return Figures(slos, validate, _median(colds), warm, one_edit, sizes)


def _median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


def _size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, nargs="+", default=[1000], help="SLOs per set")
    parser.add_argument("--runs", type=int, default=1, help="repetitions (median)")
    parser.add_argument("--jobs", default="auto", help="slo compile --jobs (N or auto)")
    args = parser.parse_args()
    for slos in args.slos:
        figures = compile_figures(slos, args.runs, args.jobs)
        for name in ("validate", "cold", "warm", "one_edit"):
            run: Run = getattr(figures, name)
            print(
                f"{slos:>6} SLOs {name:>9}: {run.seconds:6.2f} s wall, {run.cpu:6.2f} s CPU, "
                f"peak RSS {run.mib:.0f} MiB ({run.idle} idle cores)"
            )
        shown = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in figures.sizes.items())
        print(f"{slos:>6} SLOs    output: {shown}")


if __name__ == "__main__":
    main()

"""`make bench`: the compiler's and the rules' costs as one table (docs/performance.md).

Columns are three sizes: spec sets of 100, 1,000 and 10,000 SLOs (bench/compile_bench.py)
and, for the rules' evaluation cost, 200, 2,000 and 20,000 raw series (bench/eval_bench.py,
our rules and Sloth's in one Prometheus per size); the last column is the target.

    .venv/bin/python bench/table.py [--slos 100 1000 10000] [--series 200 2000 20000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compile_bench import Figures, Run, compile_figures
from eval_bench import EvalFigures
from eval_bench import run as eval_run


def _run(run: Run) -> str:
    return f"{run.seconds:.2f} s ({run.cpu:.2f} s CPU)"


def rows(compiled: list[Figures], evaluated: list[EvalFigures]) -> list[list[str]]:
    """The table's rows: measure, one cell per size, target."""
    table: list[list[str]] = []

    def row(name: str, cells: list[str], target: str) -> None:
        table.append([name, *cells, target])

    row("`slo validate`, wall (CPU)", [_run(f.validate) for f in compiled], "< 5 s at 10,000")
    row(
        "`slo compile --no-cache`, cold",
        [_run(f.cold) for f in compiled],
        "< 10 s at 10,000",
    )
    row(
        "peak RSS, validate / compile",
        [f"{f.validate.mib:.0f} / {max(f.cold.mib, f.warm.mib):.0f} MiB" for f in compiled],
        "< 1 GB, flat",
    )
    row(
        "idle cores before cold / one edit (`--jobs auto` takes them)",
        [f"{f.cold.idle} / {f.one_edit.idle}" for f in compiled],
        f"{os.cpu_count()} cores",
    )
    row("`slo compile`, nothing changed", [_run(f.warm) for f in compiled], "")
    row("`slo compile` after one edit", [_run(f.one_edit) for f in compiled], "< 3 s at 10,000")
    row(
        "output: rules / tests / dashboards",
        [
            " / ".join(f"{f.sizes[k] / 1e6:.1f}" for k in ("rules", "tests", "dashboards")) + " MB"
            for f in compiled
        ],
        "",
    )
    row(
        "output, total",
        [f"{sum(f.sizes.values()) / 1e6:.1f} MB" for f in compiled],
        "< 200 MB at 10,000",
    )
    if evaluated:
        row(
            "raw series (eval rows)",
            [f"{e.series:,} ({e.hours:g}h history)" for e in evaluated],
            "",
        )
        row(
            "rule evaluation per cycle, ours / Sloth",
            [
                f"{e.costs['ours'].seconds * 1000:.1f} / {e.costs['Sloth'].seconds * 1000:.1f} ms"
                for e in evaluated
            ],
            "",
        )
        row(
            "ratio ours/Sloth (missed cycles ours / Sloth)",
            [
                f"{e.costs['ours'].seconds / e.costs['Sloth'].seconds:.2f} "
                f"({e.costs['ours'].missed:.0f} / {e.costs['Sloth'].missed:.0f})"
                for e in evaluated
            ],
            "",
        )
        timed = [e for e in evaluated if e.alerts]
        for figures in timed:
            shown = ", ".join(
                f"{name} {minutes:.1f} min"
                for name, minutes in sorted(figures.alerts.items(), key=lambda item: item[1])
            )
            row(f"20% outage at {figures.series:,} series: first firing", [shown, "", ""], "")
    return table


def markdown(compiled: list[Figures], evaluated: list[EvalFigures]) -> str:
    """The table in Markdown."""
    sizes = [f"{f.slos:,} SLOs" for f in compiled]
    header = ["", *sizes, "target"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows(compiled, evaluated)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--series", type=int, nargs="*", default=[200, 2000, 20000])
    parser.add_argument("--hours", type=float, default=2.0, help="eval: raw history")
    parser.add_argument("--cycles", type=int, default=8, help="eval: cycles measured")
    parser.add_argument("--jobs", default="auto", help="slo compile --jobs (N or auto)")
    args = parser.parse_args()
    compiled = []
    for slos in args.slos:
        compiled.append(compile_figures(slos, jobs=args.jobs))
        print(f"measured {slos} SLOs", file=sys.stderr)
    evaluated = []
    for index, count in enumerate(args.series):
        with tempfile.TemporaryDirectory() as scratch:
            evaluated.append(eval_run(count, args.hours, args.cycles, index == 0, Path(scratch)))
        print(f"measured {count} raw series", file=sys.stderr)
    print(markdown(compiled, evaluated))


if __name__ == "__main__":
    main()

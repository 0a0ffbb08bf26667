"""`slo test`: promtool over the generated rule tests, one run per SLO (or drill), in parallel.

Generated test groups are named ``<subject>: <what they show>`` (``slo gate-latency: ...``).
Each test file is split by subject into a temporary file that points at the same rule
files, so promtool's verdict and its own diff are reported per SLO, and the runs spread
over the machine's cores (promtool itself evaluates one group after another).
"""

from __future__ import annotations

import os
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from compiler import conventions, pipeline, writer
from compiler.durations import Duration
from compiler.model.service import SpecSet
from compiler.outputs import Root
from compiler.synthetic import promtool
from compiler.targets.rule_tests.promtool_files import SUBJECT_SEPARATOR

TEST_SUFFIX = ".test.yml"
_TIMEOUT = 3600  # seconds for one subject's run; the largest generated one needs about 1


@dataclass(frozen=True)
class Job:
    """The test groups of one subject in one test file."""

    file: Path
    subject: str
    document: dict[str, Any]

    @property
    def groups(self) -> int:
        """How many test groups (scenarios) the job runs."""
        return len(self.document["tests"])

    @property
    def cost(self) -> float:
        """Rule evaluations promtool will do, up to a constant: evaluations per group."""
        interval = _minutes(self.document.get("evaluation_interval", "1m"))
        return sum(_last_check(group) / interval for group in self.document["tests"])


@dataclass(frozen=True)
class Outcome:
    """How one job went."""

    job: Job
    ok: bool
    output: str
    seconds: float


def subject_of(group_name: str) -> str:
    """``slo gate-latency: total outage ...`` → ``slo gate-latency``."""
    head, separator, _ = group_name.partition(SUBJECT_SEPARATOR)
    return head if separator else group_name


def test_files(directory: Path, services: Collection[str] = ()) -> list[Path]:
    """The generated test files in ``directory`` (those of ``services`` only, if given)."""
    return [
        file
        for file in sorted(directory.glob(f"*{TEST_SUFFIX}"))
        if not services or file.name.split(".", 1)[0] in services
    ]


def collect(directory: Path, match: str | None = None, services: Collection[str] = ()) -> list[Job]:
    """Jobs for every test file in ``directory`` (of ``services`` only, if given): one per
    subject, groups whose name contains ``match`` only (all when None), rule files made
    absolute."""
    jobs = []
    for file in test_files(directory, services):
        document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        rule_files = [
            str((file.parent / path).resolve()) for path in document.get("rule_files", [])
        ]
        by_subject: dict[str, list[dict[str, Any]]] = {}
        for group in document.get("tests", []):
            name = str(group.get("name", ""))
            if match is None or match in name:
                by_subject.setdefault(subject_of(name), []).append(group)
        for subject, groups in by_subject.items():
            jobs.append(Job(file, subject, {**document, "rule_files": rule_files, "tests": groups}))
    return jobs


def stale_files(
    specs: SpecSet, generated: Path, services: Collection[str] | None = None
) -> list[Path]:
    """Rule and test files under ``generated`` that are not what ``specs`` compile to: they
    differ, are missing, or are tests the specs no longer produce. Those of ``services`` only,
    if given."""
    chosen = tuple(s for s in specs.services if services is None or s.service.name in services)
    wanted = {
        generated / output.path: writer.serialize(output)
        for output in pipeline.outputs(replace(specs, services=chosen))
        if output.root is Root.GENERATED
        and output.path.startswith((f"{conventions.RULES_DIR}/", f"{conventions.TESTS_DIR}/"))
    }
    differing = [path for path, data in wanted.items() if writer.read(path) != data]
    present = test_files(generated / conventions.TESTS_DIR)
    if services is not None:
        present = [path for path in present if path.name.split(".", 1)[0] in services]
    extra = [path for path in present if path not in wanted]
    return sorted([*differing, *extra])


def junit(outcomes: Sequence[Outcome], seconds: float) -> str:
    """A JUnit XML report: one test case per subject (SLO, signal, drill), grouped by file;
    a failure carries promtool's own output."""
    suites = ET.Element("testsuites", name="slo test", time=f"{seconds:.1f}")
    by_file: dict[Path, list[Outcome]] = {}
    for outcome in outcomes:
        by_file.setdefault(outcome.job.file, []).append(outcome)
    for file in sorted(by_file):
        cases = sorted(by_file[file], key=lambda o: o.job.subject)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=file.name,
            tests=str(len(cases)),
            failures=str(sum(not o.ok for o in cases)),
            time=f"{sum(o.seconds for o in cases):.1f}",
        )
        for outcome in cases:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=file.name.removesuffix(TEST_SUFFIX),
                name=outcome.job.subject,
                time=f"{outcome.seconds:.1f}",
            )
            if not outcome.ok:
                failure = ET.SubElement(case, "failure", message="promtool test rules failed")
                failure.text = outcome.output
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def run(jobs: Sequence[Job], workers: int | None = None) -> Iterator[Outcome]:
    """Run every job with promtool, the costliest first; yield outcomes as they finish."""
    workers = workers or os.cpu_count() or 1
    with (
        tempfile.TemporaryDirectory(prefix="slo-test-") as scratch,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        ordered = sorted(enumerate(jobs), key=lambda item: -item[1].cost)
        futures = [
            pool.submit(_run_one, job, Path(scratch) / f"{index}{TEST_SUFFIX}")
            for index, job in ordered
        ]
        for future in as_completed(futures):
            yield future.result()


def _run_one(job: Job, path: Path) -> Outcome:
    path.write_text(writer.to_yaml(job.document), encoding="utf-8")
    started = time.monotonic()
    result = promtool.test_rules([path], cwd=path.parent, timeout=_TIMEOUT)
    return Outcome(job, result.ok, result.output, time.monotonic() - started)


def report(
    outcomes: Iterator[Outcome], echo: Callable[[str], None], root: Path | None = None
) -> Iterator[Outcome]:
    """Print each outcome as it comes (promtool's own output when it failed), passing it on."""
    for outcome in outcomes:
        job = outcome.job
        shown = job.file.relative_to(root) if root and job.file.is_relative_to(root) else job.file
        verdict = "PASS" if outcome.ok else "FAIL"
        echo(
            f"{verdict} {job.subject} ({shown}: {job.groups} scenario"
            f"{'s' if job.groups != 1 else ''}, {outcome.seconds:.1f}s)"
        )
        if not outcome.ok:
            echo(outcome.output.rstrip())
        yield outcome


def _last_check(group: dict[str, Any]) -> float:
    times = [
        _minutes(str(check.get("eval_time", "0s")))
        for key in ("alert_rule_test", "promql_expr_test")
        for check in group.get(key, [])
    ]
    return max(times, default=0.0)


def _minutes(text: str) -> float:
    return Duration.parse(text).minutes if text not in ("0", "0s") else 0.0

"""`slo test`: promtool over the generated rule tests, one run per SLO (or drill, or rule
shape), in parallel.

Generated test groups are named ``<subject>: <what they show>`` (``slo gate-latency: ...``,
``shape 3f2a9c1d0e4b: ...``). Each test file is split by subject into a temporary file that
points at the same rule files, so promtool's verdict and its own diff are reported per
subject, and the runs spread over the machine's cores (promtool itself evaluates one group
after another). An SLO's own groups name the shape whose full scenario set covers it
(``slo x: instance of shape K: ...``): the shape's tests run whenever the SLO's do, and the
coverage report says, per SLO, which shape covers it and how both runs went.
"""

from __future__ import annotations

import os
import re
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
from compiler.model.service import ServiceSpec, SpecSet
from compiler.model.slo import SLO
from compiler.outputs import Root
from compiler.synthetic import promtool
from compiler.targets.rule_tests import promtool_files, shapes
from compiler.targets.rule_tests.promtool_files import INSTANCE_OF, SUBJECT_SEPARATOR

TEST_SUFFIX = ".test.yml"
_INSTANCE = re.compile(
    re.escape(SUBJECT_SEPARATOR + INSTANCE_OF) + r"([0-9a-f]+)" + re.escape(SUBJECT_SEPARATOR)
)
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


def shape_files(directory: Path, keys: Collection[str] | None = None) -> list[Path]:
    """The rule shapes' test files under ``directory`` (those of ``keys`` only, if given)."""
    return [
        file
        for file in sorted((directory / conventions.SHAPES_DIR).glob(f"*{TEST_SUFFIX}"))
        if keys is None or file.name.split(".", 1)[0] in keys
    ]


def shape_of(group_name: str) -> str | None:
    """The shape an SLO's own test group names (``slo x: instance of shape K: ...`` → K)."""
    found = _INSTANCE.search(group_name)
    return found.group(1) if found else None


@dataclass(frozen=True)
class Coverage:
    """Which shape's full scenario set covers one SLO (``slo x``), from its test file."""

    file: Path
    subject: str
    shape: str


def coverage(directory: Path, services: Collection[str] = ()) -> list[Coverage]:
    """Per SLO of the test files in ``directory`` (of ``services`` only), its shape."""
    found = []
    for file in test_files(directory, services):
        seen: dict[str, str] = {}
        for group in _load(file).get("tests", []):
            name = str(group.get("name", ""))
            key = shape_of(name)
            if key is not None:
                seen.setdefault(subject_of(name), key)
        found += [Coverage(file, name, key) for name, key in seen.items()]
    return found


def coverage_report(
    covered: Sequence[Coverage], outcomes: Sequence[Outcome], directory: Path
) -> tuple[list[str], int]:
    """A line per SLO: its own instance test's verdict and that of the shape covering it,
    and how many SLOs are not proven by both (a shape that failed, did not run, or whose
    file is missing)."""
    verdicts: dict[tuple[str, str], list[bool]] = {}
    for outcome in outcomes:
        owner = _service_of(outcome.job.file) if outcome.job.subject.startswith("slo ") else ""
        verdicts.setdefault((owner, outcome.job.subject), []).append(outcome.ok)
    present = {file.name.split(".", 1)[0] for file in shape_files(directory)}
    lines, unproven = [], 0
    for one in sorted(covered, key=lambda c: (_service_of(c.file), c.subject)):
        own = _verdict(verdicts.get((_service_of(one.file), one.subject)))
        shape = _verdict(verdicts.get(("", shapes.subject(one.shape))))
        if one.shape not in present:
            shape = "MISSING"
        unproven += (own, shape) != ("PASS", "PASS")
        lines.append(
            f"{one.subject} ({_service_of(one.file)}): own instance test {own}; "
            f"{shapes.subject(one.shape)} (full scenarios) {shape}"
        )
    return lines, unproven


def _verdict(found: list[bool] | None) -> str:
    if not found:
        return "not run"
    return "PASS" if all(found) else "FAIL"


def _service_of(file: Path) -> str:
    return file.name.split(".", 1)[0]


def collect(directory: Path, match: str | None = None, services: Collection[str] = ()) -> list[Job]:
    """Jobs for every test file in ``directory`` (of ``services`` only, if given, and the
    shapes that cover their SLOs): one per subject, groups whose name contains ``match``
    only (all when None), rule files made absolute."""
    jobs = []
    keys = {c.shape for c in coverage(directory, services)} if services else None
    for file in [*test_files(directory, services), *shape_files(directory, keys)]:
        document = _load(file)
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
    if given, with the shape files that cover their SLOs and the rules those run on."""
    chosen = tuple(s for s in specs.services if services is None or s.service.name in services)
    # A shape's file is built from the whole set (which SLO stands for it depends on every
    # spec), so it is held against the whole set's, even when some services are checked.
    keys = {shapes.shape_key(slo) for slo in _testable(chosen)}
    shaped = [
        output
        for output in promtool_files.shape_files(specs)
        if output.path.rsplit("/", 1)[-1].split(".", 1)[0] in keys
    ]
    ruled = {conventions.rules_path(spec.service.name) for spec in chosen}
    ruled |= {rules.removeprefix("../../") for out in shaped for rules in out.data["rule_files"]}
    shape_dir = f"{conventions.TESTS_DIR}/{conventions.SHAPES_DIR}/"
    needed = tuple(
        s for s in specs.services if s in chosen or conventions.rules_path(s.service.name) in ruled
    )
    whole = {id(output) for output in shaped}
    wanted = {
        generated / output.path: writer.serialize(output)
        for output in [*pipeline.outputs(replace(specs, services=needed)), *shaped]
        if output.root is Root.GENERATED
        and (
            output.path in ruled
            or id(output) in whole
            or (
                output.path.startswith(f"{conventions.TESTS_DIR}/")
                and not output.path.startswith(shape_dir)
                and output.source in {spec.source for spec in chosen}
            )
        )
    }
    differing = [path for path, data in wanted.items() if writer.read(path) != data]
    tests = generated / conventions.TESTS_DIR
    present = [*test_files(tests, services or ()), *shape_files(tests, keys if services else None)]
    extra = [path for path in present if path not in wanted]
    return sorted([*differing, *extra])


def _testable(services: Sequence[ServiceSpec]) -> list[SLO]:
    found = []
    for spec in services:
        skipped = {name for name, _ in promtool_files.untestable(spec)}
        found += [slo for slo in spec.slos if promtool_files.subject(slo) not in skipped]
    return found


def _load(file: Path) -> dict[str, Any]:
    return yaml.safe_load(file.read_text(encoding="utf-8")) or {}


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

"""The generated Alertmanager configuration under amtool and a real Alertmanager on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from compiler import conventions, pipeline
from compiler.model.routing import SEVERITIES
from tests.support.alertmanager import CONFIG, GOLDEN_CONFIG
from tests.support.paths import SLOS


@pytest.fixture(scope="module")
def amtool() -> str:
    """amtool must be installed (`make tools`); its absence fails the suite."""
    path = shutil.which("amtool")
    assert path, "amtool is not on PATH: run `make tools` (Debian's prometheus-alertmanager)"
    return path


def _amtool(amtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([amtool, *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("config", [CONFIG, GOLDEN_CONFIG], ids=["reference", "fixture"])
def test_amtool_accepts_the_configuration(amtool: str, config: Path) -> None:
    result = _amtool(amtool, "check-config", str(config))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        ({"severity": "critical", "service": "control-plane"}, "oncall-pager"),
        ({"severity": "warning", "service": "agent-api"}, "sre-tickets"),
        ({"severity": "info", "service": "agent-api"}, conventions.DISCARD_RECEIVER),
        ({"service": "some-exporter"}, "sre-tickets"),  # no known severity: the default
    ],
)
def test_each_severity_routes_to_its_receiver(
    amtool: str, labels: dict[str, str], receiver: str
) -> None:
    args = [f"{name}={value}" for name, value in labels.items()]
    result = _amtool(amtool, "config", "routes", "test", f"--config.file={CONFIG}", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [receiver]


def test_routing_in_the_fixture_follows_its_spec(amtool: str) -> None:
    for severity, receiver in (
        ("critical", "pager"),
        ("warning", "tickets"),
        ("info", "dashboards"),
    ):
        result = _amtool(
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={GOLDEN_CONFIG}",
            f"severity={severity}",
        )
        assert result.stdout.split() == [receiver], result.stdout + result.stderr


def _team_cases() -> list[tuple[dict[str, str], list[str]]]:
    """Every service of the reference set at every severity, with the receivers its owner's
    routes (or else the severity's) name, as the model says: amtool must agree."""
    compiled = pipeline.compile_specs([SLOS])
    routing = compiled.specs.routing
    assert routing is not None
    by_severity = {route.severity: route.receiver for route in routing.routes}
    cases = []
    for spec in compiled.specs.services:
        team = next((t for t in routing.teams if t.team == spec.service.owner), None)
        own = {route.severity: route.receiver for route in (team.routes if team else ())}
        for severity in SEVERITIES:
            labels = {"service": spec.service.name, "severity": severity}
            cases.append((labels, [own.get(severity, by_severity[severity])]))
    assert routing.security is not None
    for labels, receivers in list(cases):
        cases.append(({**labels, "category": "security"}, [routing.security.receiver, *receivers]))
    return cases


def test_each_team_and_severity_routes_to_its_receivers(amtool: str) -> None:
    cases = _team_cases()
    receivers = {r for _, expected in cases for r in expected}
    assert {
        "enforcement-pager",
        "enforcement-tickets",
        "oncall-pager",
        "security-oncall",
    } <= receivers
    for labels, expected in cases:
        args = [f"{name}={value}" for name, value in labels.items()]
        result = _amtool(amtool, "config", "routes", "test", f"--config.file={CONFIG}", *args)
        assert result.stdout.strip().split(",") == expected, (labels, result.stdout, result.stderr)

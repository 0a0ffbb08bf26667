"""The generated Alertmanager configuration, checked by Alertmanager's own tools.

`amtool check-config` validates it, `amtool config routes test` routes one alert of each
severity, and a real Alertmanager (127.0.0.1, a free port, a temporary data directory)
shows the inhibition at work: while TelemetryIngestDown fires, alerts fed through the
collector are held back and the directly scraped health check is not; a critical burn-rate
page holds back its SLO's warning for the same tenant only."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from compiler import pipeline, writer
from compiler.model.service import SpecSet
from compiler.synthetic.local_prometheus import free_port
from compiler.targets import alertmanager as alertmanager_target
from compiler.targets.prometheus import signal_rules, slo_rules
from tests.support.alertmanager import CONFIG, GOLDEN_CONFIG
from tests.support.paths import ROOT

# Every receiver type and option, with the alerts of the signals fixture.
FIXTURE = [
    ROOT / "tests" / "specs" / "signals.yaml",
    ROOT / "tests" / "alertmanager" / "routing.yaml",
]


def test_fixture_configuration_matches_golden_file(update_golden: bool) -> None:
    """`pytest tests/unit/test_alertmanager.py --update-golden` rewrites it after a change."""
    result = pipeline.compile_specs(FIXTURE)
    assert result.ok, result.diagnostics
    (output,) = alertmanager_target.config_files(result.specs)
    actual = writer.serialize(output).decode()
    if update_golden:
        GOLDEN_CONFIG.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN_CONFIG.write_text(actual)
    assert actual == GOLDEN_CONFIG.read_text(), "review the diff, then --update-golden"


class _Alertmanager:
    """Alertmanager on 127.0.0.1 with the generated configuration; stopped on exit."""

    def __init__(self, config: Path, data: Path) -> None:
        binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
        assert binary, "Alertmanager is not installed: run `make tools`"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = (data / "alertmanager.log").open("wb")
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={data}",
                f"--web.listen-address={self.url.removeprefix('http://')}",
                "--cluster.listen-address=",  # no peers, no gossip port
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "Alertmanager exited; see its log"
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("Alertmanager did not become ready")

    def post(self, alerts: list[dict[str, str]]) -> None:
        now = datetime.now(UTC)
        body = [
            {
                "labels": labels,
                "startsAt": now.isoformat(),
                "endsAt": (now + timedelta(hours=1)).isoformat(),
            }
            for labels in alerts
        ]
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def alerts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=5) as response:
            result: list[dict[str, Any]] = json.load(response)
            return result

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture()
def alertmanager(tmp_path: Path) -> Iterator[_Alertmanager]:
    server = _Alertmanager(CONFIG, tmp_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _labels(specs: SpecSet, alert: str, **group: str) -> dict[str, str]:
    """The labels Prometheus would send for one of the generated alerts."""
    for spec in specs.services:
        for signal in spec.signals:
            if signal.name == alert:
                return {"alertname": alert, **group, **signal_rules.alert_labels(signal)}
        for slo in spec.slos:
            for tier in slo.tiers:
                if tier.alert == alert:
                    rule = slo_rules.alert_rule(spec.service, slo, tier, slo_rules.SloSeries(slo))
                    labels = {k: v for k, v in rule["labels"].items() if v}
                    return {
                        "alertname": alert,
                        "service": slo.service,
                        "slo": slo.name,
                        **group,
                        **labels,
                    }
    raise AssertionError(f"no alert {alert}")


def _held_back(server: _Alertmanager, expected: dict[str, bool]) -> dict[str, bool]:
    """Wait until Alertmanager reports every alert, then say which are inhibited."""
    deadline = time.monotonic() + 20
    state: dict[str, bool] = {}
    while time.monotonic() < deadline:
        state = {
            f"{a['labels']['alertname']}/{a['labels'].get('tenant', '')}": bool(
                a["status"]["inhibitedBy"]
            )
            for a in server.alerts()
        }
        if state == expected:
            break
        time.sleep(0.3)
    return state


def test_telemetry_down_holds_back_what_arrives_through_the_collector(
    alertmanager: _Alertmanager, reference_specs: SpecSet
) -> None:
    alertmanager.post(
        [
            _labels(reference_specs, "TelemetryIngestDown"),
            _labels(reference_specs, "ValdricsEnforcementErrorBudgetBurnFast", tenant="t1"),
            _labels(reference_specs, "QueueBacklogHigh", queue="jobs"),
            _labels(reference_specs, "ControlPlaneHealthCheckFailing", target="opa"),
        ]
    )
    expected = {
        "TelemetryIngestDown/": False,
        "ValdricsEnforcementErrorBudgetBurnFast/t1": True,
        "QueueBacklogHigh/": True,
        "ControlPlaneHealthCheckFailing/": False,  # scraped directly: still trusted
    }
    assert _held_back(alertmanager, expected) == expected


def test_a_page_holds_back_the_ticket_of_the_same_tenant(
    alertmanager: _Alertmanager, reference_specs: SpecSet
) -> None:
    alertmanager.post(
        [
            _labels(reference_specs, "ValdricsEnforcementErrorBudgetBurnFast", tenant="t1"),
            _labels(reference_specs, "ValdricsEnforcementErrorBudgetBurnSlow", tenant="t1"),
            _labels(reference_specs, "ValdricsEnforcementErrorBudgetBurnSlow", tenant="t2"),
        ]
    )
    expected = {
        "ValdricsEnforcementErrorBudgetBurnFast/t1": False,
        "ValdricsEnforcementErrorBudgetBurnSlow/t1": True,
        "ValdricsEnforcementErrorBudgetBurnSlow/t2": False,
    }
    assert _held_back(alertmanager, expected) == expected

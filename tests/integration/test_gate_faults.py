"""The gate's standing fault harness: one stand-in Prometheus, healthy but for one fault.

Every fault runs in all four report formats, with a bearer token the server may echo back:
the gate must exit UNKNOWN (3) on the reasons the fault calls for, and no format may carry
the token, whatever the server put in its answers. The healthy server itself must PASS,
so a fault is the only thing that can make the difference.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from compiler.cli import main
from tests.support.fake_servers import HttpServer
from tests.support.faulty_prometheus import Fault, HealthyPrometheus, faults, serve
from tests.support.paths import SLOS

SPEC = SLOS / "enforcement-gate.yaml"
SECRET = "tok-7f3a9c-SECRET"
HEALTHY = HealthyPrometheus(SPEC)
FAULTS = {fault.name: fault for fault in faults(HEALTHY, SECRET)}
FORMATS = ("text", "json", "junit", "github")


def run_gate(url: str, tmp_path: Path, output_format: str) -> tuple[Result, str]:
    """``slo gate`` with the secret as bearer token; its output and the job summary."""
    summary = tmp_path / "summary.md"
    env = {"PROM_TOKEN": SECRET, "GITHUB_STEP_SUMMARY": str(summary)}
    args = ["gate", "--prometheus", url, "--specs", str(SPEC), "--signoffs", str(tmp_path)]
    args += ["--format", output_format, "--bearer-token-env", "PROM_TOKEN", "--timeout", "1"]
    result = CliRunner().invoke(main, args, env=env)
    written = summary.read_text() if summary.exists() else ""
    return result, result.output + written


def test_the_healthy_server_passes(tmp_path: Path) -> None:
    with HttpServer(serve(HEALTHY, None)) as server:
        result, _ = run_gate(server.url, tmp_path, "json")
    assert result.exit_code == 0, result.output
    assert {e["decision"] for e in json.loads(result.output)["slos"]} == {"PASS"}
    assert all(r.headers["authorization"] == f"Bearer {SECRET}" for r in server.received)


@pytest.mark.parametrize("output_format", FORMATS)
@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault(tmp_path: Path, name: str, output_format: str) -> None:
    fault = FAULTS[name]
    with _server(fault) as (url, elsewhere):
        result, everything = run_gate(url, tmp_path, output_format)
        if output_format == "json":
            data = json.loads(result.output)
            for entry in data["slos"]:
                codes = {r["code"] for r in entry["reasons"] if r["decision"] == "UNKNOWN"}
                assert entry["decision"] == "UNKNOWN" and fault.codes <= codes, entry
    assert result.exit_code == 3, everything
    assert SECRET not in everything
    if elsewhere is not None:
        assert elsewhere.received == []  # the redirect was not followed


class _server:
    """The faulty server (and, for redirects, the server it points to)."""

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.elsewhere: HttpServer | None = None
        self.server: HttpServer | None = None

    def __enter__(self) -> tuple[str, HttpServer | None]:
        if self.fault.redirect:
            self.elsewhere = HttpServer(serve(HEALTHY, None)).__enter__()
            target = self.elsewhere.url

            def moved(path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
                return 302, b"", {"Location": f"{target}{path}"}

            self.server = HttpServer(moved).__enter__()
        else:
            self.server = HttpServer(serve(HEALTHY, self.fault), drip=self.fault.drip)
            self.server.__enter__()
        self.started = time.monotonic()
        return self.server.url, self.elsewhere

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.__exit__(*exc)
        if self.elsewhere is not None:
            self.elsewhere.__exit__(*exc)

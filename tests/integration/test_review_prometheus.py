"""`slo explain --prometheus` and `slo lint --prometheus` against a stand-in Prometheus API
that reports chosen traffic per tenant (the queries are the recorded series' names, so the
stand-in answers by what each query asks for)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from compiler.cli import main
from tests.support.fake_servers import HttpServer
from tests.support.paths import ROOT, SLOS

NOW = 1_700_000_000.0
# Events per second per tenant: now over 1h, busiest 1h and 6h windows, and over 30 days.
CURRENT = {"quiet": 0.1, "busy": 40.0}
BUSIEST = {"1h": {"quiet": 0.2, "busy": 60.0}, "6h": {"quiet": 0.2, "busy": 55.0}}
PERIOD = {"quiet": 0.0002, "busy": 35.0}


def _answer(path: str, params: dict[str, str]) -> tuple[int, bytes]:
    query = params.get("query", "")
    if query == "time()":
        data = {"resultType": "scalar", "result": [NOW, str(NOW)]}
        return 200, json.dumps({"status": "success", "data": data}).encode()
    window = re.search(r'window="([^"]+)"', query)
    assert window and 'service="enforcement-gate"' in query, query
    if query.startswith("max_over_time("):
        rates = PERIOD if window.group(1) == "30d" else BUSIEST.get(window.group(1), CURRENT)
    else:
        rates = CURRENT
    result = [
        {"metric": {"tenant": tenant}, "value": [NOW, str(rate)]} for tenant, rate in rates.items()
    ]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}}
    return 200, json.dumps(body).encode()


def test_explain_shows_the_guard_at_current_traffic() -> None:
    with HttpServer(_answer) as server:
        result = CliRunner().invoke(
            main, ["explain", "enforcement-gate/gate-reliability", "--prometheus", server.url]
        )
    assert result.exit_code == 0, result.output
    assert (
        'tenant="busy": 40 events/s now, 103,680 bad events per 30d at that rate' in result.output
    )
    assert 'tenant="quiet" (0.1/s): NOT met: a full outage would not page' in result.output
    assert 'tenant="busy" (40/s): met; a full outage pages after 3m' in result.output


def test_lint_finds_the_guard_a_tenant_never_reaches(in_tmp_cwd: Path) -> None:
    with HttpServer(_answer) as server:
        result = CliRunner().invoke(
            main,
            [
                "--config",
                str(ROOT / "slo.yaml"),
                "lint",
                str(ROOT / "slos" / "enforcement-gate.yaml"),
                "--prometheus",
                server.url,
            ],
        )
        queries = {r.params.get("query") for r in server.received}
    assert result.exit_code == 1, result.output
    assert "[guard-unreachable]" in result.output
    assert (
        "ValdricsEnforcementErrorBudgetBurnFast (1h/5m) needs 1000 events in 1h (0.278/s); for "
        'tenant="quiet" (at most 0.2 events/s in any 1h of the period) at that traffic only an '
        "outage of 100 failed events in 1h pages it, never a partial degradation"
    ) in result.output
    assert (
        'the 30d budget of gate-reliability is less than one bad event for tenant="quiet"'
        in result.output
    )
    assert any(q and q.startswith("max_over_time(slo:events_total:rate{") for q in queries)


def test_a_server_that_cannot_answer_exits_1() -> None:
    def broken(path: str, params: dict[str, str]) -> tuple[int, bytes]:
        return 503, b"down"

    with HttpServer(broken) as server:
        result = CliRunner().invoke(
            main, ["explain", "enforcement-gate/gate-reliability", "--prometheus", server.url]
        )
    assert result.exit_code == 1
    assert server.url in result.output


def test_the_project_gate_settings_are_sent(in_tmp_cwd: Path, monkeypatch: Any) -> None:
    (in_tmp_cwd / "slo.yaml").write_text(
        "apiVersion: slo-compiler/v1\nkind: Project\n"
        f"specs: [{SLOS}]\n"
        "gate:\n  bearer_token_env: REVIEW_TOKEN\n  headers: ['X-Scope-OrgID: platform']\n"
    )
    monkeypatch.setenv("REVIEW_TOKEN", "s3cret")
    with HttpServer(_answer) as server:
        result = CliRunner().invoke(
            main, ["explain", "enforcement-gate/gate-reliability", "--prometheus", server.url]
        )
        received = server.received
    assert result.exit_code == 0, result.output
    assert all(r.headers.get("authorization") == "Bearer s3cret" for r in received)
    assert all(r.headers.get("x-scope-orgid") == "platform" for r in received)
    monkeypatch.delenv("REVIEW_TOKEN")
    result = CliRunner().invoke(
        main, ["explain", "enforcement-gate/gate-reliability", "--prometheus", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 1
    assert "gate.bearer_token_env names $REVIEW_TOKEN, which is not set" in result.output

"""``slo gate`` when the server or the input cannot be trusted: never PASS, always a reason.

The servers here are tiny local stand-ins (tests/support/fake_servers.py) for failures a real
Prometheus cannot be made to show on demand; everything a real server can show is tested
against one in test_gate_lab.py.
"""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from compiler.cli import main
from compiler.synthetic.local_prometheus import free_port
from tests.support.fake_servers import HttpServer, SocketServer, api, vector
from tests.support.paths import SLOS

SPEC = SLOS / "enforcement-gate.yaml"
REFERENCE_SLOS = 2  # enforcement-gate: gate-reliability, gate-latency


def gate(url: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """``slo gate`` over the reference specs, without sign-offs, as JSON."""
    command = ["gate", "--prometheus", url, "--specs", str(SPEC), "--signoffs", str(tmp_path)]
    return CliRunner().invoke(main, [*command, "--format", "json", *args], env=env)


def unknown_reasons(result: Result) -> list[dict[str, Any]]:
    """Every SLO's reasons, after checking the run was UNKNOWN (exit 3) for each."""
    assert result.exit_code == 3, result.output
    data = json.loads(result.output)
    assert data["decision"] == "UNKNOWN"
    assert [e["decision"] for e in data["slos"]] == ["UNKNOWN"] * len(data["slos"])
    return [reason for entry in data["slos"] for reason in entry["reasons"]]


def test_unreachable(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    reasons = unknown_reasons(gate(url, tmp_path))
    assert len(reasons) == REFERENCE_SLOS
    for reason in reasons:
        assert reason["code"] == "unreachable"
        assert "Connection refused" in reason["message"]
        assert reason["message"].endswith("(after 3 attempts)")


def test_hanging_server_costs_a_few_timeouts(tmp_path: Path) -> None:
    with SocketServer() as server:
        reasons = unknown_reasons(gate(server.url, tmp_path, "--timeout", "0.3"))
    assert {r["code"] for r in reasons} == {"timeout"}
    assert "no answer within 0.3s (after 3 attempts)" in reasons[0]["message"]
    assert server.accepted == 3  # one request, retried twice; then no more for any SLO


def test_error_status(tmp_path: Path) -> None:
    with HttpServer(lambda path, params: (500, b"internal error")) as server:
        reasons = unknown_reasons(gate(server.url, tmp_path))
    assert {r["code"] for r in reasons} == {"http-error"}
    assert "/api/v1/query: HTTP 500: internal error (after 3 attempts)" in reasons[0]["message"]
    assert len(server.received) == 3


def test_garbage_instead_of_json(tmp_path: Path) -> None:
    page = b"<html><body>Sign in to continue</body></html>"
    with HttpServer(lambda path, params: (200, page)) as server:
        reasons = unknown_reasons(gate(server.url, tmp_path))
    assert {r["code"] for r in reasons} == {"bad-response"}
    assert "HTTP 200, not JSON" in reasons[0]["message"]
    assert "<html><body>Sign in" in reasons[0]["message"]
    assert len(server.received) == 1  # a wrong answer is not retried


def test_garbage_instead_of_http(tmp_path: Path) -> None:
    with SocketServer(reply=b"SSH-2.0-OpenSSH_9.2\r\n") as server:
        reasons = unknown_reasons(gate(server.url, tmp_path))
    assert {r["code"] for r in reasons} == {"bad-response"}
    assert "not an HTTP answer" in reasons[0]["message"]


def test_api_error_answer(tmp_path: Path) -> None:
    body = {"status": "error", "errorType": "bad_data", "error": "invalid parameter"}
    with HttpServer(lambda path, params: (400, json.dumps(body).encode())) as server:
        reasons = unknown_reasons(gate(server.url, tmp_path))
    assert reasons[0]["message"].endswith("HTTP 400: bad_data: invalid parameter")


def _prometheus(
    inputs: dict[str, Any], warnings: list[str] | None = None, clock_offset: float = 0
) -> Any:
    """A stand-in that knows the time (``clock_offset`` seconds off), has no rules, and
    answers the inputs query."""

    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes]:
        if path == "/api/v1/rules":
            return api({"groups": []})
        query = params.get("query", "")
        if query == "time()":
            now = time.time() + clock_offset
            return api({"resultType": "scalar", "result": [now, f"{now:.3f}"]})
        if query.startswith("{__name__=~"):
            return api(inputs, warnings)
        if path == "/api/v1/query_range" or query.endswith("]"):
            return api({"resultType": "matrix", "result": []})
        return api(vector())

    return answer


def test_partial_response_warnings(tmp_path: Path) -> None:
    warning = "partial response: store 10.0.0.7:10901 did not answer"
    with HttpServer(_prometheus(vector(), [warning])) as server:
        reasons = unknown_reasons(gate(server.url, tmp_path))
    warned = [r for r in reasons if r["code"] == "warnings"]
    assert len(warned) == REFERENCE_SLOS
    assert warning in warned[0]["message"]
    assert all(r.params.get("partial_response") == "false" for r in server.received)


def test_empty_results_are_no_evidence(tmp_path: Path) -> None:
    with HttpServer(_prometheus(vector())) as server:
        reasons = unknown_reasons(gate(server.url, tmp_path, "--slo", "gate-reliability"))
    codes = {r["code"] for r in reasons}
    assert codes == {"rules-missing", "no-data", "gap"}
    assert any('no value of slo:burn_rate:ratio{window="5m"}' in r["message"] for r in reasons)


def test_nan_is_no_evidence(tmp_path: Path) -> None:
    labels = {
        "__name__": "slo:burn_rate:ratio",
        "service": "enforcement-gate",
        "slo": "gate-reliability",
        "window": "1h",
        "tenant": "t1",
    }
    with HttpServer(_prometheus(vector((labels, "NaN")))) as server:
        reasons = unknown_reasons(gate(server.url, tmp_path, "--slo", "gate-reliability"))
    (nan,) = [r for r in reasons if r["code"] == "nan"]
    assert nan["message"] == 'slo:burn_rate:ratio{window="1h", tenant=t1} is NaN now'


def test_authentication_and_headers(tmp_path: Path) -> None:
    with HttpServer(_prometheus(vector())) as server:
        gate(
            server.url,
            tmp_path,
            "--bearer-token-env",
            "GATE_TOKEN",
            "--header",
            "X-Scope-OrgID: team-a",
            env={"GATE_TOKEN": "s3cret"},
        )
        gate(
            server.url,
            tmp_path,
            "--basic-auth-user",
            "ci",
            "--basic-auth-password-env",
            "GATE_PASSWORD",
            env={"GATE_PASSWORD": "pa:ss"},
        )
    bearer = [r for r in server.received if "Bearer" in r.headers.get("authorization", "")]
    basic = [r for r in server.received if "Basic" in r.headers.get("authorization", "")]
    assert bearer and basic and len(bearer) + len(basic) == len(server.received)
    assert all(r.headers["authorization"] == "Bearer s3cret" for r in bearer)
    assert all(r.headers["x-scope-orgid"] == "team-a" for r in bearer)
    expected = "Basic " + base64.b64encode(b"ci:pa:ss").decode()
    assert all(r.headers["authorization"] == expected for r in basic)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl is part of every Debian)."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    completed = subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return cert, key


def test_tls_needs_the_ca_file(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with HttpServer(_prometheus(vector()), tls=context) as server:
        untrusted = unknown_reasons(gate(server.url, tmp_path))
        trusted = unknown_reasons(gate(server.url, tmp_path, "--ca-file", str(cert)))
    assert {r["code"] for r in untrusted} == {"unreachable"}
    assert "certificate verify failed" in untrusted[0]["message"]
    assert "rules-missing" in {r["code"] for r in trusted}  # it got answers over TLS


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--prometheus", "127.0.0.1:9090"], {}, "give an http:// or https:// URL"),
        (["--bearer-token-env", "NOPE"], {}, "environment variable NOPE is not set"),
        (
            ["--bearer-token-env", "T", "--basic-auth-user", "u"],
            {"T": "x"},
            "either a bearer token or basic auth",
        ),
        (["--basic-auth-password-env", "P"], {"P": "x"}, "needs --basic-auth-user"),
        (["--header", "X-Scope-OrgID team-a"], {}, "is not 'Name: value'"),
        (["--signoffs", "no-such-dir"], {}, "no-such-dir is not a directory"),
        (["--specs", "no-such-file.yaml"], {}, "does not exist"),
        (["--format", "xml"], {}, "'xml' is not one of"),
        (["--timeout", "0"], {}, "'--timeout': 0.0 is not in the range x>0"),
    ],
)
def test_usage_errors_exit_2(args: list[str], env: dict[str, str], message: str) -> None:
    base = ["gate", "--prometheus", "http://127.0.0.1:1"]
    result = CliRunner().invoke(main, [*base, *args], env=env)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_missing_names_are_unknown_without_asking_the_server(tmp_path: Path) -> None:
    with HttpServer(_prometheus(vector())) as server:
        result = gate(server.url, tmp_path, "--service", "payments", "--slo", "latency")
    data = json.loads(result.output)
    assert result.exit_code == 3
    assert [r["message"] for e in data["slos"] for r in e["reasons"]] == [
        "service 'payments' is not in the specs",
        "SLO 'latency' of service payments is not in the specs",
    ]
    assert server.received == []


def test_invalid_specs_are_unknown(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text(
        "apiVersion: slo-compiler/v1\nkind: Service\nservice: {name: x, owner: y}\n"
        "gate: {lookbak: 7d}\n"
    )
    command = ["gate", "--prometheus", "http://127.0.0.1:1", "--specs", str(spec)]
    result = CliRunner().invoke(main, [*command, "--format", "json"])
    data = json.loads(result.output)
    assert result.exit_code == 3
    assert data["slos"][0]["reasons"][0]["code"] == "invalid-specs"
    (problem,) = data["problems"]
    assert (problem["line"], problem["field"], problem["message"]) == (
        4,
        "gate.lookbak",
        "unknown field 'lookbak' (did you mean 'lookback'?)",
    )


def test_nothing_to_judge_is_unknown(tmp_path: Path) -> None:
    spec = tmp_path / "quiet.yaml"
    spec.write_text(
        "apiVersion: slo-compiler/v1\nkind: Service\nservice: {name: x, owner: y}\n"
        "slos:\n  - name: a\n    objective: 99\n    sli: {ratio: {bad: e_total, total: r_total}}\n"
        "    alerting: {disabled: true}\n"
    )
    result = CliRunner().invoke(
        main, ["gate", "--prometheus", "http://127.0.0.1:1", "--specs", str(spec)]
    )
    assert result.exit_code == 3
    assert "alerting is disabled for this SLO, so the gate does not judge it" in result.output
    assert "no SLO to judge was selected [nothing-selected]" in result.output


def test_unwritable_report_is_not_a_pass(tmp_path: Path) -> None:
    spec = tmp_path / "quiet.yaml"
    spec.write_text("apiVersion: slo-compiler/v1\nkind: Service\nservice: {name: x, owner: y}\n")
    output = tmp_path / "missing-dir" / "gate.json"
    command = ["gate", "--prometheus", "http://127.0.0.1:1", "--specs", str(spec)]
    result = CliRunner().invoke(main, [*command, "--output", str(output)])
    assert result.exit_code == 2
    assert "cannot write the report" in result.output


def test_no_redirect_to_another_origin_and_no_credentials_there(tmp_path: Path) -> None:
    with HttpServer(lambda path, params: api(vector())) as elsewhere:

        def moved(path: str, params: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
            return 302, b"", {"Location": f"{elsewhere.url}{path}"}

        with HttpServer(moved) as server:
            env = {"PROM_TOKEN": "s3cret-token"}
            result = gate(server.url, tmp_path, "--bearer-token-env", "PROM_TOKEN", env=env)
        assert elsewhere.received == []  # not even a request, let alone the token
    reasons = unknown_reasons(result)
    assert (
        "redirects to" in reasons[0]["message"] and "follows no redirect" in reasons[0]["message"]
    )
    assert "s3cret-token" not in result.output


@pytest.mark.parametrize("output_format", ["text", "json", "junit", "github"])
def test_credentials_in_the_url_never_reach_a_report(tmp_path: Path, output_format: str) -> None:
    url = f"http://admin:hunter2@127.0.0.1:{free_port()}/prometheus?token=abc123"
    command = ["gate", "--prometheus", url, "--specs", str(SPEC), "--signoffs", str(tmp_path)]
    result = CliRunner().invoke(main, [*command, "--format", output_format, "--timeout", "0.5"])
    assert result.exit_code == 3, result.output
    for secret in ("admin", "hunter2", "abc123"):
        assert secret not in result.output, output_format


def test_a_token_with_a_newline_is_a_usage_error_naming_the_variable(tmp_path: Path) -> None:
    env = {"PROM_TOKEN": "tok-value\n"}
    args = ("--bearer-token-env", "PROM_TOKEN")
    result = gate("http://127.0.0.1:9", tmp_path, *args, env=env)
    assert result.exit_code == 2
    assert "PROM_TOKEN holds a control character" in result.output
    assert "tok-value" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "nan"], "give a number of seconds"),
        (["--deadline", "inf"], "give a number of seconds"),
        (["--ca-file", str(SPEC)], "no usable CA"),
    ],
)
def test_unusable_settings_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = gate("https://127.0.0.1:9", tmp_path, *args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_a_trickled_body_meets_the_deadline(tmp_path: Path) -> None:
    """Headers at once, then the body a byte at a time: each attempt ends at --timeout, not
    when the body is complete (a byte every 0.2s: about 20s for this one)."""
    body = json.dumps({"status": "success", "data": {"resultType": "scalar", "result": [1, "1"]}})
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    reply = f"{head}\r\n\r\n{body}".encode()
    started = time.monotonic()
    with SocketServer(reply, trickle=0.2, at_once=len(head) + 4) as server:
        result = gate(server.url, tmp_path, "--timeout", "1")
    assert time.monotonic() - started < 8  # three attempts of about a second, and backoff
    reasons = unknown_reasons(result)
    assert {r["code"] for r in reasons} == {"timeout"}


@pytest.mark.parametrize(
    "at_once", [0, len(b"HTTP/1.1 200 OK\r\n")], ids=["status-line", "headers"]
)
def test_a_trickled_status_line_or_header_meets_the_deadline(tmp_path: Path, at_once: int) -> None:
    """Each byte within the socket timeout, the whole never: the watchdog ends each attempt
    at --timeout (a byte every 0.2s: about 25s for this answer)."""
    body = json.dumps({"status": "success", "data": {"resultType": "scalar", "result": [1, "1"]}})
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    reply = f"{head}\r\n\r\n{body}".encode()
    started = time.monotonic()
    with SocketServer(reply, trickle=0.2, at_once=at_once) as server:
        result = gate(server.url, tmp_path, "--timeout", "1")
    assert time.monotonic() - started < 8  # three attempts of about a second, and backoff
    reasons = unknown_reasons(result)
    assert {r["code"] for r in reasons} == {"timeout"}
    assert "answer not complete within 1s (after 3 attempts)" in reasons[0]["message"]


def test_the_run_has_a_deadline(tmp_path: Path) -> None:
    """A server that hangs: the run ends at --deadline, before the attempts' timeouts."""
    started = time.monotonic()
    with SocketServer() as server:
        result = gate(server.url, tmp_path, "--timeout", "30", "--deadline", "1.5")
    assert time.monotonic() - started < 10
    reasons = unknown_reasons(result)
    assert {r["code"] for r in reasons} == {"timeout"}
    assert "the run's deadline (1.5s) passed" in reasons[0]["message"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:abc", "http://127.0.0.1:0", "http://:9090"])
def test_a_url_that_is_not_one_is_a_usage_error(tmp_path: Path, url: str) -> None:
    result = gate(url, tmp_path)
    assert result.exit_code == 2 and "give an http:// or https:// URL" in result.output


@pytest.mark.parametrize("offset", [-7200, 7200, 1e300])
def test_a_server_clock_far_from_ours_is_unknown(tmp_path: Path, offset: float) -> None:
    with HttpServer(_prometheus(vector(), clock_offset=offset)) as server:
        reasons = unknown_reasons(gate(server.url, tmp_path))
    assert {r["code"] for r in reasons} == {"clock-skew"}
    assert "the gate cannot tell what is recent" in reasons[0]["message"]


def test_rules_evaluated_after_the_servers_own_time_are_unknown(tmp_path: Path) -> None:
    """The query engine's clock two hours behind the rule evaluator's."""
    later = datetime.fromtimestamp(time.time() + 7200, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    group = {"name": "slo:enforcement-gate:gate-reliability", "rules": [], "interval": 30}
    answer = _prometheus(vector())

    def skewed(path: str, params: dict[str, str]) -> tuple[int, bytes]:
        if path == "/api/v1/rules":
            return api({"groups": [{**group, "lastEvaluation": later}]})
        return answer(path, params)

    with HttpServer(skewed) as server:
        result = gate(server.url, tmp_path, "--slo", "gate-reliability")
    codes = {r["code"] for r in unknown_reasons(result)}
    assert "clock-skew" in codes, codes

"""A stand-in Prometheus that answers the gate as a healthy server would, but for one fault.

The healthy picture is built from the specs the gate is given: every rule group loaded with
the compiled expressions and evaluated now, every series the alerts read present and quiet,
nothing firing, no hole in the records. Without a fault the gate passes (the harness checks
that first); each :class:`Fault` changes one answer (or the transport) the way a broken or
hostile server would, and says what the gate must conclude.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compiler import conventions, pipeline
from compiler.targets.prometheus import slo_rules
from tests.support.fake_servers import api, vector

# (path, params) → the answer, or None for the healthy one.
Override = Callable[[str, dict[str, str]], tuple[int, bytes] | None]
Reply = tuple[int, bytes] | tuple[int, bytes, dict[str, str]]

_WINDOW = re.compile(r'label_replace\(vector\(0\), "window", "([^"]+)"')
_SLO = re.compile(r'slo="([^"]+)"')


class HealthyPrometheus:
    """Answers every query the gate asks about ``specs`` as a server with nothing wrong."""

    def __init__(self, specs: Path, interval: float = 30.0) -> None:
        compiled = pipeline.compile_specs([specs])
        assert compiled.ok, compiled.diagnostics
        self.interval = interval
        self.groups: list[dict[str, Any]] = []
        self.windows: dict[str, set[str]] = {}  # SLO → every window its records carry
        self.labels: dict[str, dict[str, str]] = {}  # SLO → its records' identifying labels
        for spec in compiled.specs.services:
            for slo in spec.slos:
                group = slo_rules.slo_rule_group(spec.service, slo)
                self.groups.append(
                    {"name": group["name"], "rules": [_api_rule(r) for r in group["rules"]]}
                )
                self.windows[slo.name] = {str(slo.period)} | {
                    str(w) for tier in slo.tiers for w in (tier.long_window, tier.short_window)
                }
                self.labels[slo.name] = {"service": spec.service.name, "slo": slo.name}

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        """The healthy answer to one request."""
        now = time.time()
        if path == "/api/v1/rules":
            evaluated = datetime.fromtimestamp(now - 5, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            groups = [
                {**g, "interval": self.interval, "lastEvaluation": evaluated} for g in self.groups
            ]
            return api({"groups": groups})
        query = params.get("query", "")
        if query == "time()":
            return api({"resultType": "scalar", "result": [now, f"{now:.3f}"]})
        if path == "/api/v1/query_range":
            return api(self._coverage(query, params))
        if query.startswith("ALERTS") and query.endswith("]"):
            return api({"resultType": "matrix", "result": []})
        if query.startswith("{__name__=~"):
            return api(self._inputs(query))
        return api(vector())  # tier conditions and ALERTS now: nothing

    def _inputs(self, query: str) -> dict[str, Any]:
        slo = _SLO.search(query)
        assert slo, query
        values = {
            conventions.BURN_RATE: "0",
            conventions.EVENTS_TOTAL: "100",
            conventions.EVENTS_BAD: "0",
            conventions.BUDGET_REMAINING: "1",
        }
        return vector(
            *(
                (
                    {
                        "__name__": metric,
                        conventions.WINDOW_LABEL: window,
                        "tenant": "acme",
                        **self.labels[slo.group(1)],
                    },
                    value,
                )
                for metric, value in values.items()
                for window in sorted(self.windows[slo.group(1)])
            )
        )

    def _coverage(self, query: str, params: dict[str, str]) -> dict[str, Any]:
        """Every window covered at every step: the records have no hole."""
        start, end, step = (float(params[k]) for k in ("start", "end", "step"))
        stamps = [start + k * step for k in range(int((end - start) // step) + 1)]
        return {
            "resultType": "matrix",
            "result": [
                {"metric": {conventions.WINDOW_LABEL: w}, "values": [[t, "1"] for t in stamps]}
                for w in _WINDOW.findall(query)
            ],
        }


def _api_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A compiled rule as ``/api/v1/rules`` lists it."""
    alerting = "alert" in rule
    return {
        "name": rule.get("alert") or rule["record"],
        "query": rule["expr"],
        "labels": rule.get("labels", {}),
        "health": "ok",
        "type": "alerting" if alerting else "recording",
        **({"state": "inactive", "alerts": []} if alerting else {}),
    }


@dataclass(frozen=True)
class Fault:
    """One way a server fails the gate, and what the gate must make of it."""

    name: str
    codes: frozenset[str]  # the reason codes every SLO's decision must rest on
    override: Override | None = None
    drip: float | None = None  # the whole answer a byte at a time, this many seconds apart
    redirect: bool = False  # every request answered 302 to another server


def _when(test: Callable[[str, dict[str, str]], bool], reply: tuple[int, bytes]) -> Override:
    return lambda path, params: reply if test(path, params) else None


def _query(prefix: str) -> Callable[[str, dict[str, str]], bool]:
    return lambda path, params: params.get("query", "").startswith(prefix)


def _rules(path: str, params: dict[str, str]) -> bool:
    return path == "/api/v1/rules"


def _clock(offset: float) -> Override:
    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes] | None:
        if params.get("query") != "time()":
            return None
        now = time.time() + offset
        return api({"resultType": "scalar", "result": [now, repr(now)]})

    return answer


def _edited_rules(healthy: HealthyPrometheus, edit: Callable[[dict[str, Any]], None]) -> Override:
    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes] | None:
        if path != "/api/v1/rules":
            return None
        status, body = healthy.answer(path, params)
        data = json.loads(body)
        for group in data["data"]["groups"]:
            edit(group)
        return status, json.dumps(data).encode()

    return answer


def faults(healthy: HealthyPrometheus, secret: str) -> list[Fault]:
    """Every fault the harness injects (``secret``: a credential the server may echo)."""

    def vector_for_range(path: str, params: dict[str, str]) -> tuple[int, bytes] | None:
        query = params.get("query", "")
        return api(vector()) if query.startswith("ALERTS") and query.endswith("]") else None

    def rewritten(group: dict[str, Any]) -> None:
        for rule in group["rules"]:
            rule["query"] = "vector(0)"

    def interval(group: dict[str, Any]) -> None:
        group["interval"] = 1e9

    def unhealthy(group: dict[str, Any]) -> None:
        group["rules"][0].update(health="err", lastError="many-to-many matching not allowed")

    def unknown(*codes: str) -> frozenset[str]:
        return frozenset(codes)

    return [
        Fault("redirect to another server", unknown("bad-response"), redirect=True),
        Fault("status line a byte at a time", unknown("timeout"), drip=0.2),
        Fault("server clock two hours behind", unknown("clock-skew"), _clock(-7200)),
        Fault("server clock at 1e300", unknown("clock-skew"), _clock(1e300)),
        Fault(
            "rules run other expressions",
            unknown("rules-differ"),
            _edited_rules(healthy, rewritten),
        ),
        Fault(
            "evaluation interval 1e9", unknown("rules-unhealthy"), _edited_rules(healthy, interval)
        ),
        Fault("a rule unhealthy", unknown("rules-unhealthy"), _edited_rules(healthy, unhealthy)),
        Fault("ALERTS range as a vector", unknown("bad-response"), vector_for_range),
        Fault(
            "rules answered as HTML",
            unknown("bad-response"),
            _when(_rules, (200, b"<html>login</html>")),
        ),
        Fault(
            "time() is NaN",
            unknown("bad-response"),
            _when(_query("time()"), api({"resultType": "scalar", "result": [1, "NaN"]})),
        ),
        Fault(
            "inputs NaN",
            unknown("nan"),
            _nan_inputs(healthy),
        ),
        Fault(
            "result is not a list",
            unknown("bad-response"),
            _when(_query("{__name__=~"), api({"resultType": "vector", "result": {"a": 1}})),
        ),
        Fault(
            "partial response",
            unknown("warnings"),
            _when(_query("{__name__=~"), api(vector(), ["store 10.0.0.7:10901 did not answer"])),
        ),
        Fault(
            "error echoing the credentials",
            unknown("http-error"),
            _when(_rules, (401, f'{{"status":"error","error":"bad token {secret}"}}'.encode())),
        ),
        Fault(
            "garbage echoing the credentials",
            unknown("bad-response"),
            _when(_query("time()"), (200, f"Authorization: Bearer {secret}".encode())),
        ),
    ]


def _nan_inputs(healthy: HealthyPrometheus) -> Override:
    def answer(path: str, params: dict[str, str]) -> tuple[int, bytes] | None:
        if not params.get("query", "").startswith("{__name__=~"):
            return None
        status, body = healthy.answer(path, params)
        return status, body.replace(b'"0"]', b'"NaN"]')

    return answer


def serve(
    healthy: HealthyPrometheus, fault: Fault | None
) -> Callable[[str, dict[str, str]], Reply]:
    """The answer function of a server with ``fault`` (None: healthy)."""

    def answer(path: str, params: dict[str, str]) -> Reply:
        if fault is not None and fault.override is not None:
            replaced = fault.override(path, params)
            if replaced is not None:
                return replaced
        return healthy.answer(path, params)

    return answer

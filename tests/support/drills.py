"""Drill specs shared by the drill tests."""

from __future__ import annotations

from pathlib import Path

from tests.support.specs import SERVICE_SPEC

DRILL = """\
scenarios:
  - name: tenant-outage
    description: Every request of tenant t1 fails.
    series:
      - {counter: 'http_requests_total{tenant="t1", code="500"}', rate: [0/s, 50/s from 10m]}
      - {counter: 'http_requests_total{tenant="t1", code="200"}', rate: [50/s, 0/s from 10m]}
      - {counter: 'http_requests_total{tenant="t2", code="200"}', rate: 50/s}
    expect:
      - {alert: CheckoutBurnFast, labels: {tenant: t1}, fires_within: 5m}
      - {silent: true, labels: {tenant: t2}}
"""


def drill_spec(tmp_path: Path, text: str = SERVICE_SPEC + DRILL) -> Path:
    """A service spec with ``DRILL`` (or ``text``), saved in ``tmp_path``."""
    path = tmp_path / "checkout.yaml"
    path.write_text(text)
    return path

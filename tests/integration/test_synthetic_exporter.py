"""The synthetic exporter on 127.0.0.1: a scrape continues the backfilled samples exactly."""

from __future__ import annotations

import urllib.request

from compiler.synthetic.exporter import SyntheticExporter
from compiler.synthetic.series import counter


def test_exporter_serves_the_value_at_scrape_time() -> None:
    series = [counter("req_total", {"tenant": "a"}, [(0, 2.0)])]
    with (
        SyntheticExporter(series, start=0) as exporter,
        urllib.request.urlopen(f"http://{exporter.target}/metrics", timeout=5) as answer,
    ):
        body = answer.read().decode()
    name, value = body.split()
    assert name == 'req_total{tenant="a"}'
    assert float(value) > 2.0 * 1_000_000_000  # two per second since 1970

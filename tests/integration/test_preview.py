"""`slo preview`: each dashboard drawn to PNG from a real Prometheus, end to end."""

from __future__ import annotations

import struct
from pathlib import Path

from click.testing import CliRunner

from compiler.cli import main

SPEC = """\
apiVersion: slo-compiler/v1
kind: Service
service: {name: shop, owner: team-shop}
metrics:
  orders_total: {type: counter, labels: [tenant]}
  orders_failed_total: {type: counter, labels: [tenant]}
  basket_size: {type: gauge, labels: [tenant]}
slos:
  - name: orders
    objective: 99.5
    group_by: [tenant]
    sli: {ratio: {bad: orders_failed_total, total: orders_total}}
    alerting:
      tiers:
        - {alert: OrdersFailing, severity: critical, long_window: 1h, short_window: 5m,
           burn_factor: 14.4}
dashboards:
  - name: orders
    title: Orders
    variables: [tenant]
    panels:
      - {title: Orders, description: Orders per second., kind: rate, series: orders_total,
         by: [tenant], unit: ops}
      - {title: Failed, description: Failed orders in the range., kind: increase,
         series: orders_failed_total, by: [tenant]}
      - {title: Basket, description: Items per basket., kind: value, series: basket_size,
         display: stat, thresholds: [{color: green}, {color: red, from: 10}]}
"""


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_preview_draws_every_dashboard(tmp_path: Path, promtool_path: str) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "preview"
    result = CliRunner().invoke(main, ["preview", str(spec), "--out", str(out)])
    assert result.exit_code == 0, result.output
    drawn = sorted(p.name for p in out.glob("*.png"))
    assert drawn == ["shop_orders.png", "slo-shop.png", "slos-overview.png"]
    assert f"wrote {out / 'slo-shop.png'} (SLOs / shop: 7 panels)" in result.output
    width, height = _png_size(out / "slo-shop.png")
    assert width > 1500 and height > 500
    # Drawn panels, not an empty canvas: the PNG of a full dashboard is large.
    assert (out / "slo-shop.png").stat().st_size > 50_000


def test_preview_refuses_an_unknown_service(tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC)
    result = CliRunner().invoke(main, ["preview", str(spec), "--service", "shoop"])
    assert result.exit_code == 1
    assert "unknown service(s): shoop" in result.output

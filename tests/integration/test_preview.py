"""`slo preview`: each dashboard drawn to PNG from a real Prometheus, end to end."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
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


def _processes_mentioning(text: str, program: str = "") -> list[int]:
    """Processes whose command line mentions ``text`` (and runs ``program``, if given)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        if any(text in arg for arg in argv) and Path(argv[0]).name.startswith(program):
            found.append(int(entry.name))
    return found


def test_sigterm_leaves_no_temporary_directory_and_no_server(tmp_path: Path) -> None:
    """A cancelled CI job stops `slo preview` with SIGTERM: it unwinds as on Ctrl-C."""
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    command = [sys.executable, "-m", "compiler", "preview", str(spec), "--out", str(tmp_path)]
    process = subprocess.Popen(
        command, env={**os.environ, "TMPDIR": str(scratch)}, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        # Wait until the Prometheus it starts is running from the temporary directory.
        while not _processes_mentioning(str(scratch), program="prometheus"):
            assert process.poll() is None and time.monotonic() < deadline, "no server started"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) != 0
    finally:
        if process.poll() is None:
            process.kill()
    assert list(scratch.iterdir()) == []
    assert _processes_mentioning(str(scratch)) == []

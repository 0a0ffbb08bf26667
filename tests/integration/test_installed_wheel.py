"""slo-compiler as its users get it: a wheel installed into a new virtualenv, run from a
directory that is not the checkout (no templates/, no schemas, no tests beside it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.support.gate_lab import Lab
from tests.support.paths import GENERATED, ROOT, SLOS


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a new virtualenv with the wheel built from this checkout."""
    work = tmp_path_factory.mktemp("wheel")
    # Built from a copy of what the wheel is made of: setuptools leaves build/ in the tree it
    # builds, and the checkout is not to be touched.
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("compiler", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(source)]
    subprocess.run(build, check=True, capture_output=True)
    (wheel,) = work.glob("slo_compiler-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # The dependencies are the suite's own, at the same pins (offline, seconds): a path in a
    # .pth file, whose own .pth files (the checkout's editable install) are not run. The
    # package itself comes only from the wheel.
    Path(site, "suite-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [python, "-m", "pip", "install", "--no-deps", "-q", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    return venv / "bin"


def _slo(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLO_", "PYTHON"))}
    # The output cache goes beside the wheel's virtualenv, not into the user's ~/.cache.
    env["XDG_CACHE_HOME"] = str(installed.parent.parent / "cache")
    return subprocess.run(
        [installed / "slo", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_package_comes_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [installed / "python", "-c", "import compiler; print(compiler.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(installed.parent)), where
    assert _slo(installed, tmp_path, "--version").stdout.startswith("slo 0.")


def test_validate_compile_and_test_outside_the_checkout(
    installed: Path, tmp_path: Path, promtool_path: str
) -> None:
    """A project that is only specs: the outputs are the checkout's, byte for byte (the
    templates and schemas came along), and their generated tests pass."""
    shutil.copytree(SLOS, tmp_path / "slos")
    validated = _slo(installed, tmp_path, "validate")
    assert validated.returncode == 0, validated.stderr
    compiled = _slo(installed, tmp_path, "compile")
    assert compiled.returncode == 0, compiled.stderr
    for path in GENERATED.rglob("*"):
        if path.is_file() and path.name != "MANIFEST":
            made = tmp_path / "generated" / path.relative_to(GENERATED)
            assert made.read_bytes() == path.read_bytes(), made
    tested = _slo(installed, tmp_path, "test", "--match", "gate-reliability")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "PASS slo gate-reliability" in tested.stdout


def test_gate_outside_the_checkout(installed: Path, gate_lab_server: Lab) -> None:
    args = ["gate", "--prometheus", gate_lab_server.server.url, "--format", "json"]
    judged = _slo(installed, gate_lab_server.specs.parent, *args, "--service", "gate-lab-freeze")
    report = json.loads(judged.stdout)
    assert judged.returncode == report["exit_code"]
    decisions = {entry["slo"]: entry["decision"] for entry in report["slos"]}
    assert decisions["healthy"] == "PASS", judged.stdout

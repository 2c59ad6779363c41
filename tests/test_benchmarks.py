"""The benchmark suite runs (CI checks that benchmarks work, never how fast they are)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_every_benchmark_runs_at_small_scale_and_prints_its_figures(tmp_path):
    doc = tmp_path / "benchmarks.md"
    run = subprocess.run(
        [sys.executable, "-m", "battrace.bench", "--scale", "small", "--write", str(doc)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "| benchmark | metric | value | target | met | note |" in run.stdout
    for suite in ("identity", "ingest SQLite", "log", "audit", "web", "api_load"):
        assert f"| {suite}" in run.stdout, suite
    assert "FAILED" not in run.stdout
    assert "| ingest SQLite | CPU per event / CPU per raw row |" in run.stdout
    text = doc.read_text(encoding="utf-8")
    assert "<!-- bench:small -->" in text and "Machine:" in text

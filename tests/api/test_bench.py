"""The API load benchmark runs end to end (tiny sizes: the figures themselves are not judged)."""

from __future__ import annotations

import pytest

from battrace.bench.api_load import measure


@pytest.mark.slow
def test_the_load_benchmark_measures_every_figure() -> None:
    figures = measure(packs=400, seconds=0.3)
    assert [f.unit for f in figures] == ["events/s"] * 3 + ["ms"] * 3 + ["events/s"]
    assert all(f.value > 0 for f in figures)
    assert "0 rejected" in figures[0].note and "0 rejected" in figures[6].note
    assert "2 worker processes" in figures[6].metric
    assert all("0 errors" in f.note for f in figures[3:6])

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


@pytest.mark.parametrize("utc", ["03:00", "15:55", "16:20", "16:55", "23:59"])
def test_the_load_data_is_accepted_at_any_hour(tmp_path, utc: str) -> None:
    """Beijing's midnight is 16:00 UTC: codes carry the CST date of production, which is not
    the UTC date between 16:00 and 24:00 (the benchmark failed every evening, UTC)."""
    import datetime as dt

    from battrace import bootstrap
    from battrace.bench.api_load import lifecycles, registry
    from battrace.config import Settings

    now = dt.datetime.fromisoformat(f"2026-11-26T{utc}:00+00:00")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", key_dir=tmp_path / "k")
    store = bootstrap.open_store(settings, create=True)
    try:
        ingestor = bootstrap.make_ingestor(settings, store, clock=lambda: now)
        maker, auto = lifecycles(range(3), now, "x")
        results = ingestor.ingest([*registry(now), *maker, *auto])
    finally:
        store.close()
    bad = [r.as_dict() for r in results if r.status != "accepted"]
    assert not bad and len(results) == 5 + 15

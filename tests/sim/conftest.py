"""Small seeded datasets, generated once per session (the simulator is deterministic)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

from battrace.sim.params import SimParams
from battrace.sim.stream import SimResult, run

#: a small country with every kind of violation at a high rate, so each rule has examples
DIRTY = SimParams(vehicles=1500, regions=12, violation_rate=0.1, seed=11, end=dt.date(2026, 11, 20))
#: the same country without violations
CLEAN = SimParams(vehicles=600, regions=12, violation_rate=0.0, seed=5, cells=True)


@dataclass
class Dataset:
    """A generated run: its result, events and labels."""

    result: SimResult
    events: Path
    labels: Path


def make(params: SimParams, directory: Path) -> Dataset:
    """Generate `params` into `directory`."""
    events, labels = directory / "events.jsonl", directory / "labels.jsonl"
    result = run(params, events, labels=labels)
    return Dataset(result, events, labels)


@pytest.fixture(scope="session")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A run with violations of every kind."""
    return make(DIRTY, tmp_path_factory.mktemp("dirty"))


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """A run without violations (and with cells)."""
    return make(CLEAN, tmp_path_factory.mktemp("clean"))

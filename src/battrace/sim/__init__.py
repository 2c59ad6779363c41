"""battrace.sim: a synthetic national event stream with ground truth (docs/simulator.md).

`run(SimParams(...), out, labels=...)` writes the events and the labels; `check(...)` scores
battrace's findings against the labels.

`run` and `SimResult` load `sim.stream` (the whole generator) on first use, so that
`sim.params` alone stays light: the CLI reads its defaults at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from battrace.sim.params import SimParams

if TYPE_CHECKING:
    from battrace.sim.stream import SimResult, run

__all__ = ["SimParams", "SimResult", "run"]


def __getattr__(name: str) -> Any:
    if name in ("SimResult", "run"):
        from battrace.sim import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'battrace.sim' has no attribute {name!r}")

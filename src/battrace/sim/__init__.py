"""battrace.sim: a synthetic national event stream with ground truth (docs/simulator.md).

`run(SimParams(...), out, labels=...)` writes the events and the labels; `check(...)` scores
battrace's findings against the labels.
"""

from battrace.sim.params import SimParams
from battrace.sim.stream import SimResult, run

__all__ = ["SimParams", "SimResult", "run"]

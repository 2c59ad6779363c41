"""Benchmark figures: a row type and the markdown table they are printed as."""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure, its target (if any) and whether the target is met."""

    benchmark: str
    metric: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        """Markdown table cells."""
        shown = f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:,.3g}"
        verdict = {None: "", True: "yes", False: "**no**"}[self.met]
        return [
            self.benchmark,
            self.metric,
            f"{shown} {self.unit}",
            self.target,
            verdict,
            self.note,
        ]


def markdown(figures: list[Figure]) -> str:
    """The figures as a markdown table."""
    head = ["benchmark", "metric", "value", "target", "met", "note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(f.cells()) + " |" for f in figures]
    return "\n".join(lines)


def machine() -> str:
    """A one-line description of the machine the figures come from."""
    return (
        f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · "
        f"Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M %Z')}"
    )

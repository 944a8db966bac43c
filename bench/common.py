"""The shared shape of a benchmark result and small timing helpers.

Every ``bench/bench_*.py`` module exposes ``run() -> list[Result]``.  A result pairs a
measurement of tagpilot with a baseline measured in the same run (the floor, or a peer
tool), so the ratio, not the absolute time, is what the table reports.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

__all__ = ["Result", "best_of"]


@dataclass(frozen=True)
class Result:
    """One benchmark row: tagpilot's figure, the baseline's, their ratio and the target."""

    name: str
    subject: str
    subject_value: float
    baseline: str
    baseline_value: float
    unit: str = "s"
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float:
        """subject / baseline (lower is better for times)."""
        return self.subject_value / self.baseline_value if self.baseline_value else float("inf")

    def as_dict(self) -> dict[str, object]:
        """The row as JSON-ready data, ratio included (null when there is no baseline)."""
        ratio = round(self.ratio, 3) if self.baseline_value else None
        return {**asdict(self), "ratio": ratio}


def best_of(fn: Callable[[], object], *, rounds: int = 5) -> float:
    """Run ``fn`` ``rounds`` times and return the median wall time in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)

"""One pass over every object, in dependency order: the engine of ``reconcile --once``.

Repositories are scanned concurrently (bounded), then policies select, then automations
write back — each kind sees the statuses the previous kind just wrote.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome
from tagpilot.runtime.engine import KINDS, Engine

__all__ = ["OnceReport", "run_once"]


@dataclass
class OnceReport:
    """Every object's outcome, in the order they ran."""

    outcomes: dict[ObjectKey, Outcome] = field(default_factory=dict)

    @property
    def failed(self) -> list[ObjectKey]:
        """Objects whose outcome is not Ready (suspended ones are not failures)."""
        return [
            key
            for key, outcome in self.outcomes.items()
            if not outcome.suspended and not outcome.ready
        ]


async def run_once(engine: Engine, *, concurrency: int = 4) -> OnceReport:
    """Reconcile every object once; repositories first, automations last."""
    report = OnceReport()
    limit = asyncio.Semaphore(concurrency)

    async def one(key: ObjectKey) -> tuple[ObjectKey, Outcome]:
        async with limit:
            return key, await engine.reconcile(key, reason="one-shot run")

    for kind in KINDS:
        keys = [key for key in engine.keys() if key.kind == kind]  # noqa: SIM118 (a list)
        for key, outcome in await asyncio.gather(*(one(key) for key in keys)):
            report.outcomes[key] = outcome
    return report

"""One pass over every object, in dependency order: the engine of ``reconcile --once``.

Repositories are scanned concurrently (bounded), then policies select, then automations
write back — each kind sees the statuses the previous kind just wrote.  Sources come after
the automations, so a commit pushed in this pass is fetched in the same pass; a dry run
pushes nothing, so there the sources are fetched while the images are scanned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from tagpilot.api.descriptors import GIT_REPOSITORY, KUSTOMIZATION
from tagpilot.ports import ObjectKey
from tagpilot.reconcile.outcome import Outcome
from tagpilot.runtime.engine import KINDS, Engine

__all__ = ["OnceReport", "chains", "run_once"]

_SOURCE_KINDS = (GIT_REPOSITORY.kind, KUSTOMIZATION.kind)
"""The kinds that read a source and nothing the image kinds write."""


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


def chains(dry_run: bool) -> list[tuple[str, ...]]:
    """The kinds in run order, split into chains that may run side by side."""
    if not dry_run:
        return [KINDS]
    images = tuple(kind for kind in KINDS if kind not in _SOURCE_KINDS)
    return [images, tuple(kind for kind in KINDS if kind in _SOURCE_KINDS)]


async def run_once(engine: Engine, *, concurrency: int = 4) -> OnceReport:
    """Reconcile every object once; repositories first, automations last."""
    keys = engine.keys()
    limit = asyncio.Semaphore(concurrency)  # shared: chains side by side stay within it

    async def one(key: ObjectKey) -> tuple[ObjectKey, Outcome]:
        async with limit:
            return key, await engine.reconcile(key, reason="one-shot run")

    async def chain(kinds: Sequence[str]) -> dict[ObjectKey, Outcome]:
        done: dict[ObjectKey, Outcome] = {}
        for kind in kinds:
            done.update(await asyncio.gather(*(one(key) for key in keys if key.kind == kind)))
        return done

    finished = await asyncio.gather(*(chain(kinds) for kinds in chains(engine.dry_run)))
    outcomes = {key: outcome for done in finished for key, outcome in done.items()}
    # reported in run order, whichever chain finished first
    return OnceReport({key: outcomes[key] for key in _in_run_order(outcomes)})


def _in_run_order(outcomes: dict[ObjectKey, Outcome]) -> list[ObjectKey]:
    order = {kind: index for index, kind in enumerate(KINDS)}
    return sorted(outcomes, key=lambda key: order[key.kind])

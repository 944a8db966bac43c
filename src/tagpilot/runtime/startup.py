"""Startup in stages, so that every object runs exactly once when the scheduler starts.

A dependant's first run must see its sources' first results: a policy that ran beside
its repository's first scan would run again as soon as the scan reported, and so would
the automations after it.  The scheduler groups the keys the engine lists by kind, in
the engine's order (repositories, policies, automations), and holds a later stage until
every key of the earlier ones has had its first run (or will have none: suspended,
removed).  A dependant triggered meanwhile is still waiting for its first run, and the
trigger merges into it.
"""

from __future__ import annotations

from collections.abc import Sequence

from tagpilot.ports import ObjectKey

__all__ = ["StartupStages"]


class StartupStages:
    """Which kinds still wait for earlier kinds' first runs."""

    def __init__(self) -> None:
        self._stages: list[tuple[str, set[ObjectKey]]] = []

    def plan(self, keys: Sequence[ObjectKey]) -> None:
        """Group ``keys`` (in the engine's order) into stages by kind."""
        for key in keys:
            if not self._stages or self._stages[-1][0] != key.kind:
                self._stages.append((key.kind, set()))
            self._stages[-1][1].add(key)

    def held(self, key: ObjectKey) -> bool:
        """Whether ``key`` must wait: its kind's stage has not started yet."""
        if not self._stages or self._stages[0][0] == key.kind:
            return False
        return any(kind == key.kind for kind, _ in self._stages)

    def done(self, key: ObjectKey) -> bool:
        """``key`` had its first run (or will have none); True when a stage was released."""
        for _, pending in self._stages:
            pending.discard(key)
        released = False
        while self._stages and not self._stages[0][1]:
            self._stages.pop(0)
            released = True
        return released

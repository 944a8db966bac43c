"""Protocols the imperative shell implements for the reconcilers.

Reconcilers depend on these, never on concrete adapters, so the same logic runs
against SQLite and the git CLI locally and against Kubernetes later.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    """The source of wall-clock time, injected so decisions stay testable."""

    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...

"""The wall clock, as the ``Clock`` port."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["SystemClock"]


class SystemClock:
    """Implements ``tagpilot.ports.Clock`` with the system's UTC time."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return datetime.now(UTC)

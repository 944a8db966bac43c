"""Shared values and the fake clock of the reconciler tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

BLASTER_TAGS = ["dev-20251115.42", "dev-20251114.7", "prod-20251110.3", "latest", "x.sig"]
USER, PASSWORD = "blaster-dev", "deploy-token-s3cret"


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

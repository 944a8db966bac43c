"""The two error families every layer speaks, and the input error of the CLI.

::

    TagpilotError                 base; ``reason`` is a Flux condition reason string
    ├── StalledError              the user must change the spec; no retry until it changes
    │   └── InvalidInputError     a manifest, flag or file is malformed (CLI exit code 2);
    │                             carries a ``SourceLocation`` (file, line, field, value)
    └── RetryableError            transient (network, 5xx/429, push rejected, no tag yet);
                                  retried with backoff, or after ``retry_after`` seconds

Adapters translate foreign exceptions (httpx, git, sqlite) into these, chained with
``raise ... from exc``.  Messages say what is wrong and what to do; they never carry
secrets.  One function in ``reconcile`` maps them to Flux conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "InvalidInputError",
    "RetryableError",
    "SourceLocation",
    "StalledError",
    "TagpilotError",
]


@dataclass(frozen=True)
class SourceLocation:
    """Where a bad value came from: a file and line, and the field path inside the object."""

    file: str | None = None
    line: int | None = None
    field: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        if self.field:
            parts.append(self.field)
        return ": ".join(parts) or "<input>"


class TagpilotError(Exception):
    """Base of every error tagpilot raises on purpose."""

    reason: str = "Failure"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason

    def __str__(self) -> str:
        return self.message


class StalledError(TagpilotError):
    """A problem only a spec change can fix; the object waits for a new generation."""


class InvalidInputError(StalledError):
    """Malformed user input: names the location, the bad value and what is expected."""

    reason = "InvalidInput"

    def __init__(
        self,
        message: str,
        *,
        location: SourceLocation | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(f"{location}: {message}" if location else message, reason=reason)
        self.location = location
        self.detail = message


class RetryableError(TagpilotError):
    """A transient problem; the runtime retries with backoff or after ``retry_after``."""

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, reason=reason)
        self.retry_after = retry_after

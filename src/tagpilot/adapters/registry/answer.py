"""What the registry code reads of an HTTP answer: status, headers and the decoded body.

Both clients hand their responses to the same readers (``pages``, ``auth``): the async client
an ``httpx.Response``, the synchronous lister a :class:`Reply`.  Either fits :class:`Answer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Answer", "HeaderLookup", "Reply", "ReplyHeaders"]


class HeaderLookup(Protocol):
    """Case-insensitive header access; repeated headers come back joined with ``", "``."""

    def get(self, key: str, default: str | None = None) -> str | None:
        """The header's value, or ``default``."""


class Answer(Protocol):
    """A complete response: status code, headers and body (already decoded)."""

    @property
    def status_code(self) -> int:
        """The HTTP status code."""

    @property
    def headers(self) -> HeaderLookup:
        """The response headers."""

    @property
    def content(self) -> bytes:
        """The body, content-encoding already undone."""


@dataclass(frozen=True)
class ReplyHeaders:
    """Headers as ``(name, value)`` pairs, looked up like httpx does (joined when repeated)."""

    pairs: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str | None = None) -> str | None:
        """The header's value (every occurrence, joined with ``", "``), or ``default``."""
        wanted = key.lower()
        found = [value for name, value in self.pairs if name.lower() == wanted]
        return ", ".join(found) if found else default


@dataclass(frozen=True)
class Reply:
    """A complete response read by the synchronous lister."""

    status_code: int
    headers: ReplyHeaders = field(default_factory=ReplyHeaders)
    content: bytes = b""

"""Tag-list rules of an ImageRepository scan: the exclusion list and Flux's stored order.

Called by the ImageRepository reconciler and ``tagpilot scan`` after listing a registry.
Exclusion patterns are Go RE2 syntax (google-re2 here), unanchored, as in Flux's
``spec.exclusionList``; an empty list means the CRD default ``^.*\\.sig$``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from tagpilot.core.errors import StalledError

__all__ = [
    "DEFAULT_EXCLUSION_LIST",
    "ExclusionError",
    "Exclusions",
    "apply_exclusions",
    "sort_descending",
]

DEFAULT_EXCLUSION_LIST: tuple[str, ...] = (r"^.*\.sig$",)
"""Flux's CRD default: drop cosign signature tags."""


class ExclusionError(StalledError):
    """An exclusion pattern is not valid RE2; Flux reports it as a failed scan."""

    reason = "ReadOperationFailed"


@dataclass(frozen=True)
class Exclusions:
    """Compiled exclusion patterns; build with :meth:`compile` so bad patterns fail early."""

    patterns: tuple[str, ...]
    compiled: tuple[Any, ...]

    @classmethod
    def compile(cls, patterns: Sequence[str] | None = None) -> Exclusions:
        """Compile ``patterns`` (default when empty); raise :class:`ExclusionError` on a bad one."""
        effective = tuple(patterns) if patterns else DEFAULT_EXCLUSION_LIST
        return cls(effective, tuple(_compile_one(i, p) for i, p in enumerate(effective)))

    def excludes(self, tag: str) -> bool:
        """True when any pattern matches somewhere in ``tag``."""
        return any(regex.search(tag) is not None for regex in self.compiled)

    def apply(self, tags: Iterable[str]) -> list[str]:
        """The tags no pattern matches, in their original order."""
        return [tag for tag in tags if not self.excludes(tag)]


def _compile_one(index: int, pattern: str) -> Any:
    try:
        return re2.compile(pattern)
    except re2.error as error:
        detail = error.args[0].decode() if isinstance(error.args[0], bytes) else str(error)
        message = (
            f"spec.exclusionList[{index}]: invalid regular expression {pattern!r}: {detail}"
            " (expected Go RE2 syntax; lookarounds and backreferences are not supported)"
        )
        raise ExclusionError(message) from error


def apply_exclusions(tags: Iterable[str], patterns: Sequence[str] | None = None) -> list[str]:
    """Drop the tags matching any of ``patterns`` (default ``^.*\\.sig$``)."""
    return Exclusions.compile(patterns).apply(tags)


def sort_descending(tags: Iterable[str]) -> list[str]:
    """Tags in descending byte order, the order Flux stores them and shows ``latestTags``."""
    return sorted(tags, key=lambda tag: tag.encode(), reverse=True)

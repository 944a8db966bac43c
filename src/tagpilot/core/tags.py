"""Tag-list rules of an ImageRepository scan: the tag grammar, exclusions, Flux's stored order.

Called by the registry adapter (which drops tags that break the OCI tag grammar while it
lists them), the ImageRepository reconciler and ``tagpilot scan``.  Exclusion patterns are Go
RE2 syntax (google-re2 here), unanchored, as in Flux's ``spec.exclusionList``; an empty list
means the CRD default ``^.*\\.sig$``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tagpilot.core.errors import StalledError

__all__ = [
    "DEFAULT_EXCLUSION_LIST",
    "MAX_TAG_LENGTH",
    "ExclusionError",
    "Exclusions",
    "ScannedTags",
    "apply_exclusions",
    "escape_untrusted",
    "is_valid_tag",
    "sort_descending",
]

MAX_TAG_LENGTH = 128
"""The OCI distribution spec's longest tag."""

_TAG = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9._-]{{0,{MAX_TAG_LENGTH - 1}}}", re.ASCII)
_ESCAPED_SHOWN = 60


def is_valid_tag(tag: str) -> bool:
    """Whether ``tag`` meets the OCI tag grammar ``[A-Za-z0-9_][A-Za-z0-9._-]{0,127}``."""
    return _TAG.fullmatch(tag) is not None


def escape_untrusted(text: str, limit: int = _ESCAPED_SHOWN) -> str:
    """``text`` from a remote server, safe to print: quoted, non-printable characters escaped.

    Control characters (terminal escapes, newlines, NUL) and invisible formatting characters
    (bidirectional overrides such as U+202E) come out as ``\\x1b``/``\\u202e``; past ``limit``
    characters the text is cut and says how much was left out.
    """
    shown = ascii(text[:limit])
    return shown + (f" (+{len(text) - limit} more characters)" if len(text) > limit else "")


@dataclass(frozen=True)
class ScannedTags:
    """The tags a registry listed that meet the grammar, and how many it listed that did not.

    ``dropped_examples`` keeps a few dropped tags (raw: escape them before showing them).
    """

    tags: tuple[str, ...]
    dropped: int = 0
    dropped_examples: tuple[str, ...] = ()

    def dropped_note(self) -> str:
        """One line saying what was dropped, escaped for terminals; empty when nothing was."""
        if not self.dropped:
            return ""
        examples = ", ".join(escape_untrusted(tag, 40) for tag in self.dropped_examples)
        what = "tag that is" if self.dropped == 1 else "tags that are"
        return f"dropped {self.dropped} {what} not valid OCI tags (e.g. {examples})"


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
        kept = list(tags)
        # One pass per pattern with its bound search: every scan runs this over every tag.
        for regex in self.compiled:
            search = regex.search
            kept = [tag for tag in kept if search(tag) is None]
        return kept


def _compile_one(index: int, pattern: str) -> Any:
    import re2  # noqa: PLC0415 - only policies and exclusions need it; `tagpilot scan` does not

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

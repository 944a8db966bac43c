"""The result of running the setters over a whole update path (produced by the file adapter)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tagpilot.core.changes import ChangeSet
from tagpilot.core.setters._apply import UnknownMarker

__all__ = ["FileProblem", "TreeResult"]


@dataclass(frozen=True)
class FileProblem:
    """A file the setters had to leave alone, and why (message names file and line)."""

    file: str
    message: str


@dataclass(frozen=True)
class TreeResult:
    """One pass over an update path: changes, unified diffs of changed files, diagnostics."""

    changes: ChangeSet = field(default_factory=ChangeSet)
    diffs: dict[str, str] = field(default_factory=dict)
    problems: tuple[FileProblem, ...] = ()
    unknown: tuple[UnknownMarker, ...] = ()

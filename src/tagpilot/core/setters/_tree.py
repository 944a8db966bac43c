"""The result of running the setters over a whole update path (produced by the file adapter)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tagpilot.core.changes import ChangeSet
from tagpilot.core.setters._apply import MalformedMarker, UnknownMarker

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
    malformed: tuple[MalformedMarker, ...] = ()
    named: frozenset[str] = frozenset()
    """Every setter a marker names (``ns:policy[:field]``), known to the table or not: the
    pass read nothing else of the table but these entries (and, for ``unknown``, its keys)."""

    @property
    def diagnostics(self) -> tuple[str, ...]:
        """Every marker and file problem, one ``file:line: ...`` line each, in file order."""
        found = [(p.file, 0, p.message) for p in self.problems]
        found += [(m.file, m.line, m.describe()) for m in self.unknown]
        found += [(m.file, m.line, m.describe()) for m in self.malformed]
        return tuple(text for _, _, text in sorted(found))

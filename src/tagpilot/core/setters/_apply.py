"""Applying the setter table to one file's text: the minimal-diff rewrite.

Callers (the file walk in ``tagpilot.adapters.files``, the update reconciler) pass a
file's text and get back the new text, the change records, the markers naming setters
the table does not have, and — for files Flux would skip — the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tagpilot.core.changes import Change, ChangeRecord
from tagpilot.core.setters._locate import locate_markers
from tagpilot.core.setters._render import Splice, splice_for
from tagpilot.core.setters._table import SetterTable, setter_values

__all__ = ["MARKER_TOKEN", "FileResult", "UnknownMarker", "apply_setters", "may_hold_markers"]

MARKER_TOKEN = '"$imagepolicy"'
"""Flux screens files for this literal, double quotes included, before parsing them."""


@dataclass(frozen=True)
class UnknownMarker:
    """A marker naming a setter the table lacks (unknown policy, other namespace, typo)."""

    file: str
    line: int
    setter: str


@dataclass(frozen=True)
class FileResult:
    """What the setters did to one file.

    ``new_text`` equals the input when nothing changed or when ``problem`` says why the
    file was left alone (unparsable, or a document that is not a mapping).
    """

    new_text: str
    records: list[ChangeRecord] = field(default_factory=list)
    unknown: list[UnknownMarker] = field(default_factory=list)
    problem: str | None = None

    @property
    def changed(self) -> bool:
        """True when at least one scalar got a new value."""
        return bool(self.records)


def may_hold_markers(text: str) -> bool:
    """Flux's screen: only text containing ``"$imagepolicy"`` is ever parsed."""
    return MARKER_TOKEN in text


def apply_setters(text: str, path: str, table: SetterTable) -> FileResult:
    """Rewrite every marked scalar of ``text`` whose setter is in ``table``.

    ``path`` (relative to the update path) names the file in records and diagnostics.
    Every byte outside the changed scalars is kept.
    """
    if not may_hold_markers(text):
        return FileResult(new_text=text)
    located = locate_markers(text, path)
    if located.problem is not None:
        return FileResult(new_text=text, problem=located.problem)
    values = setter_values(table)
    records: list[ChangeRecord] = []
    unknown: list[UnknownMarker] = []
    splices: list[Splice] = []
    for scalar in located.scalars:
        new_value = values.get(scalar.setter)
        if new_value is None:
            unknown.append(UnknownMarker(path, scalar.line, scalar.setter))
        elif new_value != scalar.value:
            change = Change(scalar.value, new_value, scalar.setter)
            records.append(ChangeRecord(path, scalar.identity, change))
            splices.append(splice_for(text, scalar, new_value))
    return FileResult(_spliced(text, splices), records, unknown)


def _spliced(text: str, splices: list[Splice]) -> str:
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        text = text[: splice.start] + splice.replacement + text[splice.end :]
    return text

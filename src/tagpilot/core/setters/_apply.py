"""Applying the setter table to one file's text: the minimal-diff rewrite.

Callers (the file walk in ``tagpilot.adapters.files``, the update reconciler) pass a
file's text and get back the new text, the change records, the markers naming setters
the table does not have (with a hint at what was meant), the comments that look like
markers but update nothing, and — for files Flux would skip — the reason.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from tagpilot.core.changes import Change, ChangeRecord
from tagpilot.core.setters._locate import StrayMarker, locate_markers
from tagpilot.core.setters._markers import MARKER_KEY
from tagpilot.core.setters._render import Splice, splice_for
from tagpilot.core.setters._table import SetterTable, setter_values

__all__ = [
    "FileResult",
    "MalformedMarker",
    "UnknownMarker",
    "apply_setters",
    "may_hold_markers",
    "unknown_hint",
]

_FIELDS = ("tag", "name", "digest")
_LONGEST_KEY = 2 * 253 + 1


@dataclass(frozen=True)
class UnknownMarker:
    """A marker naming a setter the table lacks (unknown policy, other namespace, typo)."""

    file: str
    line: int
    setter: str
    hint: str = ""
    """What was probably meant, when the table suggests it (a near name, a bad field)."""

    def describe(self) -> str:
        """``file:line: ...`` for run output, status messages and events."""
        text = (
            f"{self.file}:{self.line}: marker names '{self.setter}', which matches no policy "
            "with a latest image"
        )
        return f"{text}; {self.hint}" if self.hint else text


@dataclass(frozen=True)
class MalformedMarker:
    """A comment naming ``$imagepolicy`` that updates nothing (broken JSON, wrong place)."""

    file: str
    line: int
    comment: str
    problem: str

    def describe(self) -> str:
        """``file:line: ...`` for run output, status messages and events."""
        return f"{self.file}:{self.line}: {self.problem}: {self.comment}"


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
    malformed: list[MalformedMarker] = field(default_factory=list)
    named: frozenset[str] = frozenset()
    """Every setter a marker of the file names, whether the table has it or not."""

    @property
    def changed(self) -> bool:
        """True when at least one scalar got a new value."""
        return bool(self.records)


def may_hold_markers(text: str) -> bool:
    """Flux's screen, widened: only text containing ``$imagepolicy`` is ever parsed.

    Flux screens for ``"$imagepolicy"`` with its double quotes, so a marker typed with
    typographic or single quotes never gets a look; this screen lets it be reported.
    """
    return MARKER_KEY in text


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
            hint = unknown_hint(scalar.setter, table)
            unknown.append(UnknownMarker(path, scalar.line, scalar.setter, hint))
        elif new_value != scalar.value:
            change = Change(scalar.value, new_value, scalar.setter)
            records.append(ChangeRecord(path, scalar.identity, change))
            splices.append(splice_for(text, scalar, new_value))
    malformed = [_malformed(path, stray) for stray in located.stray]
    named = frozenset(scalar.setter for scalar in located.scalars)
    return FileResult(_spliced(text, splices), records, unknown, malformed=malformed, named=named)


def _malformed(path: str, stray: StrayMarker) -> MalformedMarker:
    return MalformedMarker(path, stray.line, stray.comment, stray.problem)


def unknown_hint(setter: str, table: SetterTable) -> str:
    """What a marker naming no known policy probably meant, or ``""``."""
    namespace, _, rest = setter.partition(":")
    name, _, field_name = rest.partition(":")
    if not rest:
        return "a marker names NAMESPACE:NAME[:tag|:name|:digest], e.g. flux-system:app"
    if field_name and field_name not in _FIELDS:
        return f"unknown field '{field_name}': use :tag, :name, :digest or none"
    known = sorted(table)
    key = f"{namespace}:{name}"
    if key in table:
        return ""
    same_name = [k for k in known if k.partition(":")[2] == name]
    if same_name:
        return (
            f"the policy is known as '{same_name[0]}': an automation updates only markers "
            "of policies in its own namespace"
        )
    # Kubernetes names are at most 253 characters: a longer one is no typo of a known name,
    # and difflib's cost grows with the square of the length.
    close = difflib.get_close_matches(key, known, n=1) if len(key) <= _LONGEST_KEY else []
    if close:
        return f"did you mean '{close[0]}'?"
    return _none_known(known)


def _none_known(known: list[str]) -> str:
    if not known:
        return "no policy is known (a policy without a latest image is not known yet)"
    shown = ", ".join(known[:5]) + (", ..." if len(known) > 5 else "")
    return f"known policies: {shown}"


def _spliced(text: str, splices: list[Splice]) -> str:
    for splice in sorted(splices, key=lambda s: s.start, reverse=True):
        text = text[: splice.start] + splice.replacement + text[splice.end :]
    return text

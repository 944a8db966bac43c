"""The change set an update run produces: which file, which object, which setter, old → new.

Setters produce ``ChangeRecord`` rows; commit templates, ``--dry-run`` output, status and
run history read them through ``ChangeSet``, which offers Flux's three views
(``FileChanges``, ``Objects``, ``Changes``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Change", "ChangeRecord", "ChangeSet", "ObjectIdentity"]


@dataclass(frozen=True, order=True)
class ObjectIdentity:
    """The object a change landed in; empty strings for documents without these fields.

    Field order matters: Go sorts struct map keys field by field in this order
    (APIVersion, Kind, Name, Namespace), and templates ``range`` over them sorted.
    """

    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""


@dataclass(frozen=True)
class Change:
    """One replaced scalar: its old and new value and the setter (``ns:policy[:field]``)."""

    old_value: str
    new_value: str
    setter: str


@dataclass(frozen=True)
class ChangeRecord:
    """A ``Change`` located in a file (relative to the update path) and an object."""

    file: str
    object: ObjectIdentity
    change: Change


@dataclass(frozen=True)
class ChangeSet:
    """All changes of one run, in the order the setters found them."""

    records: tuple[ChangeRecord, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, records: Iterable[ChangeRecord]) -> ChangeSet:
        """Build a change set from any iterable of records."""
        return cls(tuple(records))

    def __bool__(self) -> bool:
        return bool(self.records)

    def files(self) -> list[str]:
        """The changed files, sorted."""
        return sorted({record.file for record in self.records})

    def file_changes(self) -> dict[str, dict[ObjectIdentity, list[Change]]]:
        """Flux's ``.Changed.FileChanges``: file → object → changes in document order."""
        result: dict[str, dict[ObjectIdentity, list[Change]]] = {}
        for record in self.records:
            result.setdefault(record.file, {}).setdefault(record.object, []).append(record.change)
        return result

    def objects(self) -> dict[ObjectIdentity, list[Change]]:
        """Flux's ``.Changed.Objects``: object → its changes across all files."""
        result: dict[ObjectIdentity, list[Change]] = {}
        for record in self.records:
            result.setdefault(record.object, []).append(record.change)
        return result

    def changes(self) -> list[Change]:
        """Flux's ``.Changed.Changes``: every change once, de-duplicated by value."""
        return list(dict.fromkeys(record.change for record in self.records))

"""The setters' file side: walk an update path, screen and rewrite marked files in place.

The update reconciler and ``tagpilot setters apply`` call ``update_tree``; it is the
only I/O around the pure ``tagpilot.core.setters``.  The walk follows Flux (``.yaml``,
``.yml`` and ``Kustomization`` names, directory symlinks not followed, dangling links
skipped, only files holding ``"$imagepolicy"`` parsed) with two hardening rules of our
own: nothing outside the root is ever read or written (a file symlink leading out is
reported, one leading inside is handled through its target when the walk reaches it),
and changed files are replaced atomically with their mode kept (temporary files that a
killed run left behind are removed first, see :mod:`tagpilot.adapters.atomic`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from tagpilot.adapters.atomic import TEMP_MARK, is_leftover, write_atomically
from tagpilot.core.changes import ChangeRecord, ChangeSet
from tagpilot.core.errors import InvalidInputError, RetryableError, SourceLocation
from tagpilot.core.setters import (
    FileProblem,
    FileResult,
    MalformedMarker,
    SetterTable,
    TreeResult,
    UnknownMarker,
    apply_setters,
)

__all__ = [
    "FileProblem",
    "FileTreeEditor",
    "TreeResult",
    "confine",
    "is_manifest_name",
    "marked_files",
    "update_tree",
]

_MARKER_BYTES = b"$imagepolicy"  # wider than Flux's screen: see core.setters.may_hold_markers


def confine(root: Path, relative: str, *, field_name: str = "update.path") -> Path:
    """Resolve ``relative`` under ``root``; refuse absolute paths and anything leading out.

    Symlinks are resolved first, so a link to a directory outside ``root`` is refused
    just like ``../elsewhere``.
    """
    location = SourceLocation(field=field_name, value=relative)
    if PurePosixPath(relative).is_absolute() or Path(relative).is_absolute():
        raise InvalidInputError(
            f"path {relative!r} is absolute; expected a path relative to the repository root",
            location=location,
        )
    try:
        real_root = root.resolve()
        target = (real_root / relative).resolve()
    except (ValueError, RuntimeError, OSError) as error:  # NUL byte, symlink loop, I/O
        raise InvalidInputError(
            f"path {relative!r} cannot be resolved ({error}); expected a directory inside "
            "the repository",
            location=location,
        ) from error
    if target != real_root and real_root not in target.parents:
        raise InvalidInputError(
            f"path {relative!r} leads outside the repository (resolves elsewhere via '..' or "
            "a symlink); expected a directory inside it",
            location=location,
        )
    return target


def is_manifest_name(name: str) -> bool:
    """Flux's file filter: ``*.yaml``, ``*.yml`` (case-sensitive) or exactly ``Kustomization``."""
    return name.endswith((".yaml", ".yml")) or name == "Kustomization"


def marked_files(
    root: Path, leftovers: list[str] | None = None
) -> Iterator[tuple[str, bytes | FileProblem]]:
    """Yield (path relative to ``root``, bytes) for every manifest holding the marker token.

    Files are visited in lexical order; a symlinked file leading outside ``root``
    yields a ``FileProblem`` instead of its bytes.  ``leftovers`` collects the paths of
    temporary files a killed write left (see :mod:`tagpilot.adapters.atomic`).
    """
    real_root = os.path.realpath(root)
    yield from _walk(real_root, real_root, "", leftovers)


def _walk(
    real_root: str, directory: str, prefix: str, leftovers: list[str] | None
) -> Iterator[tuple[str, bytes | FileProblem]]:
    with os.scandir(directory) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        relative = prefix + entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(real_root, entry.path, relative + "/", leftovers)
        elif leftovers is not None and TEMP_MARK in entry.name and is_leftover(entry.name):
            if entry.is_file(follow_symlinks=False):
                leftovers.append(entry.path)
        elif is_manifest_name(entry.name):
            found = _screen(real_root, entry, relative)
            if found is not None:
                yield relative, found


def _screen(real_root: str, entry: os.DirEntry[str], relative: str) -> bytes | FileProblem | None:
    if entry.is_symlink():
        return _linked_file_problem(real_root, entry, relative)
    if not entry.is_file(follow_symlinks=False):
        return None
    try:
        data = _read(entry.path)
    except OSError as error:
        return FileProblem(relative, f"{relative}: cannot read ({error.strerror}); skipped")
    return data if _MARKER_BYTES in data else None


def _linked_file_problem(
    real_root: str, entry: os.DirEntry[str], relative: str
) -> FileProblem | None:
    target = os.path.realpath(entry.path)
    if not os.path.isfile(target):
        return None  # dangling (or not a file): skipped, as Flux does
    if os.path.commonpath([real_root, target]) == real_root:
        return None  # handled when the walk reaches the target itself
    return FileProblem(relative, f"{relative}: symlink leads outside the update path; not read")


_CHUNK = 1 << 16  # below malloc's mmap threshold: a bigger buffer costs an mmap per file


def _read(path: str) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        # A short read of a regular file means end of file: most manifests take one call.
        chunks = [os.read(descriptor, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:
            chunks.append(os.read(descriptor, _CHUNK))
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def update_tree(root: Path, table: SetterTable, *, dry_run: bool = False) -> TreeResult:
    """Apply ``table`` to every marked file under ``root``; write changed files unless dry-run."""
    records: list[ChangeRecord] = []
    diffs: dict[str, str] = {}
    problems: list[FileProblem] = []
    unknown: list[UnknownMarker] = []
    malformed: list[MalformedMarker] = []
    real_root = Path(os.path.realpath(root))
    # Temporary files of a run killed mid-write must not be committed: the walk finds them.
    leftovers: list[str] | None = None if dry_run else []
    for relative, found in marked_files(real_root, leftovers):
        if isinstance(found, FileProblem):
            problems.append(found)
            continue
        result = _apply(relative, found, table)
        unknown.extend(result.unknown)
        malformed.extend(result.malformed)
        if result.problem is not None:
            problems.append(FileProblem(relative, result.problem))
        if result.changed:
            records.extend(result.records)
            diffs[relative] = _unified_diff(relative, found.decode("utf-8"), result.new_text)
            if not dry_run:
                _write(real_root, relative, result.new_text)
    for leftover in leftovers or ():
        Path(leftover).unlink(missing_ok=True)
    return TreeResult(
        ChangeSet.of(records), diffs, tuple(problems), tuple(unknown), tuple(malformed)
    )


def _apply(relative: str, data: bytes, table: SetterTable) -> FileResult:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"{relative}: not UTF-8 (byte {error.start}); file left untouched"
        return FileResult(new_text="", problem=message)
    return apply_setters(text, relative, table)


def _unified_diff(relative: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"a/{relative}",
        tofile=f"b/{relative}",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _write(real_root: Path, relative: str, text: str) -> None:
    try:
        write_atomically(real_root / relative, text.encode("utf-8"))
    except OSError as error:
        raise RetryableError(f"cannot write {relative}: {error.strerror}") from error


class FileTreeEditor:
    """Implements ``tagpilot.ports.TreeEditor``: confine the path, then ``update_tree``."""

    def update(
        self, root: Path, path: str, table: SetterTable, *, dry_run: bool = False
    ) -> TreeResult:
        """Apply ``table`` under ``root/path``; ``path`` may not lead out of ``root``."""
        target = confine(root, path or ".")
        if not target.exists():
            raise RetryableError(
                f"failed to apply policies: update.path '{path}' does not exist in the checkout",
                reason="UpdateFailed",
            )
        return update_tree(target, table, dry_run=dry_run)

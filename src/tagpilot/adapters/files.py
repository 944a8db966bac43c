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
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from tagpilot.adapters.atomic import write_atomically
from tagpilot.adapters.treewalk import is_manifest_name, marked_files
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


def update_tree(root: Path, table: SetterTable, *, dry_run: bool = False) -> TreeResult:
    """Apply ``table`` to every marked file under ``root``; write changed files unless dry-run."""
    records: list[ChangeRecord] = []
    diffs: dict[str, str] = {}
    problems: list[FileProblem] = []
    unknown: list[UnknownMarker] = []
    malformed: list[MalformedMarker] = []
    named: set[str] = set()
    real_root = Path(os.path.realpath(root))
    # Temporary files of a run killed mid-write must not be committed: the walk finds them.
    leftovers: list[str] | None = None if dry_run else []
    with _Writer(real_root) as writer:
        for relative, found in marked_files(real_root, leftovers):
            if isinstance(found, FileProblem):
                problems.append(found)
                continue
            result = _apply(relative, found, table)
            unknown.extend(result.unknown)
            malformed.extend(result.malformed)
            named.update(result.named)
            if result.problem is not None:
                problems.append(FileProblem(relative, result.problem))
            if result.changed:
                records.extend(result.records)
                diffs[relative] = _unified_diff(relative, found.decode("utf-8"), result.new_text)
                if not dry_run and not writer.write(relative, result.new_text):
                    break
    for leftover in leftovers or ():
        Path(leftover).unlink(missing_ok=True)
    return TreeResult(
        ChangeSet.of(records),
        diffs,
        tuple(problems),
        tuple(unknown),
        tuple(malformed),
        frozenset(named),
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


class _Writer:
    """Replaces changed files on one background thread while the walk goes on.

    A replacement is several system calls (create, write, chmod, rename; ext4 also starts
    writing back a file renamed over another), all made without the GIL, so overlapped
    with the walk a pass costs about the walk alone.  Writes keep their order.  After a
    failure the writes still queued are skipped and the walk stops, as a sequential pass
    stops at its first failed write; leaving the ``with`` block waits for the queue and
    raises that failure.  The thread starts with the first changed file: a pass that
    changes nothing starts none.
    """

    def __init__(self, real_root: Path) -> None:
        self._root = real_root
        self._pool: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._failed = threading.Event()

    def __enter__(self) -> _Writer:
        return self

    def write(self, relative: str, text: str) -> bool:
        """Queue ``relative``'s new text; False once an earlier write has failed."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="setters-write")
        self._pending.append(self._pool.submit(self._replace, relative, text))
        return not self._failed.is_set()

    def _replace(self, relative: str, text: str) -> None:
        if self._failed.is_set():
            return
        try:
            _write(self._root, relative, text)
        except BaseException:
            self._failed.set()
            raise

    def __exit__(self, error_type: object, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if error_type is None:
            for pending in self._pending:
                pending.result()  # the first failure, in file order


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

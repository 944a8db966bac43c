"""Replace a file atomically, under a temporary name that a later run recognises and removes.

A rename is atomic only within one directory's file system, so the new content is written
to a temporary file beside the target first.  A process killed between the write and the
rename leaves that file behind — after ``sops decrypt -i`` it holds the whole plaintext,
where ``git add -A`` would commit it.  Every temporary file is therefore named
``.<name>.tagpilot-tmp-<random>``, created readable by its owner only, and the commands that
write in place (``sops encrypt|decrypt -i``, ``setters apply``, the update reconciler) call
:func:`remove_leftovers` before they start.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path

__all__ = ["TEMP_MARK", "is_leftover", "remove_leftovers", "write_atomically"]

TEMP_MARK = ".tagpilot-tmp-"
"""What every temporary file's name carries after ``.<name>``."""

_LEFTOVER = re.compile(r"\..+" + re.escape(TEMP_MARK) + r"[A-Za-z0-9_]+")


def is_leftover(name: str) -> bool:
    """Whether ``name`` is one of our temporary files' names."""
    return _LEFTOVER.fullmatch(name) is not None


def write_atomically(
    path: Path, data: bytes, *, mode: int | None = None, sync: bool = False
) -> None:
    """Replace ``path`` with ``data``; keep its mode (``mode`` when it does not exist yet).

    ``sync`` flushes the data to disk before the rename, for files that must survive a
    power cut (a worktree needs no more durability than git gives it).
    """
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path, follow_symlinks=False).st_mode)
        except FileNotFoundError:
            mode = 0o644
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{TEMP_MARK}")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove_leftovers(where: Path, *, beside: str | None = None) -> list[Path]:
    """Delete our temporary files left by a killed run; return what was removed.

    With ``beside``, only the leftovers of that file name in directory ``where``; without,
    every leftover in the tree under ``where`` (``.git`` excluded, symlinks not followed).
    """
    removed: list[Path] = []
    for directory, names in _directories(where, recursive=beside is None):
        for name in names:
            wanted = name.startswith(f".{beside}{TEMP_MARK}") if beside else True
            candidate = directory / name
            if wanted and is_leftover(name) and candidate.is_file() and not candidate.is_symlink():
                candidate.unlink(missing_ok=True)
                removed.append(candidate)
    return removed


def _directories(where: Path, *, recursive: bool) -> list[tuple[Path, list[str]]]:
    if not recursive:
        try:
            return [(where, os.listdir(where))]
        except OSError:
            return []
    found = []
    for directory, subdirectories, files in os.walk(where):
        subdirectories[:] = [d for d in subdirectories if d != ".git"]
        found.append((Path(directory), files))
    return found

"""Replace a file atomically, under a temporary name that a later run recognises and removes.

A rename is atomic only within one directory's file system, so the new content is written
to a temporary file beside the target first.  A process killed between the write and the
rename leaves that file behind — after ``sops decrypt -i`` it holds the whole plaintext,
where ``git add -A`` would commit it.  Every temporary file is therefore named
``.<name>.tagpilot-tmp-<random>``, created readable by its owner only, and the commands that
write in place remove such leftovers: ``sops encrypt|decrypt -i`` with
:func:`remove_leftovers` before writing, the setters' tree walk (``setters apply``, the
update reconciler) as it meets them.
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


def remove_leftovers(directory: Path, name: str) -> list[Path]:
    """Delete the temporary files a killed write of ``directory/name`` left; return them."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for candidate_name in names:
        candidate = directory / candidate_name
        ours = candidate_name.startswith(f".{name}{TEMP_MARK}") and is_leftover(candidate_name)
        if ours and candidate.is_file() and not candidate.is_symlink():
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed

"""Where tagpilot keeps its state, and how that directory protects itself.

The state file lives in the user's state directory by default (:func:`default_state_path`,
never inside a checkout, where ``git add .`` would stage git mirrors).  A directory that
holds only tagpilot's state ignores itself (:func:`ignore_state_directory` writes a
``.gitignore`` of ``*``).  One daemon at a time owns a state directory (:class:`StateLock`).
Used by the state store, ``tagpilot run`` and the commands' ``--state`` default.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Mapping
from pathlib import Path

from tagpilot.core.errors import StalledError

__all__ = [
    "IGNORE_FILE",
    "LOCK_FILE",
    "StateInUseError",
    "StateLock",
    "default_state_path",
    "ignore_state_directory",
]

IGNORE_FILE = ".gitignore"
LOCK_FILE = "daemon.lock"
_OWN_ENTRIES = ("git", LOCK_FILE, IGNORE_FILE)
"""What tagpilot itself keeps in a state directory besides the state file and its journal."""


def default_state_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_STATE_HOME/tagpilot/state.db``, else ``~/.local/state/tagpilot/state.db``.

    A relative ``XDG_STATE_HOME`` is ignored, as the XDG base directory spec says.
    """
    env = os.environ if environ is None else environ
    base = env.get("XDG_STATE_HOME", "")
    if not base or not os.path.isabs(base):
        home = env.get("HOME") or str(Path.home())
        base = os.path.join(home, ".local", "state")
    return Path(base, "tagpilot", "state.db")


def ignore_state_directory(directory: Path, state_file: str) -> None:
    """Write ``.gitignore`` (``*``) into a directory that holds only tagpilot's state.

    A directory with other files in it (``--state ./state.db`` in a checkout's root) is
    left alone: ignoring everything there would hide the user's own files from git.
    """
    ignore = directory / IGNORE_FILE
    if ignore.exists():
        return
    own = {*_OWN_ENTRIES, state_file, f"{state_file}-wal", f"{state_file}-shm"}
    if all(entry.name in own for entry in directory.iterdir()):
        ignore.write_text("# tagpilot state: never commit it\n*\n")


class StateInUseError(StalledError):
    """Another daemon holds the state directory's lock."""


class StateLock:
    """An exclusive lock on a state directory, held by one daemon for its whole life.

    ``flock`` on ``daemon.lock``: the kernel drops it when the process ends, however it
    ends, so a killed daemon never leaves a stale lock.  The file holds the holder's PID
    for the message a second daemon prints.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / LOCK_FILE
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StateInUseError(
                f"state directory {directory} is in use by another tagpilot run (PID "
                f"{holder}); stop it, or give this one its own --state"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        """Give the lock up (the process ending does the same)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

"""Notice edits to the manifest files ``tagpilot run`` was given, without inotify.

The daemon starts one ``ManifestWatcher`` over its manifest paths; ``on_change`` reloads
the engine and hands the result to ``Scheduler.on_reload``.  Every ``poll`` seconds the
watcher fingerprints each manifest file (the same walk as the loader: ``.yaml``, ``.yml``
and ``.json`` files, hidden directories skipped, named files always) by inode, size and
mtime.  An editor saving in several steps or ``git checkout`` touching many files
calls ``on_change`` once: it waits until the files have been still for ``quiet`` seconds.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

import structlog

from tagpilot.api.loader import MANIFEST_SUFFIXES
from tagpilot.runtime.backoff import LoopTime, TimeSource

__all__ = ["ChangeCallback", "Fingerprint", "ManifestWatcher", "Snapshot", "snapshot"]

_log = structlog.get_logger(__name__)

Fingerprint = tuple[int, int, int]
"""A file's inode, size and mtime in nanoseconds."""
Snapshot = dict[str, Fingerprint | None]
"""Fingerprints by path; None for a named file that is missing or unreadable."""
ChangeCallback = Callable[[], Awaitable[None] | None]
"""What the watcher calls after a change has settled; may be a coroutine function."""


def snapshot(paths: Sequence[Path]) -> Snapshot:
    """Fingerprint every manifest file under ``paths`` right now."""
    return {str(file): _fingerprint(file) for file in _manifest_files(paths)}


def _manifest_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from _walk(path)
        else:
            yield path


def _walk(root: Path) -> Iterator[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name.endswith(MANIFEST_SUFFIXES):
                yield Path(directory, name)


def _fingerprint(file: Path) -> Fingerprint | None:
    try:
        info = file.stat()
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class ManifestWatcher:
    """Polls manifest files and calls ``on_change`` once a burst of edits has settled.

    The files are fingerprinted when the watcher is built, so build it before the first
    load: an edit between the two is then seen as a change rather than missed.
    """

    def __init__(
        self,
        paths: Sequence[Path | str],
        on_change: ChangeCallback,
        *,
        poll: float = 1.0,
        quiet: float = 0.3,
        time: TimeSource | None = None,
    ) -> None:
        if poll <= 0 or quiet < 0:
            raise ValueError("poll must be positive and quiet not negative")
        self.paths = [Path(path) for path in paths]
        self.poll = poll
        self.quiet = quiet
        self._on_change = on_change
        self._time: TimeSource = time or LoopTime()
        self._seen: Snapshot = snapshot(self.paths)
        self._changed_at: float | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling in the background (needs a running loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Stop polling; an ``on_change`` in progress is cancelled."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run(self) -> None:
        """Poll until cancelled; a failing ``on_change`` is logged and polling goes on."""
        while True:
            await self._time.sleep(self._next_wait())
            try:
                await self.check()
            except Exception:  # the watcher must outlive one bad reload
                _log.exception("manifest change handler failed", paths=[str(p) for p in self.paths])

    async def check(self) -> bool:
        """Poll once; call ``on_change`` if a change has been quiet long enough.

        Returns whether ``on_change`` was called.
        """
        # Walking a large tree must not stall the event loop (webhooks, reconciles).
        current = await asyncio.to_thread(snapshot, self.paths)
        now = self._time.now()
        if current != self._seen:
            self._seen, self._changed_at = current, now
        if self._changed_at is None or now - self._changed_at < self.quiet:
            return False
        self._changed_at = None
        result = self._on_change()
        if inspect.isawaitable(result):
            await result
        return True

    def _next_wait(self) -> float:
        # While a change settles, look again as soon as it may have been quiet long enough.
        if self._changed_at is None:
            return self.poll
        remaining = self._changed_at + self.quiet - self._time.now()
        return min(self.poll, max(remaining, 0.0))

"""Run git processes so that a stopping daemon can end its network reads at once.

A daemon told to stop (SIGTERM, Ctrl-C) must not wait out a repository's ``spec.timeout``
for a fetch from a server that stopped answering.  :data:`NETWORK_WAITS` keeps the git
processes that only read from a remote (fetch, ls-remote, clone); :meth:`NetworkWaits.stop`
kills them (with their helpers, e.g. ``git-remote-https`` or ``ssh``: each git runs in a
session of its own) and refuses new ones.  Pushes and local commands are never tracked, so
a push in flight finishes or fails on its own, and the remote never sees half of one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NETWORK_READS", "NETWORK_WAITS", "Finished", "NetworkWaits", "StoppingError", "spawn"]

NETWORK_READS = frozenset({"fetch", "ls-remote", "clone"})
"""Git commands that only read from a remote: safe to cut short."""


class StoppingError(Exception):
    """A network read was cut short (or refused) because the process is stopping."""


@dataclass(frozen=True)
class Finished:
    """What a git process left behind."""

    returncode: int
    stdout: str
    stderr: str


class NetworkWaits:
    """The live network reads, and whether the process is stopping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = False
        self._live: set[subprocess.Popen[str]] = set()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (and :meth:`reset` was not since)."""
        return self._stopping

    def stop(self) -> int:
        """Kill every network read in flight and refuse new ones; how many were killed."""
        with self._lock:
            self._stopping = True
            live = list(self._live)
        for process in live:
            _kill_group(process)
        return len(live)

    def reset(self) -> None:
        """Allow network reads again (a daemon starting in a process that stopped one)."""
        with self._lock:
            self._stopping = False

    def _enter(self, process: subprocess.Popen[str]) -> bool:
        with self._lock:
            if self._stopping:
                return False
            self._live.add(process)
            return True

    def _leave(self, process: subprocess.Popen[str]) -> bool:
        """Forget ``process``; True when it was stopped on purpose."""
        with self._lock:
            self._live.discard(process)
            return self._stopping


NETWORK_WAITS = NetworkWaits()
"""The process's one registry: the daemon stops it when it is told to stop."""


def spawn(
    args: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    stdin: str | None,
    timeout: float,
) -> Finished:
    """Run ``git args...`` to the end; raise ``subprocess.TimeoutExpired`` or StoppingError."""
    tracked = bool(args) and args[0] in NETWORK_READS
    if tracked and NETWORK_WAITS.stopping:
        raise StoppingError(f"git {args[0]} not started: tagpilot is stopping")
    process = subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its helpers (remote-https, ssh) die with it on a stop
    )
    if tracked and not NETWORK_WAITS._enter(process):
        _kill_group(process)
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        process.communicate()
        raise
    finally:
        stopped = NETWORK_WAITS._leave(process) if tracked else False
    if tracked and stopped and process.returncode != 0:
        raise StoppingError(f"git {args[0]} cut short: tagpilot is stopping")
    return Finished(process.returncode, stdout, stderr)


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)

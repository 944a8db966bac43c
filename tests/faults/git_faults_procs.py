"""Process helpers for the kill -9 and secrets-sweep tests: start, kill, watch argv.

:func:`start_tagpilot` runs the CLI in its own session (so its git and ssh children share
one process group); :func:`group_members` and :func:`wait_group_gone` read ``/proc``;
:class:`ArgvSampler` records the command line of every process in a group every few
milliseconds while a run is in flight.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from e2e.e2e_support import tagpilot_env

__all__ = ["ArgvSampler", "family", "group_members", "start_tagpilot", "wait_group_gone"]


def start_tagpilot(
    args: Sequence[str], *, cwd: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``python -m tagpilot args...`` as a session leader, output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tagpilot", *args], cwd=cwd, env=env or tagpilot_env(),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _stat(pid: str) -> tuple[int, int] | None:
    """``(ppid, pgrp)`` of a live, non-zombie process, else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # state, ppid, pgrp, ...
    return None if fields[0] == "Z" else (int(fields[1]), int(fields[2]))


def _process_table() -> dict[int, tuple[int, int]]:
    table = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (found := _stat(pid)) is not None:
            table[int(pid)] = found
    return table


def group_members(group: int) -> list[int]:
    """The live (non-zombie) processes whose process group is ``group``."""
    return [pid for pid, (_, pgrp) in _process_table().items() if pgrp == group]


def family(root: int) -> list[int]:
    """``root``, its descendants (even in other sessions) and the rest of its process group."""
    table = _process_table()
    members = {pid for pid, (_, pgrp) in table.items() if pgrp == root}
    members.add(root)
    grew = True
    while grew:
        children = {pid for pid, (ppid, _) in table.items() if ppid in members}
        grew = not children <= members
        members |= children
    return sorted(pid for pid in members if pid in table)


def wait_group_gone(group: int, seconds: float = 30) -> None:
    """Wait until no process of ``group`` is left (orphans finishing their work)."""
    deadline = time.monotonic() + seconds
    while group_members(group):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"processes of group {group} still running: {group_members(group)}"
            )
        time.sleep(0.02)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


class ArgvSampler:
    """Samples the argv of ``root`` and all its descendants every ``period`` seconds."""

    def __init__(self, root: int, period: float = 0.01) -> None:
        self.root, self.period = root, period
        self.seen: set[bytes] = set()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ArgvSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            for pid in family(self.root):
                argv = _cmdline(pid)
                if argv:
                    self.seen.add(argv)
            self.samples += 1
            self._stop.wait(self.period)

    def argv_lines(self) -> list[str]:
        """Every distinct command line seen, NULs shown as spaces."""
        return sorted(argv.replace(b"\0", b" ").decode(errors="replace") for argv in self.seen)

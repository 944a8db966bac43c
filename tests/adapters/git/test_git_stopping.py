"""A stopping daemon cuts git's network reads short, never a push, and refuses new reads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagpilot.adapters.git.stopping import NETWORK_READS, NETWORK_WAITS, StoppingError, spawn


@pytest.fixture(autouse=True)
def _reset_after() -> Iterator[None]:
    yield
    NETWORK_WAITS.reset()


@pytest.mark.parametrize(
    ("command", "cut_short"),
    [("fetch", True), ("ls-remote", True), ("clone", True), ("push", False), ("commit", False)],
    ids=str,
)
def test_only_network_reads_are_cut_short(command: str, cut_short: bool) -> None:
    assert (command in NETWORK_READS) is cut_short


def test_stop_cuts_a_hung_ls_remote_short_at_once(silent_remote: str, tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def read() -> None:
        try:
            spawn(["ls-remote", "--", silent_remote], cwd=tmp_path, env={"HOME": str(tmp_path),
                  "PATH": "/usr/bin:/bin"}, stdin=None, timeout=60)  # fmt: skip
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=read)
    worker.start()
    time.sleep(1.0)  # git has connected and waits for an answer that never comes
    started = time.monotonic()
    assert NETWORK_WAITS.stop() == 1
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert time.monotonic() - started < 5
    assert len(errors) == 1 and isinstance(errors[0], StoppingError), errors
    assert "stopping" in str(errors[0])


def test_after_a_stop_new_reads_are_refused_until_reset(tmp_path: Path) -> None:
    NETWORK_WAITS.stop()
    with pytest.raises(StoppingError, match="not started"):
        spawn(["fetch", "--", "http://127.0.0.1:9/none.git"], cwd=tmp_path, env={},
              stdin=None, timeout=5)  # fmt: skip
    local = spawn(["--version"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}, stdin=None,
                  timeout=5)  # fmt: skip
    assert local.returncode == 0, "commands that are not network reads still run"
    NETWORK_WAITS.reset()
    assert not NETWORK_WAITS.stopping

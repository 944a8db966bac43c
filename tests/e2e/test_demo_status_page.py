"""``make demo`` shows the status page: in a terminal it waits for Enter, elsewhere it ends.

The demo runs as its own process (``python -m demo``), with a pseudo-terminal as its
standard input for the interactive case.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import httpx
import pytest
from e2e_support import ROOT, tagpilot_env

ADDRESS = re.compile(rb"status page: (http://127\.0\.0\.1:\d+/status)")


def _read_until(fd: int, pattern: bytes, seconds: float) -> bytes:
    """What ``fd`` gives until ``pattern`` appears (or the time is up)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while pattern not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_in_a_terminal_the_demo_keeps_the_daemon_up_until_enter() -> None:
    leader, follower = pty.openpty()
    demo = subprocess.Popen(
        [sys.executable, "-m", "demo"], cwd=ROOT, env=tagpilot_env(),
        stdin=follower, stdout=follower, stderr=subprocess.STDOUT,
    )  # fmt: skip
    os.close(follower)
    try:
        output = _read_until(leader, b"press Enter", 120)
        found = ADDRESS.search(output)
        assert found is not None, output.decode(errors="replace")[-3000:]
        time.sleep(1)
        assert demo.poll() is None, "the demo must wait for Enter"
        page = httpx.get(found[1].decode(), timeout=5)
        assert page.status_code == 200
        assert "blaster-dev-policy" in page.text
        os.write(leader, b"\n")
        rest = _read_until(leader, b"daemon exited with", 60)
        assert demo.wait(timeout=60) == 0, rest.decode(errors="replace")
        assert b"daemon exited with 0" in rest
    finally:
        if demo.poll() is None:
            demo.kill()
        os.close(leader)


@pytest.mark.slow
def test_without_a_terminal_the_demo_prints_the_address_and_ends() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "demo"], cwd=ROOT, env=tagpilot_env(),
        stdin=subprocess.DEVNULL, capture_output=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout.decode(errors="replace")[-3000:]
    assert ADDRESS.search(done.stdout) is not None
    assert b"press Enter" not in done.stdout

"""The daemon's log: plain tracebacks without local variables, and no flood of repeats."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from tagpilot.runtime.logs import BURST, RepeatLimiter, configure_logging, install_loop_handler

SECRET = "hunter2-in-a-local-variable"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_identical_lines_beyond_the_burst_are_counted_and_reported_once() -> None:
    clock = Clock()
    limiter = RepeatLimiter(burst=3, window=10.0, clock=clock)
    written = [limiter.admit("accept() out of system resource") for _ in range(1000)]
    assert [w for w, _ in written].count(True) == 3
    assert limiter.admit("another line") == (True, 0)
    clock.now = 10.0
    assert limiter.admit("accept() out of system resource") == (True, 997)


def _fails_with_a_secret_local() -> None:
    password = SECRET  # a local variable a pretty traceback would print
    raise RuntimeError(f"failed with {len(password)} characters")


@pytest.mark.parametrize("log_format", ["console", "json"])
def test_an_exception_is_logged_without_local_variables(
    capsys: pytest.CaptureFixture[str], log_format: str
) -> None:
    configure_logging(log_format, 0)
    try:
        _fails_with_a_secret_local()
    except RuntimeError:
        structlog.get_logger("tagpilot").exception("reconcile crashed")
    err = capsys.readouterr().err
    assert "failed with 27 characters" in err
    assert SECRET not in err


def test_a_flood_of_one_asyncio_error_writes_a_few_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", 0)
    loop = asyncio.new_event_loop()
    try:
        install_loop_handler(loop)
        error = OSError(24, "Too many open files")
        for _ in range(5000):
            loop.call_exception_handler(
                {"message": "socket.accept() out of system resource", "exception": error}
            )
    finally:
        loop.close()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == BURST
    assert lines[0]["message"] == "socket.accept() out of system resource"
    assert lines[0]["error"] == "OSError: [Errno 24] Too many open files"


def test_uvicorns_repeated_warnings_are_limited_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("console", 0)
    for _ in range(500):
        logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")
    assert capsys.readouterr().err.count("Invalid HTTP request received.") == BURST

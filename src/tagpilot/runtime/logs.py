"""The daemon's logging: structlog lines, never local variables, never a flood.

``tagpilot run`` calls :func:`configure_logging` once.  Lines are key/value console text or
one JSON object each.  Exceptions render as a plain traceback (rich's pretty tracebacks
print every frame's local variables, which may hold tokens and passwords).  A line that
repeats — the same event with the same fields, e.g. a hostile client provoking the same
warning thousands of times a second — is written at most :data:`BURST` times per
:data:`WINDOW_SECONDS`; the first line after a quiet spell says how many were dropped.
asyncio's and uvicorn's own warnings go through the same limiter.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import structlog

__all__ = [
    "BURST",
    "WINDOW_SECONDS",
    "RepeatLimiter",
    "configure_logging",
    "install_loop_handler",
]

BURST = 5
"""Identical lines written per window before the rest are counted instead."""
WINDOW_SECONDS = 10.0

_log = structlog.get_logger("tagpilot")
_IGNORED_FIELDS = frozenset({"timestamp", "level"})


class RepeatLimiter:
    """Counts identical lines per window; says whether to write each one."""

    def __init__(
        self,
        burst: int = BURST,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst, self.window, self._clock = burst, window, clock
        self._seen: dict[str, tuple[float, int]] = {}

    def admit(self, line: str) -> tuple[bool, int]:
        """Whether to write ``line``, and how many of it were dropped before (to report)."""
        now = self._clock()
        started, count = self._seen.get(line, (now, 0))
        if now - started >= self.window:
            dropped = max(count - self.burst, 0)
            self._seen[line] = (now, 1)
            return True, dropped
        self._seen[line] = (started, count + 1)
        if len(self._seen) > 10_000:  # many distinct lines: forget the old windows
            self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.window}
        return count < self.burst, 0


def _limit_repeats(limiter: RepeatLimiter) -> structlog.types.Processor:
    def processor(
        logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        identity = repr(sorted((k, repr(v)) for k, v in event.items() if k not in _IGNORED_FIELDS))
        write, dropped = limiter.admit(f"{method}:{identity}")
        if not write:
            raise structlog.DropEvent
        if dropped:
            event["repeats_dropped"] = dropped
        return event

    return processor


class _StdlibFilter(logging.Filter):
    """The same limiter for stdlib loggers (uvicorn's warnings)."""

    def __init__(self, limiter: RepeatLimiter) -> None:
        super().__init__()
        self._limiter = limiter

    def filter(self, record: logging.LogRecord) -> bool:
        write, dropped = self._limiter.admit(f"{record.name}:{record.levelno}:{record.msg}")
        if write and dropped:
            record.msg = f"{record.msg} ({dropped} identical lines dropped)"
        return write


def configure_logging(log_format: str, verbose: int) -> None:
    """structlog to stderr: key/value console lines or one JSON object per line."""
    level = logging.DEBUG if verbose > 0 else logging.INFO
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    limiter = RepeatLimiter()
    processors: list[structlog.types.Processor] = [
        structlog.processors.add_log_level,
        _limit_repeats(limiter),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if log_format == "json":
        processors.append(structlog.processors.format_exc_info)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_StdlibFilter(limiter))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)


def install_loop_handler(loop: asyncio.AbstractEventLoop) -> None:
    """Route asyncio's own errors (``accept() out of system resource``...) through the log,
    one line each, under the repeat limit."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        _log.warning(
            "event loop", message=str(context.get("message", "")),
            error=f"{type(error).__name__}: {error}" if error is not None else None,
        )  # fmt: skip

    loop.set_exception_handler(handle)

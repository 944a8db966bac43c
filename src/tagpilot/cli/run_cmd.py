"""``tagpilot run PATH...``: the daemon — reconcile forever, watch the manifests, serve HTTP."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click
import structlog

from tagpilot.cli.app import build_app, engine_options
from tagpilot.core.errors import InvalidInputError
from tagpilot.runtime.daemon import DaemonOptions, run_daemon

__all__ = ["configure_logging", "run_command"]


def configure_logging(log_format: str, verbose: int) -> None:
    """structlog to stderr: key/value console lines or one JSON object per line."""
    level = logging.DEBUG if verbose > 0 else logging.INFO
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInputError(
            f"--http-address {value!r}: expected HOST:PORT, e.g. 127.0.0.1:9797"
        )
    return host.strip("[]"), int(port)


@click.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@engine_options
@click.option(
    "--http-address",
    default="127.0.0.1:9797",
    show_default=True,
    help="Where to serve /healthz, /readyz, /metrics, webhooks and the API.",
)
@click.option(
    "--concurrent",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Objects reconciled at once.",
)
@click.option(
    "--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True
)
@click.option("-v", "--verbose", count=True, help="More logging.")
def run_command(
    paths: tuple[Path, ...],
    state: Path,
    age_key_file: Path | None,
    http_address: str,
    concurrent: int,
    log_format: str,
    verbose: int,
    exclude: tuple[str, ...] = (),
) -> None:
    """Load the manifests under PATH..., reconcile every object on its interval, serve HTTP.

    An edited manifest reloads its objects; SIGTERM finishes in-flight work and exits 0.
    """
    configure_logging(log_format, verbose)
    host, port = _address(http_address)
    options = DaemonOptions(host=host, port=port, concurrency=concurrent)
    asyncio.run(_main(paths, state, age_key_file, options, exclude))


def _log_left_out(problems: list[InvalidInputError]) -> None:
    for problem in problems:
        structlog.get_logger().error("manifest file left out", problem=str(problem))


async def _main(
    paths: tuple[Path, ...],
    state: Path,
    age_key_file: Path | None,
    options: DaemonOptions,
    exclude: tuple[str, ...],
) -> None:
    app = build_app(
        list(paths),
        state=state,
        age_key_file=age_key_file,
        exclude=exclude,
        on_problems=_log_left_out,
    )
    try:
        await run_daemon(app.engine, app.paths, options)
    finally:
        await app.aclose()

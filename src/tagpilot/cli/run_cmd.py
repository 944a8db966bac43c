"""``tagpilot run PATH...``: the daemon — reconcile forever, watch the manifests, serve HTTP."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click
import structlog

from tagpilot.adapters.state_dir import StateLock
from tagpilot.cli.app import build_app, engine_options
from tagpilot.core.errors import InvalidInputError
from tagpilot.runtime.daemon import DaemonOptions, run_daemon
from tagpilot.runtime.logs import configure_logging
from tagpilot.server.access import TOKEN_ENV, is_loopback, read_token

__all__ = ["address", "run_command"]


def address(value: str, option: str = "--http-address") -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or len(port) > 5 or int(port) > 65535:
        raise InvalidInputError(f"{option} {value!r}: expected HOST:PORT, e.g. 127.0.0.1:9797")
    return host.strip("[]"), int(port)


def _options(
    http_address: str, api_address: str | None, api_token_file: Path | None, concurrent: int
) -> DaemonOptions:
    host, port = address(http_address)
    token = read_token(api_token_file, os.environ)
    api_host, api_port = address(api_address, "--api-address") if api_address else (None, 0)
    if api_host is not None and not is_loopback(api_host) and token is None:
        raise InvalidInputError(
            f"--api-address {api_address}: the control API on a non-loopback address needs "
            f"a token (--api-token-file FILE or {TOKEN_ENV})"
        )
    return DaemonOptions(
        host=host, port=port, concurrency=concurrent,
        api_host=api_host, api_port=api_port, api_token=token,
    )  # fmt: skip


@click.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@engine_options
@click.option(
    "--http-address",
    default="127.0.0.1:9797",
    show_default=True,
    help="Where to serve /healthz, /readyz, /metrics, webhooks (and the API, to loopback "
    "clients, unless --api-address is given).",
)
@click.option(
    "--api-address",
    help="Serve the control API (/api/...) here instead, e.g. 127.0.0.1:9798; a "
    "non-loopback address needs a token.",
)
@click.option(
    "--api-token-file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help=f"A token the control API requires (also {TOKEN_ENV}); clients send it as "
    "'Authorization: Bearer <token>' (the CLI reads TAGPILOT_API_TOKEN or "
    "TAGPILOT_API_TOKEN_FILE).",
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
    api_address: str | None,
    api_token_file: Path | None,
    concurrent: int,
    log_format: str,
    verbose: int,
    exclude: tuple[str, ...] = (),
) -> None:
    """Load the manifests under PATH..., reconcile every object on its interval, serve HTTP.

    An edited manifest reloads its objects.  SIGTERM or Ctrl-C cancels scans at once, lets
    a git push in flight finish and exits 0; a second Ctrl-C exits at once.  One daemon
    per state directory: a second one refuses to start.
    """
    configure_logging(log_format, verbose)
    options = _options(http_address, api_address, api_token_file, concurrent)
    lock = StateLock(state.absolute().parent)
    try:
        asyncio.run(_main(paths, state, age_key_file, options, exclude))
    finally:
        lock.release()


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

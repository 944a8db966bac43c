"""What ``tagpilot scan`` does once its arguments are known: list, then print.

Used by the click command (``scan``) and by the quick start (``scan_argv``), which parses
``tagpilot scan``'s arguments itself.  Nothing here imports click, asyncio or httpx: tags come
from the synchronous lister on ``http.client``; only through a proxy (``--proxy`` or the
environment) does the async client list them.  Tags are printed one per line in the order the
registry returns them (as crane does); ``-o json`` prints the canonical name and the tags.
On a terminal a spinner appears on stderr when the listing takes more than half a second
(rich is loaded only then).
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tagpilot.adapters.registry.blocking import can_list_directly, scan_blocking
from tagpilot.adapters.registry.credentials import Credentials
from tagpilot.adapters.registry.limits import Limits
from tagpilot.adapters.registry.tls import TLSConfig
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.goduration import parse_go_duration
from tagpilot.core.imageref import Repository, parse_repository
from tagpilot.core.tags import ScannedTags

__all__ = ["ScanRequest", "run_scan"]

_SPINNER_DELAY_SECONDS = 0.5


@dataclass(frozen=True)
class ScanRequest:
    """``tagpilot scan``'s arguments, as given (files are paths, the timeout is text)."""

    image: str
    docker_config: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False
    proxy: str | None = None
    timeout: str = "30s"
    output: str = "text"


def _timeout_seconds(text: str) -> float:
    try:
        return parse_go_duration(text, allow_hours=False) / 1e9
    except ValueError as error:
        location = SourceLocation(field="--timeout", value=text)
        raise InvalidInputError(str(error), location=location) from error


def _read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def _tls(ca_file: str | None, cert_file: str | None, key_file: str | None) -> TLSConfig | None:
    if not (ca_file or cert_file or key_file):
        return None
    source = ca_file or cert_file or key_file or ""
    return TLSConfig(
        ca_pem=_read(ca_file), cert_pem=_read(cert_file), key_pem=_read(key_file), source=source
    )


def _through_proxy(
    repository: Repository,
    url: str | None,
    credentials: Credentials | None,
    tls: TLSConfig | None,
    timeout: float,
) -> ScannedTags:
    """The listing through a proxy, with the async client (httpx speaks every proxy kind)."""
    import asyncio  # noqa: PLC0415 - only through a proxy: the direct path needs no event loop

    from tagpilot.adapters.registry.client import Proxy, RegistryClient  # noqa: PLC0415

    proxy = None
    if url:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        address = parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")).geturl()
        username = urllib.parse.unquote(parts.username) if parts.username else None
        password = urllib.parse.unquote(parts.password) if parts.password else None
        proxy = Proxy(address, username, password)

    async def listing() -> ScannedTags:
        insecure = repository.scheme == "http"
        client = RegistryClient(
            credentials=credentials,
            tls=tls,
            insecure=insecure,
            timeout=timeout,
            limits=Limits(),
            proxy=proxy,
        )
        async with client:
            return await client.scan_tags(repository)

    return asyncio.run(listing())


def _with_spinner(work: Callable[[], ScannedTags], label: str) -> ScannedTags:
    """``work()``; on a terminal, a spinner on stderr once it takes more than half a second."""
    if not sys.stderr.isatty():
        return work()
    outcome: list[ScannedTags] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=run, name="scan", daemon=True)
    worker.start()
    worker.join(_SPINNER_DELAY_SECONDS)
    if worker.is_alive():
        from rich.console import Console  # noqa: PLC0415 - tens of ms; only for slow listings

        with Console(stderr=True).status(label):
            worker.join()
    if failure:
        raise failure[0]
    return outcome[0]


def _echo(text: str, *, err: bool = False) -> None:
    """One line on stdout (or stderr), flushed, as ``click.echo`` writes it."""
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _render(repository: Repository, scanned: ScannedTags, output: str) -> None:
    if scanned.dropped:
        _echo(f"warning: {repository}: {scanned.dropped_note()}", err=True)
    tags = list(scanned.tags)
    if output == "json":
        document = {"canonicalImageName": repository.canonical_name, "tags": tags}
        _echo(json.dumps(document, indent=2))
        return
    if tags:
        _echo("\n".join(tags))


def run_scan(request: ScanRequest) -> None:
    """List the tags of ``request.image`` and print them; raise a ``TagpilotError`` on failure."""
    repository = parse_repository(request.image, insecure=request.insecure, field="IMAGE")
    if request.insecure:
        _echo(
            f"warning: --insecure: plain HTTP to {repository.registry} is allowed; "
            "tags and credentials may travel unencrypted",
            err=True,
        )
    config = request.docker_config
    credentials = Credentials.from_docker_config_file(config) if config else None
    tls = _tls(request.ca_file, request.cert_file, request.key_file)
    seconds = _timeout_seconds(request.timeout)

    def work() -> ScannedTags:
        if can_list_directly(request.proxy):
            return scan_blocking(
                repository, credentials=credentials, tls=tls, timeout=seconds, limits=Limits()
            )
        return _through_proxy(repository, request.proxy, credentials, tls, seconds)

    _render(repository, _with_spinner(work, f"listing tags of {repository}"), request.output)

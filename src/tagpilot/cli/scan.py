"""``tagpilot scan IMAGE``: list a repository's tags, like ``crane ls``.

Tags are printed one per line in the order the registry returns them (as crane does; Flux
sorts them only when it stores them).  ``-o json`` prints the canonical image name and the
tags.  Credentials come only from ``--docker-config`` (anonymous otherwise), TLS material from
``--ca-file``/``--cert-file``/``--key-file``.  On a terminal a spinner appears on stderr when
the listing takes more than half a second.  Tags that break the OCI tag grammar are not
printed: one warning on stderr counts them, with a few escaped examples.

Only what a listing needs is imported: the synchronous lister on ``http.client`` and click,
no asyncio, no httpx, so the command starts fast.  Through a proxy (``--proxy`` or the
environment) the async client lists instead.  rich is loaded only when a spinner is shown.
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import click

from tagpilot.adapters.registry.blocking import can_list_directly, scan_blocking
from tagpilot.adapters.registry.credentials import Credentials
from tagpilot.adapters.registry.limits import Limits
from tagpilot.adapters.registry.tls import TLSConfig
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.goduration import parse_go_duration
from tagpilot.core.imageref import Repository, parse_repository
from tagpilot.core.tags import ScannedTags

__all__ = ["scan"]

_SPINNER_DELAY_SECONDS = 0.5


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


def _render(repository: Repository, scanned: ScannedTags, output: str) -> None:
    if scanned.dropped:
        click.echo(f"warning: {repository}: {scanned.dropped_note()}", err=True)
    tags = list(scanned.tags)
    if output == "json":
        document = {"canonicalImageName": repository.canonical_name, "tags": tags}
        click.echo(json.dumps(document, indent=2))
        return
    if tags:
        click.echo("\n".join(tags))


@click.command("scan")
@click.argument("image")
@click.option(
    "--docker-config",
    type=click.Path(exists=True, dir_okay=False),
    help="Docker config.json with credentials (auths, credHelpers, credsStore).",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Extra CA certificate (PEM) trusted for the registry, added to the system store.",
)
@click.option(
    "--cert-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Client certificate (PEM) for mTLS; needs --key-file.",
)
@click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Client private key (PEM) for mTLS; needs --cert-file.",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Talk plain HTTP to the registry (not 'skip TLS verification').",
)
@click.option(
    "--proxy",
    metavar="URL",
    help="HTTP(S) proxy, e.g. http://user:pass@proxy:3128 (overrides HTTPS_PROXY).",
)
@click.option(
    "--timeout", default="30s", show_default=True, help="Time limit for auth + listing (ms, s, m)."
)
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def scan(
    *,
    image: str,
    docker_config: str | None,
    ca_file: str | None,
    cert_file: str | None,
    key_file: str | None,
    insecure: bool,
    proxy: str | None,
    timeout: str,
    output: str,
) -> None:
    """List the tags of IMAGE (a repository, no tag), in the registry's order, like crane ls."""
    repository = parse_repository(image, insecure=insecure, field="IMAGE")
    if insecure:
        click.echo(
            f"warning: --insecure: plain HTTP to {repository.registry} is allowed; "
            "tags and credentials may travel unencrypted",
            err=True,
        )
    credentials = Credentials.from_docker_config_file(docker_config) if docker_config else None
    tls = _tls(ca_file, cert_file, key_file)
    seconds = _timeout_seconds(timeout)

    def work() -> ScannedTags:
        if can_list_directly(proxy):
            return scan_blocking(
                repository, credentials=credentials, tls=tls, timeout=seconds, limits=Limits()
            )
        return _through_proxy(repository, proxy, credentials, tls, seconds)

    _render(repository, _with_spinner(work, f"listing tags of {repository}"), output)

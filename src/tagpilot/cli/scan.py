"""``tagpilot scan IMAGE``: list a repository's tags, like ``crane ls``.

Tags are printed one per line in the order the registry returns them (as crane does; Flux
sorts them only when it stores them).  ``-o json`` prints the canonical image name and the
tags.  Credentials come only from ``--docker-config`` (anonymous otherwise), TLS material from
``--ca-file``/``--cert-file``/``--key-file``.  On a terminal a spinner appears on stderr when
the listing takes more than half a second.  Tags that break the OCI tag grammar are not
printed: one warning on stderr counts them, with a few escaped examples.

Only what a listing needs is imported (the registry client, click), so the command starts
fast; rich is loaded only when a spinner is actually shown.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.parse
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from tagpilot.adapters.registry import Credentials, Limits, Proxy, RegistryClient, TLSConfig
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.goduration import parse_go_duration
from tagpilot.core.imageref import Repository, parse_repository
from tagpilot.core.tags import ScannedTags

__all__ = ["scan"]

_SPINNER_DELAY_SECONDS = 0.5
_T = TypeVar("_T")


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


def _proxy(url: str | None) -> Proxy | None:
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    address = parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")).geturl()
    username = urllib.parse.unquote(parts.username) if parts.username else None
    password = urllib.parse.unquote(parts.password) if parts.password else None
    return Proxy(address, username, password)


async def _with_spinner(work: Coroutine[Any, Any, _T], label: str) -> _T:
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=_SPINNER_DELAY_SECONDS)
    if done or not sys.stderr.isatty():
        return await task
    from rich.console import Console  # noqa: PLC0415 - tens of ms; only for slow listings

    with Console(stderr=True).status(label):
        return await task


async def _list(client: RegistryClient, repository: Repository) -> ScannedTags:
    async with client:
        return await _with_spinner(client.scan_tags(repository), f"listing tags of {repository}")


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
    client = RegistryClient(
        credentials=Credentials.from_docker_config_file(docker_config) if docker_config else None,
        tls=_tls(ca_file, cert_file, key_file),
        insecure=insecure,
        timeout=_timeout_seconds(timeout),
        limits=Limits(),
        proxy=_proxy(proxy),
    )
    _render(repository, asyncio.run(_list(client, repository)), output)

"""``tagpilot scan IMAGE``: list a repository's tags, like ``crane ls``.

Tags are printed one per line in the order the registry returns them (as crane does; Flux
sorts them only when it stores them).  ``-o json`` prints the canonical image name and the
tags.  Credentials come only from ``--docker-config`` (anonymous otherwise), TLS material from
``--ca-file``/``--cert-file``/``--key-file``.  On a terminal a spinner appears on stderr when
the listing takes more than half a second.  Tags that break the OCI tag grammar are not
printed: one warning on stderr counts them, with a few escaped examples.

The listing itself is ``scan_work.run_scan``; this module is its click face (options, help,
usage errors).  ``tagpilot scan`` usually starts without it: ``scan_argv`` parses the usual
arguments itself and leaves anything else (help, mistakes) to this command.
"""

from __future__ import annotations

import click

from tagpilot.cli.scan_work import ScanRequest, run_scan

__all__ = ["scan"]


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
    run_scan(
        ScanRequest(
            image=image,
            docker_config=docker_config,
            ca_file=ca_file,
            cert_file=cert_file,
            key_file=key_file,
            insecure=insecure,
            proxy=proxy,
            timeout=timeout,
            output=output,
        )
    )

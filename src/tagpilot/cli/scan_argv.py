"""``tagpilot scan``'s quick start: its usual arguments parsed without click.

Importing click costs about as much as the listing itself.  :func:`run_quick` parses the
arguments a listing is normally started with (``IMAGE`` and the options, in ``--opt value``,
``--opt=value`` and ``-ojson`` forms) and runs it; for anything else (``--help``, an unknown
or repeated option, a missing value, a file that is not there, a choice click would refuse)
it returns ``None`` and the click command handles the whole command line, so help and usage
errors read exactly as they always do.  Errors of the listing itself are printed as the
command group prints them: ``error: ...``, exit 1, or 2 for bad input.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from tagpilot.cli.scan_work import ScanRequest, run_scan
from tagpilot.core.errors import TagpilotError

__all__ = ["parse_quick", "run_quick"]

_FILES = {
    "--docker-config": "docker_config",
    "--ca-file": "ca_file",
    "--cert-file": "cert_file",
    "--key-file": "key_file",
}
_VALUES = {**_FILES, "--proxy": "proxy", "--timeout": "timeout", "--output": "output"}
_OUTPUTS = ("text", "json")


def _split(args: Sequence[str]) -> dict[str, str | bool] | None:
    """Option name → value (``True`` for ``--insecure``) plus ``image``; ``None``: ask click."""
    found: dict[str, str | bool] = {}
    pending = list(args)
    while pending:
        token = pending.pop(0)
        if token.startswith("-o") and not token.startswith("--") and len(token) > 2:
            name, value = "--output", token[2:]
        elif token == "-o":
            name, value = "--output", ""
        elif token.startswith("--") and "=" in token:
            name, _, value = token.partition("=")
            if not value:
                return None  # an empty value: click says what is wrong with it
        elif token.startswith("-"):
            name, value = token, ""
        else:
            name, value = "image", token
        if name in found:
            return None  # a repeated option or a second IMAGE: click's rules apply
        if name == "--insecure" and token == name:
            found[name] = True
            continue
        if name in _VALUES and not value:
            if not pending or pending[0].startswith("-"):
                return None
            value = pending.pop(0)
        if name != "image" and name not in _VALUES:
            return None
        found[name] = value
    return found


def _usable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def parse_quick(args: Sequence[str]) -> ScanRequest | None:
    """The request ``tagpilot scan ARGS`` makes, or ``None`` when click must parse ``args``."""
    found = _split(args)
    if found is None or not isinstance(found.get("image"), str):
        return None
    fields = {_VALUES[name]: value for name, value in found.items() if name in _VALUES}
    if any(not _usable_file(str(fields[field])) for field in _FILES.values() if field in fields):
        return None
    if fields.get("output", "text") not in _OUTPUTS:
        return None
    return ScanRequest(
        image=str(found["image"]),
        insecure=found.get("--insecure") is True,
        **{field: str(value) for field, value in fields.items()},
    )


def run_quick(args: Sequence[str]) -> int | None:
    """Run ``tagpilot scan ARGS``; its exit code, or ``None`` when click must run it instead."""
    request = parse_quick(args)
    if request is None:
        return None
    try:
        run_scan(request)
    except TagpilotError as error:
        from tagpilot.cli.errors import exit_code_for  # noqa: PLC0415 - click, failures only

        sys.stderr.write(f"error: {error}\n")
        return exit_code_for(error)
    except KeyboardInterrupt:
        sys.stderr.write("Aborted!\n")  # as click says it
        return 1
    except BrokenPipeError:
        # the reader went away (``| head``): say nothing more, as click does
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces stdout until exit
        return 1
    return 0

"""``tagpilot setters apply``: run the image setters over a directory without a cluster.

The command parses ``--policy NS:NAME=IMAGE[:TAG][@DIGEST]`` flags into a setter table,
calls ``tagpilot.adapters.files.update_tree`` and renders the result as text or JSON: the
changes, then everything left alone — markers naming no given policy (with a hint), comments
that look like markers but are not (typographic quotes, broken JSON, a marker in a place
Flux never reads) and files that could not be read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from tagpilot.adapters.files import TreeResult, update_tree
from tagpilot.core.changes import ChangeRecord
from tagpilot.core.errors import InvalidInputError, RetryableError, SourceLocation
from tagpilot.core.setters import PolicyTarget

__all__ = ["PolicyFlag", "apply", "parse_policy_flag", "result_as_json", "setters"]

_POLICY_KEY = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?:[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_IMAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(?::[0-9]+)?(?:/[a-z0-9][a-z0-9._-]*)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_EXPECTED = "expected NS:NAME=IMAGE:TAG[@DIGEST] or NS:NAME=IMAGE@DIGEST"


def parse_policy_flag(value: str) -> tuple[str, PolicyTarget]:
    """Split ``ns:name=image[:tag][@digest]`` into the table key and its target.

    The tag is what follows the last ``:`` after the last ``/``, so a registry port
    (``localhost:5000/app``) is never mistaken for a tag.  Raises ``ValueError``.
    """
    key, separator, reference = value.partition("=")
    if not separator or not _POLICY_KEY.fullmatch(key):
        raise ValueError(f"policy must be NAMESPACE:NAME before '='; {_EXPECTED}")
    name_and_tag, at, digest = reference.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise ValueError(f"digest {digest!r} is not ALGORITHM:HEX; {_EXPECTED}")
    name, tag = _split_tag(name_and_tag)
    if not _IMAGE_NAME.fullmatch(name):
        raise ValueError(f"image name {name!r} is not valid; {_EXPECTED}")
    if tag and not _TAG.fullmatch(tag):
        raise ValueError(f"tag {tag!r} is not a valid image tag; {_EXPECTED}")
    if not tag and not digest:
        raise ValueError(f"image has neither a tag nor a digest; {_EXPECTED}")
    return key, PolicyTarget(name=name, tag=tag, digest=digest)


def _split_tag(name_and_tag: str) -> tuple[str, str]:
    colon = name_and_tag.rfind(":")
    if colon > name_and_tag.rfind("/"):
        return name_and_tag[:colon], name_and_tag[colon + 1 :]
    return name_and_tag, ""


class PolicyFlag(click.ParamType[tuple[str, PolicyTarget], str]):
    """The ``--policy`` value type: bad values are a usage error (exit 2) naming the value."""

    name = "NS:NAME=IMAGE[:TAG][@DIGEST]"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, PolicyTarget]:
        """Parse one flag value or fail with the reason."""
        if isinstance(value, tuple):
            return value
        try:
            return parse_policy_flag(str(value))
        except ValueError as error:
            self.fail(f"{value!r}: {error}", param, ctx)


@click.group()
def setters() -> None:
    """Apply Flux image setters ({"$imagepolicy": ...} markers) to YAML files."""


@setters.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=PolicyFlag(),
    help="A policy's latest image, e.g. flux-system:app=registry:5000/app:1.2.3 (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Print the unified diff; write nothing.")
@click.option(
    "-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def apply(
    path: Path, policies: tuple[tuple[str, PolicyTarget], ...], dry_run: bool, output: str
) -> None:
    """Rewrite the values marked for the given policies under PATH, keeping every other byte."""
    if not path.is_dir():  # /dev/null and other special files pass click's file_okay check
        raise InvalidInputError(
            "not a directory: setters apply walks a directory of manifests",
            location=SourceLocation(str(path)),
        )
    try:
        result = update_tree(path, dict(policies), dry_run=dry_run)
    except OSError as error:
        where = error.filename or path
        raise RetryableError(f"cannot read {where}: {error.strerror}") from error
    if output == "json":
        click.echo(json.dumps(result_as_json(result, dry_run=dry_run), indent=2))
    else:
        _print_text(result, dry_run=dry_run)


def result_as_json(result: TreeResult, *, dry_run: bool = False) -> dict[str, object]:
    """The ``-o json`` document: changes, unknown markers, problems (and diffs on dry-run)."""
    document: dict[str, object] = {
        "changes": [_change_json(record) for record in result.changes.records],
        "unknownMarkers": [
            {"file": m.file, "line": m.line, "setter": m.setter, "hint": m.hint}
            for m in result.unknown
        ],
        "malformedMarkers": [
            {"file": m.file, "line": m.line, "comment": m.comment, "problem": m.problem}
            for m in result.malformed
        ],
        "problems": [{"file": p.file, "message": p.message} for p in result.problems],
    }
    if dry_run:
        document["diffs"] = result.diffs
    return document


def _change_json(record: ChangeRecord) -> dict[str, object]:
    identity = record.object
    return {
        "file": record.file,
        "old": record.change.old_value,
        "new": record.change.new_value,
        "setter": record.change.setter,
        "object": {
            "apiVersion": identity.api_version,
            "kind": identity.kind,
            "name": identity.name,
            "namespace": identity.namespace,
        },
    }


def _print_text(result: TreeResult, *, dry_run: bool) -> None:
    if dry_run:
        for diff in result.diffs.values():
            click.echo(diff, nl=False)
    for record in result.changes.records:
        change = record.change
        click.echo(f"{record.file}: {change.old_value} -> {change.new_value} ({change.setter})")
    for marker in result.unknown:
        hint = f" ({marker.hint})" if marker.hint else ""
        click.echo(
            f"warning: {marker.file}:{marker.line}: no policy for setter {marker.setter}; "
            f"left unchanged{hint}",
            err=True,
        )
    for malformed in result.malformed:
        click.echo(f"warning: {malformed.describe()}", err=True)
    for problem in result.problems:
        click.echo(f"warning: {problem.message}", err=True)
    click.echo(_summary(result, dry_run=dry_run))


def _summary(result: TreeResult, *, dry_run: bool) -> str:
    changes, files = len(result.changes.records), len(result.diffs)
    text = (
        f"{changes} change{'s' if changes != 1 else ''} in {files} file{'s' if files != 1 else ''}"
    )
    return f"{text} (dry run: nothing written)" if dry_run else text

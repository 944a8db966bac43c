"""``tagpilot template render``: render a commit message template the way Flux would.

Reads the template (inline or from a file), the changes as JSON (a list of
``{"file", "apiVersion", "kind", "name", "namespace", "old", "new", "setter"}``, the
shape ``setters apply -o json`` reports) and optional ``messageTemplateValues`` as a JSON
object, and prints the message exactly as it would be committed (no newline is added).
Wired into the main CLI by ``tagpilot.cli.main``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tagpilot.cli.errors import GuardedGroup
from tagpilot.core.changes import Change, ChangeRecord, ChangeSet, ObjectIdentity
from tagpilot.core.errors import InvalidInputError, SourceLocation
from tagpilot.core.message import CommitTemplateError, render_commit_message

__all__ = ["DEFAULT_AUTOMATION", "load_changes", "load_values", "render", "template"]

DEFAULT_AUTOMATION = "flux-system/flux-system"
_REQUIRED = ("file", "old", "new", "setter")
_IDENTITY = ("apiVersion", "kind", "name", "namespace")


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        location = SourceLocation(file=str(path), line=error.lineno)
        raise InvalidInputError(f"not valid JSON: {error.msg}", location=location) from None
    except (OSError, UnicodeDecodeError) as error:
        location = SourceLocation(file=str(path))
        raise InvalidInputError(f"cannot read the file: {error}", location=location) from None


def _string_field(path: Path, row: dict[str, object], index: int, key: str) -> str:
    value = row.get(key, "")
    if not isinstance(value, str):
        location = SourceLocation(file=str(path), field=f"[{index}].{key}", value=repr(value))
        raise InvalidInputError("expected a string", location=location)
    return value


def _record(path: Path, row: object, index: int) -> ChangeRecord:
    if not isinstance(row, dict):
        location = SourceLocation(file=str(path), field=f"[{index}]", value=repr(row)[:80])
        raise InvalidInputError("expected an object with file, old, new, setter", location=location)
    missing = [key for key in _REQUIRED if key not in row]
    if missing:
        location = SourceLocation(file=str(path), field=f"[{index}]")
        raise InvalidInputError(f"missing key(s): {', '.join(missing)}", location=location)
    text = {key: _string_field(path, row, index, key) for key in (*_REQUIRED, *_IDENTITY)}
    identity = ObjectIdentity(text["apiVersion"], text["kind"], text["name"], text["namespace"])
    change = Change(text["old"], text["new"], text["setter"])
    return ChangeRecord(text["file"], identity, change)


def load_changes(path: Path) -> ChangeSet:
    """Read CHANGES.json into a change set; malformed input raises ``InvalidInputError``."""
    rows = _read_json(path)
    if not isinstance(rows, list):
        location = SourceLocation(file=str(path), value=type(rows).__name__)
        raise InvalidInputError("expected a JSON list of changes", location=location)
    return ChangeSet.of(_record(path, row, index) for index, row in enumerate(rows))


def load_values(path: Path) -> dict[str, str]:
    """Read VALUES.json (an object of string values, like ``messageTemplateValues``)."""
    values = _read_json(path)
    if not isinstance(values, dict):
        location = SourceLocation(file=str(path), value=type(values).__name__)
        raise InvalidInputError("expected a JSON object of string values", location=location)
    for key, value in values.items():
        if not isinstance(value, str):
            location = SourceLocation(file=str(path), field=key, value=repr(value))
            raise InvalidInputError("expected a string value", location=location)
    return values


def _automation(text: str) -> tuple[str, str]:
    namespace, _, name = text.partition("/")
    if not namespace or not name or "/" in name:
        location = SourceLocation(field="--automation", value=text)
        raise InvalidInputError("expected NAMESPACE/NAME", location=location)
    return namespace, name


def _template_text(inline: str | None, file: Path | None) -> str:
    if (inline is None) == (file is None):
        raise click.UsageError("give exactly one of --template and --template-file")
    if file is None:
        assert inline is not None
        return inline
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        location = SourceLocation(file=str(file))
        raise InvalidInputError(f"cannot read the template: {error}", location=location) from None


@click.group(cls=GuardedGroup)
def template() -> None:
    """Work with commit message templates (Go text/template with Sprig, as Flux)."""


@template.command()
@click.option("--template", "inline", metavar="T", help="The template text.")
@click.option(
    "--template-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="F",
    help="Read the template from a file.",
)
@click.option(
    "--changes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    metavar="CHANGES.json",
    help='JSON list of {"file","apiVersion","kind","name","namespace","old","new","setter"}.',
)
@click.option(
    "--values",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="VALUES.json",
    help="JSON object used as .Values (messageTemplateValues).",
)
@click.option(
    "--automation",
    default=DEFAULT_AUTOMATION,
    show_default=True,
    metavar="NS/NAME",
    help="The ImageUpdateAutomation, as .AutomationObject.",
)
def render(
    inline: str | None,
    template_file: Path | None,
    changes: Path,
    values: Path | None,
    automation: str,
) -> None:
    """Print the commit message exactly as it would be committed (no newline added)."""
    source = _template_text(inline, template_file)
    try:
        message = render_commit_message(
            source,
            automation=_automation(automation),
            changes=load_changes(changes),
            values=load_values(values) if values is not None else None,
        )
    except CommitTemplateError as error:
        raise InvalidInputError(error.message, reason=error.reason) from None
    click.echo(message, nl=False)

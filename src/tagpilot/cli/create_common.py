"""What every ``tagpilot create`` command shares: common flags, metadata, output.

Used by :mod:`tagpilot.cli.create` (image and source objects) and
:mod:`tagpilot.cli.create_secret` (Secrets).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from tagpilot.api.duration import Duration, parse_go_duration
from tagpilot.api.export import export_objects
from tagpilot.api.kinds import AnyObject
from tagpilot.api.problems import problems_from
from tagpilot.cli.create_flags import parse_labels, validate_object_name
from tagpilot.cli.secret_sops import SopsExport
from tagpilot.core.errors import InvalidInputError

__all__ = [
    "NO_STORE_MESSAGE",
    "GoDuration",
    "build_object",
    "common_options",
    "finish",
    "interval_option",
    "object_metadata",
    "text_flags",
]

NO_STORE_MESSAGE = "tagpilot has no object store yet: use --export to print the manifest"

F = TypeVar("F", bound=Callable[..., Any])


class GoDuration(click.ParamType):  # type: ignore[type-arg]
    """A click parameter holding a Go duration (``1m``, ``90s``, ``1.5h``)."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Duration:
        """Parse ``value``; click reports a bad one as a usage error (exit 2)."""
        if isinstance(value, Duration):
            return value
        try:
            return Duration.of(nanoseconds=parse_go_duration(str(value)))
        except ValueError as error:
            self.fail(f"time: invalid duration {value!r}: {error}", param, ctx)


def common_options(command: F) -> F:
    """The flags every ``create`` command shares (Flux's persistent ``create`` flags)."""
    command = click.option("--export", is_flag=True, help="Export in YAML format to stdout.")(
        command
    )
    command = click.option(
        "--label",
        "labels",
        multiple=True,
        help="Set labels on the resource (label1=value1,label2=value2).",
    )(command)
    return click.option(
        "-n",
        "--namespace",
        default="flux-system",
        show_default=True,
        help="The namespace of the object.",
    )(command)


def text_flags(*specs: tuple[str, ...]) -> Callable[[F], F]:
    """String flags defaulting to ``""``: ``(flag, help)`` or ``(flag, help, parameter name)``."""

    def apply(command: F) -> F:
        for flag, help_text, *dest in reversed(specs):
            command = click.option(flag, *dest, default="", help=help_text)(command)
        return command

    return apply


def interval_option(command: F) -> F:
    return click.option(
        "--interval",
        type=GoDuration(),
        default="1m",
        show_default=True,
        help="Source sync interval.",
    )(command)


def object_metadata(name: str, namespace: str, labels: tuple[str, ...]) -> dict[str, Any]:
    validate_object_name(name)
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    parsed = parse_labels(labels)
    if parsed:
        metadata["labels"] = parsed
    return metadata


def build_object(model: type[AnyObject], document: dict[str, Any]) -> AnyObject:
    """Validate a document assembled from flags; problems become one input error."""
    try:
        return model.model_validate(document)
    except ValidationError as error:
        detail = "; ".join(problem.describe() for problem in problems_from(error, model))
        raise InvalidInputError(f"invalid {model.KIND}: {detail}") from None


def finish(obj: AnyObject, export: bool, sops: SopsExport | None = None) -> None:
    exported = export_objects([obj])
    if sops is not None:
        exported = sops.apply(exported, export=export)
    if not export:  # a missing flag is bad usage (exit 2), like any other flag error
        raise InvalidInputError(NO_STORE_MESSAGE)
    click.echo(exported, nl=False)

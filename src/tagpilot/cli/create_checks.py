"""Checks ``tagpilot create`` makes that Flux's CLI leaves to the controllers.

A semver range that does not parse and a commit template that does not parse, or that uses
a field Flux removed (``.Updated``, ``.Changed.ImageResult``), would be written out and fail
only at reconcile time; here they are refused at once (exit 2) with the parsers the
reconcilers use, so what ``create`` prints is what ``reconcile`` accepts.
"""

from __future__ import annotations

from tagpilot.core.changes import Change, ChangeRecord, ChangeSet, ObjectIdentity
from tagpilot.core.errors import InvalidInputError
from tagpilot.core.message import (
    RemovedTemplateFieldError,
    TemplateExecutionError,
    TemplateParseError,
    render_commit_message,
)
from tagpilot.core.semver import Constraints, SemverError

__all__ = ["check_commit_template", "check_semver_range"]

# One change of each shape, so a trial render walks into ``range`` bodies as a real run would.
_SAMPLE_CHANGES = ChangeSet.of(
    [
        ChangeRecord(
            "deploy.yaml",
            ObjectIdentity("apps/v1", "Deployment", "app", "default"),
            Change("registry.example/app:1.0.0", "registry.example/app:1.0.1", "default:app"),
        )
    ]
)


def check_semver_range(flag: str, text: str) -> None:
    """Refuse a ``--select-semver`` range the policy would stall on."""
    try:
        Constraints.parse(text)
    except SemverError as error:
        raise InvalidInputError(f"{flag}: {error}") from None  # the error quotes the range


def check_commit_template(flag: str, template: str) -> None:
    """Refuse a template that does not parse or uses a field Flux removed.

    Other execution errors depend on the data of a real run (``.Values``, a change's
    fields), so they are left to reconcile time, where Flux reports them too.
    """
    try:
        render_commit_message(
            template, automation=("default", "automation"), changes=_SAMPLE_CHANGES, values={}
        )
    except (TemplateParseError, RemovedTemplateFieldError) as error:
        raise InvalidInputError(f"{flag}: {error}") from None
    except TemplateExecutionError:
        return

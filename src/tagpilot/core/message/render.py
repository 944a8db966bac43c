"""Renders a commit message from an ImageUpdateAutomation's template and a change set.

The one entry point the rest of tagpilot uses (the git commit step and
``tagpilot template render``).  Mirrors Flux's ``templateMsg``: empty template → the
default message; parse errors → "unable to create commit message template from spec";
execution errors → "failed to run template from spec", except uses of the removed
``.Updated`` / ``.Changed.ImageResult`` fields, which become ``RemovedTemplateFieldError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tagpilot.core.changes import ChangeSet
from tagpilot.core.message.data import build_template_data
from tagpilot.core.message.execute import Limits, execute
from tagpilot.core.message.failures import (
    EngineExecError,
    EngineSyntaxError,
    RemovedTemplateFieldError,
    TemplateExecutionError,
    TemplateParseError,
)
from tagpilot.core.message.functions import FUNCTIONS
from tagpilot.core.message.nodes import Program
from tagpilot.core.message.parser import parse

__all__ = ["DEFAULT_MESSAGE_TEMPLATE", "RenderLimits", "render_commit_message"]

DEFAULT_MESSAGE_TEMPLATE = "Update from image update automation"

_REMOVED_FIELDS = (
    (".Updated", "can't evaluate field Updated in type source.TemplateData"),
    (".Changed.ImageResult", "can't evaluate field ImageResult in type update.Result"),
)


@dataclass(frozen=True)
class RenderLimits:
    """Bounds on rendering user-supplied templates (Go has none; we must not hang).

    ``max_output_bytes`` caps the message and every intermediate string; ``max_steps``
    caps the work (each node, call and loop iteration is a step; long string
    arguments cost extra); ``max_template_bytes`` caps the template source.
    """

    max_output_bytes: int = 64 * 1024
    max_steps: int = 100_000
    max_template_bytes: int = 64 * 1024


def _parse_or_fail(template: str, limits: RenderLimits) -> Program:
    try:
        size = len(template.encode())
    except UnicodeEncodeError as error:  # a lone surrogate, e.g. from a "\ud800" YAML escape
        detail = f"template is not valid Unicode text (character {error.start})"
        raise TemplateParseError(EngineSyntaxError(detail, 1)) from None
    if size > limits.max_template_bytes:
        detail = f"template is {size} bytes, more than the limit of {limits.max_template_bytes}"
        raise TemplateParseError(EngineSyntaxError(detail, 1))
    try:
        return parse(template, FUNCTIONS)
    except EngineSyntaxError as error:
        raise TemplateParseError(error) from None


def _removed_field(error: EngineExecError) -> str | None:
    text = str(error)
    return next((field for field, pattern in _REMOVED_FIELDS if pattern in text), None)


def render_commit_message(
    template: str | None,
    *,
    automation: tuple[str, str],
    changes: ChangeSet,
    values: Mapping[str, str] | None,
    limits: RenderLimits = RenderLimits(),
) -> str:
    """Render ``template`` (Go text/template + Sprig) for ``automation`` = (namespace, name).

    Raises ``TemplateParseError``, ``TemplateExecutionError`` (also when a limit is
    exhausted) or ``RemovedTemplateFieldError``; all are ``StalledError``s.
    """
    source = template or DEFAULT_MESSAGE_TEMPLATE
    tree = _parse_or_fail(source, limits)
    data = build_template_data(automation, changes, values)
    bounds = Limits(limits.max_output_bytes, limits.max_steps, limits.max_output_bytes)
    try:
        return execute(source, tree, data, FUNCTIONS, bounds)
    except EngineExecError as error:
        removed = _removed_field(error)
        if removed is not None:
            raise RemovedTemplateFieldError(removed) from None
        raise TemplateExecutionError(error) from None

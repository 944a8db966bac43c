"""Errors of the commit message template engine and the Flux-worded errors around it.

The engine raises ``EngineSyntaxError`` (parse) and ``EngineExecError`` (execution,
including exhausted limits); ``render`` turns them into ``CommitTemplateError`` subclasses
worded like Flux's image-automation-controller, which callers and the CLI see.
"""

from __future__ import annotations

from tagpilot.core.errors import StalledError

__all__ = [
    "TEMPLATE_NAME",
    "CommitTemplateError",
    "EngineExecError",
    "EngineLimitError",
    "EngineSyntaxError",
    "RemovedTemplateFieldError",
    "TemplateExecutionError",
    "TemplateParseError",
]

TEMPLATE_NAME = "commit message"
_DOCS = "See: https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template"


class EngineSyntaxError(Exception):
    """The template source is malformed; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"template: {TEMPLATE_NAME}:{line}: {message}")
        self.detail = message
        self.line = line


class EngineExecError(Exception):
    """Executing the template failed at ``context`` (a node's text), ``line``:``column``."""

    def __init__(self, message: str, *, line: int, column: int, context: str) -> None:
        where = f"template: {TEMPLATE_NAME}:{line}:{column}"
        super().__init__(f'{where}: executing "{TEMPLATE_NAME}" at <{context}>: {message}')
        self.detail = message


class EngineLimitError(EngineExecError):
    """A resource limit (output size, steps, value size) was exhausted."""


class CommitTemplateError(StalledError):
    """A commit message template cannot be rendered; the spec has to change."""

    reason = "GitOperationFailed"


class TemplateParseError(CommitTemplateError):
    """The template does not parse (Flux: "unable to create commit message template")."""

    def __init__(self, cause: EngineSyntaxError) -> None:
        super().__init__(f"unable to create commit message template from spec: {cause}")


class TemplateExecutionError(CommitTemplateError):
    """The template parsed but failed while running (Flux: "failed to run template")."""

    def __init__(self, cause: EngineExecError) -> None:
        super().__init__(f"failed to run template from spec: {cause}")
        self.limit_exceeded = isinstance(cause, EngineLimitError)


class RemovedTemplateFieldError(CommitTemplateError):
    """The template uses ``.Updated`` or ``.Changed.ImageResult``, removed in the v1 API."""

    reason = "RemovedTemplateField"

    def __init__(self, field: str) -> None:
        super().__init__(_removed_field_message(field))
        self.field = field


def _removed_field_message(field: str) -> str:
    if field == ".Updated":
        return f"template uses removed '.Updated' field. Please use '.Changed' instead. {_DOCS}"
    if field == ".Changed.ImageResult":
        return (
            "template uses removed '.Changed.ImageResult' field. Please use "
            f"'.Changed.FileChanges' or '.Changed.Objects' instead. {_DOCS}"
        )
    return f"template uses removed '{field}' field. {_DOCS}"

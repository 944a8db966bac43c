"""What an update run tells the user besides "pushed" or "up-to-date".

Flux leaves a marked value alone without a word when its marker is broken, names no
policy, or sits in a file it cannot read; and it pushes a tag that goes backwards as happily
as one that goes forwards.  The update reconciler collects all of that here, as one
``file:line: ...`` line per finding, and puts it in the Ready message, a Warning event and
the run's output (``Outcome.warnings``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tagpilot.api.image import ImagePolicy
from tagpilot.api.meta import NamespacedName
from tagpilot.core.changes import ChangeRecord
from tagpilot.core.errors import TagpilotError
from tagpilot.core.policy.lint import backwards_move
from tagpilot.core.setters import TreeResult
from tagpilot.ports import FlowResult
from tagpilot.reconcile.image_policy import compile_image_policy
from tagpilot.reconcile.outcome import Event

__all__ = [
    "REASON_NEEDS_ATTENTION",
    "pushed_summary",
    "ready_message",
    "update_warnings",
    "warning_event",
]

REASON_NEEDS_ATTENTION = "NeedsAttention"
"""Event reason: the run succeeded, but markers, files or a backwards move need a look."""

_SHOWN_IN_MESSAGE = 3


def update_warnings(
    tree: TreeResult, policies: Mapping[NamespacedName, ImagePolicy], update_path: str = ""
) -> tuple[str, ...]:
    """Every finding of the setters' pass, then every change that moves a tag backwards.

    File names are made relative to the repository by prefixing ``update_path``.
    """
    moves = [found for record in tree.changes.records if (found := _backwards(record, policies))]
    base = _base(update_path)
    return tuple(f"{base}{finding}" for finding in (*tree.diagnostics, *moves))


def _base(update_path: str) -> str:
    parts = [part for part in update_path.split("/") if part not in ("", ".")]
    return "/".join(parts) + "/" if parts else ""


def _backwards(record: ChangeRecord, policies: Mapping[NamespacedName, ImagePolicy]) -> str:
    namespace, _, rest = record.change.setter.partition(":")
    name, _, field_name = rest.partition(":")
    policy = policies.get(NamespacedName(namespace, name))
    if policy is None or field_name not in ("", "tag"):
        return ""
    try:
        compiled = compile_image_policy(policy)
    except TagpilotError:
        return ""
    old, new = _tag_of(record.change.old_value), _tag_of(record.change.new_value)
    found = backwards_move(compiled.policer, compiled.tag_filter, old, new)
    return f"{record.file}: ImagePolicy {namespace}/{name}: {found}" if found else ""


def _tag_of(value: str) -> str:
    """The tag of ``name:tag[@digest]`` (or of a bare tag, which is itself)."""
    reference = value.split("@", 1)[0]
    colon = reference.rfind(":")
    return reference[colon + 1 :] if colon > reference.rfind("/") else reference


def pushed_summary(result: FlowResult) -> str:
    """Flux's first line after a push: ``pushed commit '<sha7>' to branch '<branch>'``."""
    short = (result.pushed_commit or "")[:7]
    text = f"pushed commit '{short}' to branch '{result.pushed_branch}'"
    if result.refspecs:
        text += " and refspecs " + ", ".join(f"'{r}'" for r in result.refspecs)
    return text


def ready_message(base: str, warnings: Sequence[str]) -> str:
    """``base``, followed by how many findings need attention and the first few."""
    if not warnings:
        return base
    shown = "; ".join(warnings[:_SHOWN_IN_MESSAGE])
    more = len(warnings) - _SHOWN_IN_MESSAGE
    tail = f"; and {more} more" if more > 0 else ""
    count = f"{len(warnings)} problem{'s' if len(warnings) != 1 else ''}"
    return f"{base}; {count} need{'s' if len(warnings) == 1 else ''} attention: {shown}{tail}"


def warning_event(warnings: Sequence[str], *, repeated: bool) -> Event | None:
    """A Warning event listing every finding; a repeat of the last run's is only traced."""
    if not warnings:
        return None
    kind = "Trace" if repeated else "Warning"
    return Event(kind, REASON_NEEDS_ATTENTION, "\n".join(warnings))

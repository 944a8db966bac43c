"""What ``diff kustomization`` shows: per object created, drifted (with a unified diff) or deleted.

The live object and the result of a server-side dry-run apply are compared without the fields
the API server keeps for itself (``status``, ``metadata.managedFields``, ``resourceVersion``,
``generation``, ``uid``, ``creationTimestamp``): a dry run of an unchanged object can move
none of what is left, so any difference there is a change the next apply would make.

A ``v1`` Secret never shows its values, encrypted or not.  As ``flux diff`` does, a value
present on both sides and equal is printed as ``***``; one that changed is ``*** (before)``
on the live side and ``*** (after)`` on the merged side, so the diff says *that* it changed
and never *what* it was or becomes.  ``kubectl.kubernetes.io/last-applied-configuration``
(which holds a client-side-applied Secret whole) is masked the same way.

The output follows ``flux diff kustomization``: ``► Kind/namespace/name created``,
``► … drifted`` followed by the diff, ``► … deleted`` for what pruning would remove; the
summary line counts every action.  Pure: no I/O.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tagpilot.api.goyaml import emit_document

__all__ = [
    "CHANGED_AFTER",
    "CHANGED_BEFORE",
    "MASK",
    "SERVER_METADATA",
    "DiffAction",
    "ObjectDiff",
    "compare",
    "has_changes",
    "mask_secret_pair",
    "render",
    "stripped",
    "summary",
]

MASK = "***"
"""A Secret value the same on both sides."""
CHANGED_BEFORE = "*** (before)"
"""A Secret value that changes, on the live side."""
CHANGED_AFTER = "*** (after)"
"""A Secret value that changes, on the merged side."""
SERVER_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")
"""``metadata`` fields the API server owns, left out of the comparison."""
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_SECRET_FIELDS = ("data", "stringData")


class DiffAction(enum.StrEnum):
    """What the next apply would do to one object."""

    CREATED = "created"
    DRIFTED = "drifted"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ObjectDiff:
    """One object's verdict; ``diff`` is the unified diff of a drifted object."""

    ref: str
    action: DiffAction
    diff: str = ""


def stripped(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without ``status`` and the server's own ``metadata`` fields."""
    body = {k: v for k, v in obj.items() if k != "status"}
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        body["metadata"] = {k: v for k, v in metadata.items() if k not in SERVER_METADATA}
    return body


def _is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret"


def _masked_values(
    live: Mapping[str, Any], merged: Mapping[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """Both sides' values as masks: equal → ``***``, changed → before/after, one-sided → ``***``."""
    left: dict[str, str] = {}
    right: dict[str, str] = {}
    for key in live:
        left[key] = MASK if key not in merged or live[key] == merged[key] else CHANGED_BEFORE
    for key in merged:
        right[key] = MASK if key not in live or live[key] == merged[key] else CHANGED_AFTER
    return left, right


def _last_applied(obj: Mapping[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if isinstance(annotations, Mapping) and LAST_APPLIED in annotations:
        return {LAST_APPLIED: annotations[LAST_APPLIED]}
    return {}


def _with_annotation(obj: dict[str, Any], masked: Mapping[str, str]) -> dict[str, Any]:
    if not masked:
        return obj
    metadata = obj["metadata"]
    return {**obj, "metadata": {**metadata, "annotations": {**metadata["annotations"], **masked}}}


def mask_secret_pair(
    live: Mapping[str, Any], merged: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides of a ``v1`` Secret with every value masked (other kinds are returned as
    they are); a changed value is marked on both sides."""
    left, right = dict(live), dict(merged)
    if not (_is_secret(live) or _is_secret(merged)):
        return left, right
    for field in _SECRET_FIELDS:
        before = live.get(field)
        after = merged.get(field)
        before = before if isinstance(before, Mapping) else {}
        after = after if isinstance(after, Mapping) else {}
        masked_before, masked_after = _masked_values(before, after)
        if field in live:
            left[field] = masked_before
        if field in merged:
            right[field] = masked_after
    # A client-side kubectl apply left the whole Secret in this annotation.
    masked_before, masked_after = _masked_values(_last_applied(live), _last_applied(merged))
    return _with_annotation(left, masked_before), _with_annotation(right, masked_after)


def _yaml_lines(obj: Mapping[str, Any]) -> list[str]:
    return emit_document(obj).splitlines(keepends=True)


def compare(ref: str, live: Mapping[str, Any] | None, merged: Mapping[str, Any]) -> ObjectDiff:
    """The verdict on one object: created when there is no live copy, unchanged when the
    stripped objects are equal, else drifted with the (masked) unified diff live → merged."""
    if live is None:
        return ObjectDiff(ref, DiffAction.CREATED)
    before, after = stripped(live), stripped(merged)
    if before == after:
        return ObjectDiff(ref, DiffAction.UNCHANGED)
    before, after = mask_secret_pair(before, after)
    lines = difflib.unified_diff(
        _yaml_lines(before), _yaml_lines(after), fromfile=f"{ref} (live)",
        tofile=f"{ref} (merged)",
    )  # fmt: skip
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if not text:  # equal once masked: only the encoding of a Secret value moved
        return ObjectDiff(ref, DiffAction.UNCHANGED)
    return ObjectDiff(ref, DiffAction.DRIFTED, text)


def has_changes(diffs: Iterable[ObjectDiff]) -> bool:
    """Whether the next apply would change anything (``diff``'s exit code 1)."""
    shown = (DiffAction.CREATED, DiffAction.DRIFTED, DiffAction.DELETED)
    return any(d.action in shown for d in diffs)


def render(diffs: Sequence[ObjectDiff]) -> str:
    """flux's lines: ``► ref created|drifted|deleted``, a drifted object's diff after its line;
    unchanged and skipped objects print nothing."""
    out = []
    for item in diffs:
        if item.action in (DiffAction.UNCHANGED, DiffAction.SKIPPED):
            continue
        out.append(f"► {item.ref} {item.action}\n")
        if item.diff:
            out.append(item.diff)
    return "".join(out)


def summary(diffs: Sequence[ObjectDiff]) -> str:
    """One line counting the actions, e.g. ``1 created, 2 drifted, 0 deleted, 5 unchanged``."""
    counts = {action: 0 for action in DiffAction}
    for item in diffs:
        counts[item.action] += 1
    order = [DiffAction.CREATED, DiffAction.DRIFTED, DiffAction.DELETED, DiffAction.UNCHANGED]
    parts = [f"{counts[a]} {a}" for a in order]
    if counts[DiffAction.SKIPPED]:
        parts.append(f"{counts[DiffAction.SKIPPED]} skipped")
    return ", ".join(parts)

"""The JSON merge patch (RFC 7386) that turns one document into another.

The cluster status writer sends an object's whole new status as a merge patch; a field the
new status no longer has must be sent as ``null`` or the API server keeps it.  Lists are
replaced whole (merge patches cannot edit a list), mappings are compared key by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["merge_patch", "union"]


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """The smallest merge patch taking ``old`` to ``new``; empty when they are equal."""
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            nested = merge_patch(before, value)
            if nested:
                patch[key] = nested
        elif key not in old or before != value:
            patch[key] = _without_nulls(value)
    return patch


def union(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """Both documents' keys, nested mappings merged, ``second`` winning on conflicts.

    A writer whose view of the live document may lag its own last write diffs against the
    union of the two, so every key either may hold is removed when it must be.
    """
    merged: dict[str, Any] = dict(first)
    for key, value in second.items():
        before = merged.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            merged[key] = union(before, value)
        else:
            merged[key] = value
    return merged


def _without_nulls(value: Any) -> Any:
    # In a merge patch a null means "delete": a null inside a new value must not be sent.
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value

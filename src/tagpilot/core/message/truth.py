"""Go template truthiness: which values make ``if``, ``with``, ``and``, ``or`` and ``not`` true.

False are: ``false``, 0, nil, empty strings, slices and maps, and ``<no value>``;
structs are always true.  Used by the executor and the built-in functions.
"""

from __future__ import annotations

from tagpilot.core.message.data import NO_VALUE, GoStruct

__all__ = ["is_true"]


def is_true(value: object) -> bool:
    """Go's ``template.IsTrue`` for our value model."""
    if value is NO_VALUE or value is None:
        return False
    if isinstance(value, GoStruct):
        return True
    if isinstance(value, (bool, int, float, complex)):
        return value != 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value) > 0
    return True

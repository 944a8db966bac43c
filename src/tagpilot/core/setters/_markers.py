"""Reading a ``{"$imagepolicy": "ns:policy[:field]"}`` marker out of a YAML comment.

The locator hands over the text of the one comment Flux would consult for a scalar;
``marker_setter`` says whether it is a marker and which setter it names.
"""

from __future__ import annotations

import json

__all__ = ["MARKER_KEY", "marker_setter"]

MARKER_KEY = "$imagepolicy"


def marker_setter(comment: str) -> str | None:
    """Return the setter a comment names, or ``None`` when it is an ordinary comment.

    Like Flux, every leading ``#`` is dropped and the rest must be exactly one JSON
    object of strings to strings: trailing text, single quotes or non-string values
    make it a plain comment.
    """
    body = comment.lstrip("#")
    if MARKER_KEY not in body:
        return None
    try:
        decoded = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # Go's decoder also refuses very deep JSON
        return None
    if not isinstance(decoded, dict):
        return None
    if not all(isinstance(value, str) for value in decoded.values()):
        return None
    setter = decoded.get(MARKER_KEY)
    return _go_string(setter) if isinstance(setter, str) else None


def _go_string(text: str) -> str:
    # Go's decoder turns a lone surrogate escape ("\ud800") into U+FFFD; Python keeps it.
    return "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in text)


def _reject_constant(name: str) -> object:
    # Python's json accepts NaN/Infinity; Go's encoding/json (Flux) does not.
    raise ValueError(name)

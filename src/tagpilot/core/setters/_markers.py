"""Reading a ``{"$imagepolicy": "ns:policy[:field]"}`` marker out of a YAML comment.

The locator hands over the text of the one comment Flux would consult for a scalar;
``marker_setter`` says whether it is a marker and which setter it names.  Flux reads a
comment that almost is a marker (typographic quotes pasted from a web page, single quotes,
a missing brace) as a plain comment and says nothing; ``marker_problem`` says what is wrong
with it, so the run can report it instead of silently leaving the value alone.
"""

from __future__ import annotations

import json

__all__ = ["MARKER_KEY", "marker_problem", "marker_setter"]

MARKER_KEY = "$imagepolicy"
_TYPOGRAPHIC_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2018\u2019"


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


def marker_problem(comment: str) -> str | None:
    """Why a comment that names ``$imagepolicy`` is not a marker; None when it is one
    (or does not name it at all)."""
    body = comment.lstrip("#").strip()
    if MARKER_KEY not in body.lower() or not _looks_like_an_attempt(body):
        return None
    if any(char in _TYPOGRAPHIC_QUOTES for char in body):
        return 'typographic quotes (\u201c \u201d) where JSON needs plain double quotes (")'
    try:
        decoded = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        return "JSON nested too deeply"
    except ValueError as error:
        return _decode_problem(body, error)
    return _shape_problem(decoded)


def _decode_problem(body: str, error: ValueError) -> str:
    if body.startswith("{'") or f"'{MARKER_KEY}'" in body:
        return 'single quotes where JSON needs double quotes (")'
    if isinstance(error, json.JSONDecodeError):
        if error.msg == "Extra data":
            return f"text after the JSON object: {body[error.pos :].strip()}"
        return f"not valid JSON ({error.msg})"
    return f"not valid JSON ({error})"


def _looks_like_an_attempt(body: str) -> bool:
    # Prose that mentions $imagepolicy ("# bumped by $imagepolicy") is not a marker attempt.
    return "{" in body or body.startswith(("[", '"', "'", *_TYPOGRAPHIC_QUOTES))


def _shape_problem(decoded: object) -> str | None:
    if not isinstance(decoded, dict):
        return 'not a JSON object: a marker is {"$imagepolicy": "NAMESPACE:NAME"}'
    if MARKER_KEY not in decoded:
        return f'no "{MARKER_KEY}" key (keys are case-sensitive)'
    if not all(isinstance(value, str) for value in decoded.values()):
        return "every value of a marker must be a JSON string"
    return None

"""Turn pydantic validation errors into plain problems: field path, message, bad value.

The loader adds file and line to each :class:`Problem`; the CLI reports them for flags.
Messages say what is expected ("must be one of asc, desc"), and unknown fields get a
"did you mean" suggestion taken from the model's own field names.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from tagpilot.api.meta import SpecError

__all__ = ["Path", "Problem", "format_path", "problems_from", "quoted", "split_path"]

Path = tuple[str | int, ...]
"""Keys and list indexes from the document root to a value."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an object: where (``path``), what, and the offending value."""

    path: Path
    message: str
    value: str | None = None

    @property
    def field(self) -> str:
        """The path as text, e.g. ``spec.policy.numerical.order``."""
        return format_path(self.path)

    def describe(self) -> str:
        """``field: invalid value 'x': message`` (the value only when it is a scalar)."""
        shown = f"invalid value {quoted(self.value)}: " if self.value is not None else ""
        return f"{self.field}: {shown}{self.message}" if self.path else f"{shown}{self.message}"


def quoted(value: str) -> str:
    """``value`` in single quotes as written (a regex keeps single backslashes); repr() only
    for text that is not printable, so no control character reaches a terminal."""
    return f"'{value}'" if value.isprintable() else repr(value)


def format_path(path: Path) -> str:
    """Render a path: dotted keys, ``[n]`` indexes, odd keys as ``["a.b"]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            text += f'["{part}"]'
    return text


def split_path(path: str | tuple[str | int, ...]) -> Path:
    """Parse ``spec.items[2].name`` (or pass a tuple through) into path parts."""
    if isinstance(path, tuple):
        return path
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def _unwrap(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        options = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else annotation
    return annotation


def _descend(annotation: Any, part: str | int) -> Any:
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if origin is list and isinstance(part, int):
        return get_args(annotation)[0]
    if origin is dict:
        return get_args(annotation)[1]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if part in (info.alias, name):
                return info.annotation
    return None


def _annotation_at(root: type[BaseModel], path: Path) -> Any:
    annotation: Any = root
    for part in path:
        annotation = _descend(annotation, part)
        if annotation is None:
            return None
    return _unwrap(annotation)


def _unknown_field(root: type[BaseModel], path: Path) -> str:
    key = str(path[-1])
    parent = _annotation_at(root, path[:-1])
    message = f"unknown field '{key}'"
    if isinstance(parent, type) and issubclass(parent, BaseModel):
        names = [info.alias or name for name, info in parent.model_fields.items()]
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        if close:
            return f"{message} (did you mean '{close[0]}'?)"
        return f"{message} (known fields: {', '.join(names)})"
    return message


def _literal_choices(root: type[BaseModel], path: Path, fallback: str) -> str:
    annotation = _annotation_at(root, path)
    if get_origin(annotation) is Literal:
        return "must be one of " + ", ".join(str(choice) for choice in get_args(annotation))
    return fallback


_KIND_WORDS = {
    "string_type": "must be a string (quote it if YAML read it as a number or boolean)",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "missing": "is required",
}


def _message(root: type[BaseModel], path: Path, error: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _KIND_WORDS:
        return _KIND_WORDS[kind]
    if kind == "extra_forbidden":
        return _unknown_field(root, path)
    if kind == "literal_error":
        return _literal_choices(root, path, error["msg"])
    if kind == "string_pattern_mismatch":
        return _pattern_message(path, ctx.get("pattern", ""))
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return str(error["msg"])


_NAME_WORDS = (
    "must be a lowercase RFC 1123 name: letters a-z, digits, '-' and '.', "
    "starting and ending with a letter or digit"
)


def _pattern_message(path: Path, pattern: str) -> str:
    if path and path[-1] in ("name", "namespace"):
        return _NAME_WORDS
    if path and path[-1] == "url":
        return "must start with http://, https:// or ssh://"
    return f"must match the pattern {pattern}"


_SHOWN_CHARS = 200


def _shown(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 10_000:
        return f"<a {value.bit_length()}-bit integer>"  # str() refuses past 4300 digits
    if isinstance(value, str | int | float):
        text = str(value)
        if len(text) > _SHOWN_CHARS:
            return f"{text[:_SHOWN_CHARS]}... ({len(text)} characters)"
        return text
    return None


def _path_of(error: Any) -> Path:
    path: Path = tuple(error["loc"])
    spec_error = (error.get("ctx") or {}).get("error")
    if isinstance(spec_error, SpecError):
        path += split_path(spec_error.path)
    return path


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """One :class:`Problem` per pydantic error of validating ``root``."""
    problems = []
    redacted = getattr(root, "REDACTED_FIELDS", ())
    for item in error.errors(include_url=False):
        path = _path_of(item)
        value = None if item["type"] in ("missing", "model_type") else _shown(item.get("input"))
        if item["type"] == "extra_forbidden" or (path and path[0] in redacted):
            value = None
        problems.append(Problem(path, _message(root, path, item), value))
    return problems

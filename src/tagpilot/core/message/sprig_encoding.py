"""Sprig's hermetic encoding functions: JSON, base64 and base32.

JSON follows Go's ``encoding/json``: map keys sorted, struct fields by their JSON names,
floats in Go's shortest form (``1``, not ``1.0``), ``<``, ``>``, ``&`` escaped except by
``toRawJson``; ``fromJson`` reads every number as a ``float64``.  The plain forms swallow
errors (an empty string or nil), the ``must`` forms report them.  Part of ``functions``.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable
from decimal import Decimal

from tagpilot.core.message.calls import ANY, STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import GoStruct, go_type_name
from tagpilot.core.message.gofmt import format_value, go_quote
from tagpilot.core.message.truth import is_true

__all__ = ["ENCODING_FUNCS", "to_json"]

_HTML_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))
_MAX_JSON_DEPTH = 100


def _json_float(value: float) -> str:
    if not math.isfinite(value):
        raise FuncError(f"json: unsupported value: {format_value(value)}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        return f"{mantissa}e{exponent[0]}{exponent[1:].lstrip('0') or '0'}"
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def _json_string(text: str, escape_html: bool) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    if escape_html:
        for char, escaped in _HTML_ESCAPES:
            encoded = encoded.replace(char, escaped)
    return encoded.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _struct_fields(value: GoStruct) -> list[tuple[str, object]]:
    fields: list[tuple[str, object]] = []
    for (name, _, embedded), item in zip(value.GO_FIELDS, value.field_values(), strict=True):
        tagged = value.JSON_OMITEMPTY_NAMES.get(name)
        if embedded and isinstance(item, GoStruct):
            fields.extend(_struct_fields(item))
        elif tagged is None:
            fields.append((name, item))
        elif is_true(item):
            fields.append((tagged, item))
    return fields


class _Encoder:
    def __init__(self, ctx: CallContext, *, escape_html: bool, indent: str | None) -> None:
        self.ctx = ctx
        self.escape_html = escape_html
        self.indent = indent

    def encode(self, value: object, depth: int = 0) -> str:
        self.ctx.charge(1)
        if depth > _MAX_JSON_DEPTH:
            raise FuncError("json: nesting too deep")
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            return _json_float(value)
        if isinstance(value, str):
            return _json_string(value, self.escape_html)
        if isinstance(value, GoStruct):
            text = value.marshal_text()
            if text is not None:
                return _json_string(text, self.escape_html)
            return self.members(_struct_fields(value), depth)
        if isinstance(value, dict):
            if not all(isinstance(key, str) for key in value):
                raise FuncError(f"json: unsupported type: {go_type_name(value)}")
            return self.members(sorted(value.items(), key=lambda kv: kv[0].encode()), depth)
        if isinstance(value, (list, tuple)):
            return self.container("[", "]", [self.encode(item, depth + 1) for item in value], depth)
        raise FuncError(f"json: unsupported type: {go_type_name(value)}")

    def members(self, pairs: list[tuple[str, object]], depth: int) -> str:
        colon = ": " if self.indent is not None else ":"
        items = [
            _json_string(key, self.escape_html) + colon + self.encode(item, depth + 1)
            for key, item in pairs
        ]
        return self.container("{", "}", items, depth)

    def container(self, open_: str, close: str, items: list[str], depth: int) -> str:
        if self.indent is None or not items:
            return open_ + ",".join(items) + close
        inner = "\n" + self.indent * (depth + 1)
        return open_ + inner + ("," + inner).join(items) + "\n" + self.indent * depth + close


def to_json(
    ctx: CallContext, value: object, *, escape_html: bool = True, indent: str | None = None
) -> str:
    """Go's ``json.Marshal`` (``MarshalIndent`` with ``indent``) of a template value."""
    return _Encoder(ctx, escape_html=escape_html, indent=indent).encode(value)


def _swallowing(function: Callable[..., str]) -> Callable[..., str]:
    def call(ctx: CallContext, value: object) -> str:
        try:
            return function(ctx, value)
        except FuncError:
            return ""

    return call


def _must_to_json(ctx: CallContext, value: object) -> str:
    return to_json(ctx, value)


def _to_pretty_json(ctx: CallContext, value: object) -> str:
    return to_json(ctx, value, indent="  ")


def _to_raw_json(ctx: CallContext, value: object) -> str:
    return to_json(ctx, value, escape_html=False)


def _go_value(value: object) -> object:
    """A decoded JSON value as Go's ``interface{}`` holds it (numbers are float64)."""
    if isinstance(value, dict):
        return {key: _go_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_go_value(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _json_error(document: str, error: json.JSONDecodeError) -> str:
    if error.pos >= len(document.rstrip()):
        return "unexpected end of JSON input"
    char = document[error.pos]
    quoted = "'\\''" if char == "'" else "'" + go_quote(char)[1:-1] + "'"
    return f"invalid character {quoted} looking for beginning of value"


def _must_from_json(ctx: CallContext, document: str) -> object:
    try:
        decoded = json.loads(document, parse_constant=lambda name: None)
    except json.JSONDecodeError as error:
        raise FuncError(_json_error(document, error)) from None
    except RecursionError:
        raise FuncError("exceeded max depth") from None
    return _go_value(decoded)


def _from_json(ctx: CallContext, document: str) -> object:
    try:
        return _must_from_json(ctx, document)
    except FuncError:
        return None


def _b64dec(ctx: CallContext, text: str) -> str:
    try:
        return base64.b64decode(text.encode(), validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return f"illegal base64 data at input byte {_illegal_at(text, alphabet)}"


def _illegal_at(text: str, alphabet: str) -> int:
    """Where Go's decoder stops: the first byte outside the alphabet, or the bad padding."""
    raw = text.encode()
    for index, byte in enumerate(raw):
        if chr(byte) not in alphabet and chr(byte) != "=":
            return index
    stripped = raw.rstrip(b"=")
    return len(stripped) if stripped != raw else len(raw)


def _b32dec(ctx: CallContext, text: str) -> str:
    try:
        return base64.b32decode(text.encode()).decode(errors="replace")
    except (binascii.Error, ValueError):
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
        return f"illegal base32 data at input byte {_illegal_at(text, alphabet)}"


ENCODING_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("toJson", _swallowing(_must_to_json), (ANY,)),
    FuncSpec("mustToJson", _must_to_json, (ANY,)),
    FuncSpec("toPrettyJson", _swallowing(_to_pretty_json), (ANY,)),
    FuncSpec("mustToPrettyJson", _to_pretty_json, (ANY,)),
    FuncSpec("toRawJson", _swallowing(_to_raw_json), (ANY,)),
    FuncSpec("mustToRawJson", _to_raw_json, (ANY,)),
    FuncSpec("fromJson", _from_json, (STRING,)),
    FuncSpec("mustFromJson", _must_from_json, (STRING,)),
    FuncSpec("b64enc", lambda ctx, text: base64.b64encode(text.encode()).decode(), (STRING,)),
    FuncSpec("b64dec", _b64dec, (STRING,)),
    FuncSpec("b32enc", lambda ctx, text: base64.b32encode(text.encode()).decode(), (STRING,)),
    FuncSpec("b32dec", _b32dec, (STRING,)),
)

"""The subset of Go's ``fmt`` package templates reach: ``Sprint``, ``Sprintln``, ``Sprintf``.

Formats template values (see ``data``) the way Go prints them: ``%v`` of structs as
``{a b}``, maps as ``map[k:v]`` in sorted key order, floats in shortest ``%g`` form, and
Go's inline error forms (``%!d(string=x)``, ``%!v(MISSING)``, ``%!(EXTRA ...)``).  Used by
the built-in ``print``/``printf``/``println`` functions, Sprig functions and the executor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal

from tagpilot.core.message.data import GoStruct, go_sort_key, go_type_name

__all__ = ["FormatLimitError", "format_value", "go_quote", "sprint", "sprintf", "sprintln"]

_DIRECTIVE = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d+)?)?(.?)", re.S)


class FormatLimitError(ValueError):
    """A ``printf`` width or precision larger than the caller allows."""


def _float_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and the decimal point position (Go's ``digs.nd``/``dp``)."""
    _, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exponent, int)
    return text, exponent + len(digits)


def _go_float_v(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign = "-" if math.copysign(1.0, value) < 0 else ""
    if value == 0:
        return f"{sign}0"
    digits, point = _float_digits(abs(value))
    exp = point - 1
    if exp < -4 or exp >= 6:  # shortest %g switches to exponent form at precision 6
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def go_quote(text: str, *, ascii_only: bool = False) -> str:
    """Go's ``strconv.Quote`` (``QuoteToASCII`` when ``ascii_only``)."""
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
    escapes |= {"\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}
    out = []
    for char in text:
        code = ord(char)
        if char in escapes:
            out.append(escapes[char])
        elif char.isprintable() and not (ascii_only and code > 0x7E):
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _bad(verb: str, value: object) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type_name(value)}={format_value(value, 'v')})"


def _composite(value: object, verb: str, plus: bool) -> str | None:
    if isinstance(value, GoStruct):
        stringer = value.go_string()
        if stringer is not None and verb in "vsq":
            return _scalar(stringer, verb, plus)
        names = [go_name for go_name, _, _ in value.GO_FIELDS]
        parts = [format_value(field, verb, plus) for field in value.field_values()]
        if plus:
            parts = [f"{name}:{part}" for name, part in zip(names, parts, strict=True)]
        return "{" + " ".join(parts) + "}"
    if isinstance(value, dict):
        keys = sorted(value, key=go_sort_key)
        pairs = [
            f"{format_value(k, verb, plus)}:{format_value(value[k], verb, plus)}" for k in keys
        ]
        return "map[" + " ".join(pairs) + "]"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(format_value(item, verb, plus) for item in value) + "]"
    return None


def _scalar(value: object, verb: str, plus: bool) -> str:
    if isinstance(value, str):
        if verb in "vs":
            return value
        if verb == "q":
            return go_quote(value, ascii_only=plus)
        if verb in "xX":
            hexed = value.encode().hex()
            return hexed.upper() if verb == "X" else hexed
        return _bad(verb, value)
    if isinstance(value, bool):
        return ("true" if value else "false") if verb in "vt" else _bad(verb, value)
    if isinstance(value, int):
        return _format_int(value, verb)
    if isinstance(value, float):
        return _format_float(value, verb, None)
    if isinstance(value, complex):
        return _format_complex(value, verb)
    if value is None:
        return "<nil>" if verb == "v" else _bad(verb, value)
    return _bad(verb, value)


def _format_int(value: int, verb: str) -> str:
    if verb in "vd":
        return str(value)
    if verb in "xXob":
        text = format(abs(value), {"X": "X"}.get(verb, verb))
        return ("-" if value < 0 else "") + text
    if verb == "c":
        return chr(value) if 0 <= value <= 0x10FFFF else "\ufffd"
    if verb == "q":
        return "'" + go_quote(chr(value))[1:-1].replace("'", "\\'").replace('\\"', '"') + "'"
    return _bad(verb, value)


def _format_float(value: float, verb: str, precision: int | None) -> str:
    if verb == "v" or (verb in "gG" and precision is None):
        return _go_float_v(value)
    if verb in "feEgG":
        text = format(value, f".{6 if precision is None else precision}{verb}")
        return re.sub(r"e([+-])(\d)$", r"e\g<1>0\2", text)
    return _bad(verb, value)


def _format_complex(value: complex, verb: str) -> str:
    if verb not in "vgGeEf":
        return _bad(verb, value)
    real = _format_float(value.real, verb, None)
    imaginary = _format_float(value.imag, verb, None)
    if not imaginary.startswith(("-", "+")):
        imaginary = "+" + imaginary
    return f"({real}{imaginary}i)"


def format_value(value: object, verb: str = "v", plus: bool = False) -> str:
    """Format one value with a verb, as ``fmt`` does (no width or precision)."""
    composite = _composite(value, verb, plus)
    return composite if composite is not None else _scalar(value, verb, plus)


def sprint(args: Sequence[object]) -> str:
    """``fmt.Sprint``: a space between operands when neither side is a string."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if index > 0 and not isinstance(arg, str) and not isinstance(args[index - 1], str):
            out.append(" ")
        out.append(format_value(arg))
    return "".join(out)


def sprintln(args: Sequence[object]) -> str:
    """``fmt.Sprintln``: operands always separated by spaces, then a newline."""
    return " ".join(format_value(arg) for arg in args) + "\n"


def _pad(text: str, width: int | None, flags: str, numeric: bool) -> str:
    if width is None or len(text) >= width:
        return text
    if "-" in flags:
        return text.ljust(width)
    if "0" in flags and numeric:
        sign = text[0] if text[:1] in ("-", "+") else ""
        return sign + text[len(sign) :].rjust(width - len(sign), "0")
    return text.rjust(width)


def _directive(verb: str, flags: str, precision: int | None, arg: object) -> str:
    if verb == "T":
        return go_type_name(arg)
    if isinstance(arg, float) and verb in "feEgG" and precision is not None:
        text = _format_float(arg, verb, precision)
    else:
        text = format_value(arg, verb, "+" in flags)
    if precision is not None and isinstance(arg, str) and verb in "sv":
        text = text[:precision]
    if "+" in flags and isinstance(arg, (int, float)) and not isinstance(arg, bool):
        text = text if text.startswith("-") else "+" + text
    return text


class _Args:
    def __init__(self, args: Sequence[object]) -> None:
        self.args = args
        self.used = 0

    def take(self) -> tuple[bool, object]:
        if self.used >= len(self.args):
            return False, None
        self.used += 1
        return True, self.args[self.used - 1]

    def number(self, spec: str | None, limit: int) -> int | None:
        if spec is None:
            return None
        if spec == "*":
            ok, value = self.take()
            spec = str(value) if ok and isinstance(value, int) else "0"
        if int(spec) > limit:
            raise FormatLimitError(f"printf width or precision {spec} exceeds {limit}")
        return int(spec)


def sprintf(template: str, args: Sequence[object], *, max_width: int) -> str:
    """``fmt.Sprintf`` for the verbs templates use; widths above ``max_width`` are refused."""
    out: list[str] = []
    pending = _Args(args)
    position = 0
    for match in _DIRECTIVE.finditer(template):
        out.append(template[position : match.start()])
        position = match.end()
        out.append(_one_directive(match, pending, max_width))
    out.append(template[position:])
    if pending.used < len(args):
        extra = ", ".join(f"{go_type_name(a)}={format_value(a)}" for a in args[pending.used :])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _one_directive(match: re.Match[str], pending: _Args, max_width: int) -> str:
    flags, width_spec, precision_spec, verb = match.groups()
    if verb == "%":
        return "%"
    if not verb:
        return "%!(NOVERB)"
    width = pending.number(width_spec, max_width)
    precision = pending.number(precision_spec, max_width)
    if match.group(0).find(".") >= 0 and precision is None:
        precision = 0
    ok, arg = pending.take()
    if not ok:
        return f"%!{verb}(MISSING)"
    text = _directive(verb, flags, precision, arg)
    numeric = isinstance(arg, (int, float)) and not isinstance(arg, bool)
    return _pad(text, width, flags, numeric)

"""Sprig's hermetic number functions: integer and float arithmetic, conversions, ``seq``.

Integer arithmetic returns Go's ``int64`` (``Int64``) and wraps around like it, so
``typeOf (add 1 2)`` is ``int64`` and handing that to an ``int`` parameter fails as in Go.
Float arithmetic (``addf``...) goes through decimals like Sprig's ``shopspring/decimal``
(``addf 1.1 2.2`` is 3.3).  Conversions follow ``spf13/cast``: what cannot convert is 0.
``seq`` checks the item limit before building anything.  Part of ``functions``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, localcontext

from tagpilot.core.message.calls import ANY, FLOAT, INT, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import Int64
from tagpilot.core.message.gofmt import format_value
from tagpilot.core.message.literals import parse_go_float, parse_go_int

__all__ = ["MATH_FUNCS", "to_float64", "to_int64", "until_step"]

_INT64_MIN = -(2**63)
_DIVISION_PLACES = Decimal(10) ** -16  # shopspring/decimal's DivisionPrecision


def wrap64(value: int) -> int:
    """``value`` as Go's int64 arithmetic leaves it (two's complement wrap-around)."""
    return (value - _INT64_MIN) % 2**64 + _INT64_MIN


def _trim_zero_decimal(text: str) -> str:
    """cast's ``trimZeroDecimal``: ``"10.00"`` reads as ``"10"``."""
    stripped = text.rstrip("0")
    if stripped != text and stripped.endswith(".") and len(stripped) > 1:
        return stripped[:-1]
    return text


def to_int64(value: object) -> int:
    """``cast.ToInt64``: numbers truncate, strings parse (base prefixes), else 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return wrap64(int(value)) if math.isfinite(value) else _INT64_MIN
    if isinstance(value, str):
        parsed = parse_go_int(_trim_zero_decimal(value))
        return parsed if parsed is not None and -(2**63) <= parsed < 2**63 else 0
    return 0


def to_float64(value: object) -> float:
    """``cast.ToFloat64``: numbers convert, strings parse as ``strconv.ParseFloat``, else 0."""
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        special = {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "nan": math.nan}
        special |= {"infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf}
        if value.lower() in special:
            return special[value.lower()]
        parsed = parse_go_float(value)
        return 0.0 if parsed is None else parsed
    return 0.0


def until_step(ctx: CallContext, start: int, stop: int, step: int) -> list[int]:
    """Sprig's ``untilStep``, refusing lists longer than the item limit before building."""
    if step == 0 or (stop < start) != (step < 0):
        return []
    ctx.check_size(len(range(start, stop, step)), "items")
    return list(range(start, stop, step))


def _int_fold(operation: Callable[[int, int], int]) -> Callable[..., Int64]:
    def call(ctx: CallContext, *values: object) -> Int64:
        result = to_int64(values[0]) if values else 0
        for value in values[1:]:
            result = wrap64(operation(result, to_int64(value)))
        return Int64(result)

    return call


def _divide(left: int, right: int) -> int:
    if right == 0:
        raise FuncError("runtime error: integer divide by zero")
    quotient = abs(left) // abs(right)  # Go truncates toward zero
    return quotient if (left < 0) == (right < 0) else -quotient


def _modulo(left: int, right: int) -> int:
    return left - _divide(left, right) * right


def _decimal(value: object) -> Decimal:
    number = to_float64(value)
    if not math.isfinite(number):
        raise FuncError(f"Cannot create a Decimal from {format_value(number)}")
    return Decimal(repr(number))


def _decimal_divide(left: Decimal, right: Decimal) -> Decimal:
    if right == 0:
        raise FuncError("decimal division by zero")
    with localcontext() as context:
        context.prec = 80
        return (left / right).quantize(_DIVISION_PLACES, rounding=ROUND_HALF_UP)


def _float_fold(operation: Callable[[Decimal, Decimal], Decimal]) -> Callable[..., float]:
    def call(ctx: CallContext, first: object, *values: object) -> float:
        result = _decimal(first)
        with localcontext() as context:
            context.prec = 80
            for value in values:
                result = operation(result, _decimal(value))
        return float(result)

    return call


def _addf(ctx: CallContext, *values: object) -> float:
    return _float_fold(lambda a, b: a + b)(ctx, 0.0, *values)


def _go_max(left: float, right: float) -> float:
    if math.isnan(left) or math.isnan(right):
        return math.nan
    return max(left, right)


def _go_min(left: float, right: float) -> float:
    if math.isnan(left) or math.isnan(right):
        return math.nan
    return min(left, right)


def _float_extreme(pick: Callable[[float, float], float]) -> Callable[..., float]:
    def call(ctx: CallContext, first: object, *values: object) -> float:
        result = to_float64(first)
        for value in values:
            result = pick(result, to_float64(value))
        return result

    return call


def _rounding(function: Callable[[float], int]) -> Callable[..., float]:
    def call(ctx: CallContext, value: object) -> float:
        number = to_float64(value)
        if not math.isfinite(number):
            return number
        return math.copysign(float(function(number)), number)  # Go keeps -0

    return call


def _round(ctx: CallContext, value: object, places: int, *round_on: float) -> float:
    threshold = round_on[0] if round_on else 0.5
    power = math.pow(10, places)
    digit = power * to_float64(value)
    if not math.isfinite(digit):
        return digit / power
    fraction = math.modf(digit)[0]
    rounded = math.ceil(digit) if fraction >= threshold else math.floor(digit)
    return rounded / power


def _to_decimal(ctx: CallContext, value: object) -> Int64:
    text = format_value(value)
    body = text[1:] if text[:1] in "+-" else text
    if not body or any(char not in "01234567" for char in body):
        return Int64(0)
    number = int(text, 8)
    return Int64(number if -(2**63) <= number < 2**63 else 0)


def _seq(ctx: CallContext, *params: int) -> str:
    if len(params) == 1:
        start, end, step = 1, params[0], 1 if params[0] >= 1 else -1
        numbers = until_step(ctx, start, end + step, step)
    elif len(params) == 2:
        start, end = params
        step = 1 if end >= start else -1
        numbers = until_step(ctx, start, end + step, step)
    elif len(params) == 3:
        start, step, end = params
        increment = 1 if end >= start else -1
        if end < start and step > 0:
            return ""
        numbers = until_step(ctx, start, end + increment, step)
    else:
        return ""
    ctx.check_size(sum(len(str(number)) + 1 for number in numbers), "string")
    return " ".join(str(number) for number in numbers)


def _atoi(ctx: CallContext, text: str) -> int:
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        return 0
    number = int(text)
    return max(min(number, 2**63 - 1), _INT64_MIN)  # Atoi's range error keeps the bound


MATH_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("atoi", _atoi, ("string",)),
    FuncSpec("int", lambda ctx, value: to_int64(value), (ANY,)),
    FuncSpec("int64", lambda ctx, value: Int64(to_int64(value)), (ANY,)),
    FuncSpec("float64", lambda ctx, value: to_float64(value), (ANY,)),
    FuncSpec("toDecimal", _to_decimal, (ANY,)),
    FuncSpec("seq", _seq, (), INT),
    FuncSpec("add1", lambda ctx, value: Int64(wrap64(to_int64(value) + 1)), (ANY,)),
    FuncSpec("add", _int_fold(lambda a, b: a + b), (), ANY),
    FuncSpec("sub", _int_fold(lambda a, b: a - b), (ANY, ANY)),
    FuncSpec("mul", _int_fold(lambda a, b: a * b), (ANY,), ANY),
    FuncSpec("div", _int_fold(_divide), (ANY, ANY)),
    FuncSpec("mod", _int_fold(_modulo), (ANY, ANY)),
    FuncSpec("max", _int_fold(max), (ANY,), ANY),
    FuncSpec("biggest", _int_fold(max), (ANY,), ANY),
    FuncSpec("min", _int_fold(min), (ANY,), ANY),
    FuncSpec("add1f", lambda ctx, value: _float_fold(lambda a, b: a + b)(ctx, value, 1), (ANY,)),
    FuncSpec("addf", _addf, (), ANY),
    FuncSpec("subf", _float_fold(lambda a, b: a - b), (ANY,), ANY),
    FuncSpec("mulf", _float_fold(lambda a, b: a * b), (ANY,), ANY),
    FuncSpec("divf", _float_fold(_decimal_divide), (ANY,), ANY),
    FuncSpec("maxf", _float_extreme(_go_max), (ANY,), ANY),
    FuncSpec("minf", _float_extreme(_go_min), (ANY,), ANY),
    FuncSpec("ceil", _rounding(math.ceil), (ANY,)),
    FuncSpec("floor", _rounding(math.floor), (ANY,)),
    FuncSpec("round", _round, (ANY, INT), FLOAT),
)

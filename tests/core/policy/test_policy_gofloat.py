"""Go ``strconv.ParseFloat(s, 64)``: the syntax the numerical policy accepts, as tables.

Sources: Go's ``strconv/atof.go`` (``special``, ``readFloat``, ``underscoreOK``).
"""

from __future__ import annotations

import math

import pytest

from tagpilot.core.policy import GoFloatError, parse_go_float


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("42", 42.0, id="integer"),
        pytest.param("+5", 5.0, id="plus-sign"),
        pytest.param("-5", -5.0, id="minus-sign"),
        pytest.param("010", 10.0, id="leading-zeros-are-decimal"),
        pytest.param(".5", 0.5, id="no-integer-part"),
        pytest.param("5.", 5.0, id="no-fraction-digits"),
        pytest.param("1.10", 1.1, id="trailing-zero-fraction"),
        pytest.param("20251115.9", 20251115.9, id="calver-like"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param("1E-2", 0.01, id="upper-exponent-negative"),
        pytest.param("+.5e+1", 5.0, id="signed-everything"),
        pytest.param("1_000", 1000.0, id="underscore-between-digits"),
        pytest.param("1_000.000_5", 1000.0005, id="underscores-in-both-parts"),
        pytest.param("1e1_0", 1e10, id="underscore-in-exponent"),
        pytest.param("0_1", 1.0, id="underscore-after-leading-zero"),
        pytest.param("inf", math.inf, id="inf"),
        pytest.param("+Inf", math.inf, id="signed-inf"),
        pytest.param("-INFINITY", -math.inf, id="infinity-any-case"),
        pytest.param("0x1p4", 16.0, id="hex-float"),
        pytest.param("0X1.8P1", 3.0, id="hex-float-upper-with-fraction"),
        pytest.param("0x.8p1", 1.0, id="hex-float-no-integer-part"),
        pytest.param("0x_1p4", 16.0, id="underscore-after-hex-prefix"),
        pytest.param("-0x1p-2", -0.25, id="hex-negative-exponent"),
        pytest.param("1.7976931348623157e308", 1.7976931348623157e308, id="largest-float64"),
        pytest.param("1e-400", 0.0, id="underflow-is-zero-not-error"),
        pytest.param("0e99999", 0.0, id="zero-with-huge-exponent"),
    ],
)
def test_parse_go_float_accepts_go_syntax(text: str, value: float) -> None:
    assert parse_go_float(text) == value


@pytest.mark.parametrize("text", ["nan", "NaN", "NAN"])
def test_parse_go_float_reads_unsigned_nan_in_any_case(text: str) -> None:
    assert math.isnan(parse_go_float(text))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param(" 1", id="leading-space"),
        pytest.param("1 ", id="trailing-space"),
        pytest.param("1\n", id="trailing-newline"),
        pytest.param("latest", id="word"),
        pytest.param("1e", id="exponent-without-digits"),
        pytest.param("1e+", id="exponent-sign-only"),
        pytest.param("e5", id="exponent-without-mantissa"),
        pytest.param(".", id="lone-dot"),
        pytest.param("-.", id="sign-and-dot"),
        pytest.param("1.2.3", id="two-dots"),
        pytest.param("_1", id="leading-underscore"),
        pytest.param("1_", id="trailing-underscore"),
        pytest.param("1__0", id="double-underscore"),
        pytest.param("1_.5", id="underscore-before-dot"),
        pytest.param("1._5", id="underscore-after-dot"),
        pytest.param("1e_1", id="underscore-starts-exponent"),
        pytest.param("0x10", id="hex-without-p-exponent"),
        pytest.param("0x1_p4", id="underscore-before-p"),
        pytest.param("0xp1", id="hex-without-digits"),
        pytest.param("0x", id="bare-hex-prefix"),
        pytest.param("0b101", id="binary-prefix"),
        pytest.param("+nan", id="signed-nan"),
        pytest.param("-nan", id="negative-nan"),
        pytest.param("infin", id="partial-infinity"),
        pytest.param("١٢", id="non-ascii-digits"),
        pytest.param("1.0-rc1", id="version-like"),
    ],
)
def test_parse_go_float_rejects_bad_syntax(text: str) -> None:
    with pytest.raises(GoFloatError) as caught:
        parse_go_float(text)
    assert not caught.value.is_range_error
    assert "is not valid Go float syntax" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1e309", id="decimal-overflow"),
        pytest.param("-1e309", id="negative-overflow"),
        pytest.param("1.7976931348623159e308", id="rounds-to-infinity"),
        pytest.param("0x1p1024", id="hex-overflow"),
        pytest.param("1" * 400, id="long-integer"),
    ],
)
def test_parse_go_float_reports_out_of_range_values(text: str) -> None:
    with pytest.raises(GoFloatError) as caught:
        parse_go_float(text)
    assert caught.value.is_range_error
    assert "out of the float64 range" in str(caught.value)

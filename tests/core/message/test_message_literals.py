"""Go number literals in templates, per text/template/parse, and ``index`` key types.

A template constant is what Go's lexer scans as one number (``1+2i`` included) and what
``strconv`` then reads: integers with base prefixes and underscores, decimal and
hexadecimal floats, imaginary and complex constants.
"""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError, TemplateParseError

P = pytest.param


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        P("{{ 1_000 }}", "1000", id="underscore-separates-decimal-digits"),
        P("{{ 0x_1F }}", "31", id="underscore-after-hex-prefix"),
        P("{{ 0o17 }} {{ 0O17 }}", "15 15", id="octal-with-0o-prefix"),
        P("{{ 017 }} {{ 0_17 }}", "15 15", id="octal-with-leading-zero"),
        P("{{ 0b101 }} {{ 0B1_0 }}", "5 2", id="binary"),
        P("{{ -0x10 }} {{ +7 }}", "-16 7", id="signed-integers"),
        P("{{ 08 }}", "8", id="leading-zero-non-octal-reads-as-float-then-int"),
        P("{{ 1e3 }} {{ 1.5 }} {{ .5 }} {{ 1. }}", "1000 1.5 0.5 1", id="decimal-floats"),
        P("{{ 0x1.ep+2 }}", "7.5", id="hex-float"),
        P("{{ -0x1p-2 }} {{ 0X1P+2 }}", "-0.25 4", id="hex-float-signs-and-case"),
        P("{{ 1_0.2_5 }}", "10.25", id="float-with-underscores"),
        P("{{ 1.5i }}", "(0+1.5i)", id="imaginary-constant"),
        P("{{ 1+2i }}", "(1+2i)", id="complex-constant"),
        P("{{ -1-2.5i }}", "(-1-2.5i)", id="complex-with-negative-parts"),
        P("{{ 1e2+0i }}", "(100+0i)", id="complex-with-zero-imaginary-stays-complex"),
        P("{{ 0x1p-2+1i }}", "(0.25+1i)", id="complex-with-hex-real-part"),
        P('{{ printf "%T" 1i }}', "complex128", id="complex-type"),
        P("{{ eq 1+2i 1+2i }} {{ ne 1i 2i }}", "true true", id="complex-equality"),
        P('{{ repeat 2+0i "b" }}', "bb", id="complex-with-integer-value-meets-int-param"),
        P("{{ 'a' }} {{ '\\n' }} {{ '\\u00e9' }}", "97 10 233", id="char-constants"),
        P("{{ 99999999999999999999 }}", "1e+20", id="beyond-uint64-reads-as-float"),
    ],
)
def test_number_literals_read_as_go_reads_them(
    render: Render, template: str, expected: str
) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P("{{ 1__0 }}", "bad number syntax: '1__0'", id="double-underscore"),
        P("{{ 1_ }}", "bad number syntax: '1_'", id="trailing-underscore"),
        P("{{ 0x1.8 }}", "bad number syntax: '0x1.8'", id="hex-mantissa-needs-p-exponent"),
        P("{{ 0x }}", "bad number syntax: '0x'", id="prefix-without-digits"),
        P("{{ 0b102 }}", "bad number syntax: '0b102'", id="binary-digit-out-of-range"),
        P("{{ 1-2 }}", "bad number syntax: '1-2'", id="second-part-must-be-imaginary"),
        P("{{ 0x1e+2 }}", "bad number syntax: '0x1e+2'", id="hex-e-is-a-digit-not-exponent"),
        P("{{ 12abc }}", "bad number syntax: '12a'", id="letters-after-digits"),
        P("{{ 1+2j }}", "bad number syntax: '1+2j'", id="python-complex-spelling"),
    ],
)
def test_malformed_numbers_are_parse_errors(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateParseError) as caught:
        render(template)
    assert detail in str(caught.value)


def test_complex_numbers_are_not_ordered(render: Render) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render("{{ lt 1i 2i }}")
    assert "error calling lt: invalid type for comparison" in str(caught.value)


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P("{{ index .Values 1 }}", "value has type int; should be string", id="int-key"),
        P("{{ index .Values nil }}", "value is nil; should be of type string", id="nil-key"),
        P('{{ index (dict "a" 1) 2.5 }}', "value has type float64; should be string", id="float"),
        P(
            "{{ index .Changed.FileChanges (add 1 0) }}",
            "value has type int64; should be string",
            id="int64-key-on-typed-map",
        ),
        P(
            '{{ index (index .Changed.FileChanges "deploy.yaml") "x" }}',
            "value has type string; should be update.ObjectIdentifier",
            id="string-key-on-object-changes",
        ),
    ],
)
def test_index_with_a_key_of_the_wrong_type_is_an_error(
    render: Render, template: str, detail: str
) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert f"error calling index: {detail}" in str(caught.value)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        P('{{ index .Values "env" }}', "prod", id="string-key"),
        P('{{ index .Values "none" }}', "", id="missing-key-gives-the-zero-value"),
        P('{{ index (dict "a" 1) "a" }}', "1", id="dict-key"),
    ],
)
def test_index_with_a_key_of_the_right_type(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected

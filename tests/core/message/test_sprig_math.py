"""Sprig's number functions: int64 arithmetic, decimal float arithmetic, conversions, seq."""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

MATH = [
    P("{{ add 1 2 3 }} {{ add }} {{ add1 4 }} {{ sub 5 7 }}", "6 0 5 -2", id="add-sub"),
    P(
        "{{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod -7 2 }}",
        "24 3 -3 -1",
        id="mul-div-mod-truncate",
    ),
    P('{{ add "3" 4.9 true }}', "8", id="arguments-convert-like-cast"),
    P('{{ add "0x10" "010" "1_0" "10.00" "x" }}', "44", id="string-conversions"),
    P("{{ add 1 2 | typeOf }} {{ len (list) | typeOf }}", "int64 int", id="arithmetic-is-int64"),
    P("{{ add 9223372036854775807 1 }}", "-9223372036854775808", id="int64-wraps"),
    P("{{ max 1 5 3 }} {{ biggest 2 8 }} {{ min 4 -2 9 }}", "5 8 -2", id="max-min-biggest"),
    P("{{ addf 1.5 2 2 }} {{ addf 1.1 2.2 }} {{ add1f 1.5 }}", "5.5 3.3 2.5", id="addf-is-decimal"),
    P("{{ subf 7.5 2 3 }} {{ mulf 1.5 2 2 }} {{ divf 10 4 2 }}", "2.5 6 1.25", id="subf-mulf-divf"),
    P("{{ divf 1 3 }}", "0.3333333333333333", id="divf-sixteen-places"),
    P("{{ maxf 1 2.5 3 }} {{ minf 1.5 2 3 }}", "3 1.5", id="maxf-minf"),
    P("{{ ceil 1.1 }} {{ floor 1.9 }} {{ ceil -0.5 }}", "2 1 -0", id="ceil-floor"),
    P(
        "{{ round 123.555555 3 }} {{ round 123.5555 3 0.6 }} {{ round -1.5 0 }}",
        "123.556 123.555 -2",
        id="round",
    ),
    P(
        '{{ float64 "1.5" }} {{ float64 3 | typeOf }} {{ float64 "x" }}',
        "1.5 float64 0",
        id="float64",
    ),
    P(
        '{{ int "42" }} {{ int 4.9 }} {{ int64 "7" | typeOf }} {{ int nil }}',
        "42 4 int64 0",
        id="int-int64",
    ),
    P('{{ atoi "42" }} {{ atoi "4x" }} {{ atoi "+7" }}', "42 0 7", id="atoi"),
    P(
        '{{ toDecimal "0777" }} {{ toDecimal "777" }} {{ toDecimal "8" }}',
        "511 511 0",
        id="toDecimal",
    ),
    P("{{ seq 5 }}|{{ seq -3 }}|{{ seq 0 2 10 }}", "1 2 3 4 5|1 0 -1 -2 -3|0 2 4 6 8 10", id="seq"),
    P(
        "{{ seq 2 -2 }}|{{ seq 0 -2 -6 }}|{{ seq 0 2 -6 }}|{{ seq }}",
        "2 1 0 -1 -2|0 -2 -4 -6||",
        id="seq-down",
    ),
    P("{{ until 3 }} {{ untilStep 10 0 -3 }}", "[0 1 2] [10 7 4 1]", id="until"),
]


@pytest.mark.parametrize(("template", "expected"), MATH)
def test_math_functions_give_sprigs_results(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P("{{ div 1 0 }}", "error calling div: runtime error: integer divide by zero", id="div"),
        P("{{ mod 1 0 }}", "integer divide by zero", id="mod"),
        P("{{ divf 1 0 }}", "error calling divf: decimal division by zero", id="divf"),
        P(
            '{{ repeat (add 1 1) "x" }}',
            "wrong type for value; expected int; got int64",
            id="int64-is-not-int",
        ),
        P("{{ round 1.5 1.5 }}", "expected integer; found 1.5", id="round-places-integer"),
    ],
)
def test_math_failures_read_as_go_reports_them(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert detail in str(caught.value)

"""Sprig's JSON, base64 and base32 functions, as Go's encoders write and read them."""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

ENCODING = [
    P(
        '{{ toJson (dict "b" 1.0 "a" (list 2.5 "<&>" nil true)) }}',
        '{"a":[2.5,"\\u003c\\u0026\\u003e",null,true],"b":1}',
        id="toJson",
    ),
    P(
        "{{ mustToJson (list 1e21 0.000001 1e-7) }}",
        "[1e+21,0.000001,1e-7]",
        id="floats-as-go-writes-them",
    ),
    P(
        '{{ toRawJson (dict "html" "<b>&</b>") }}',
        '{"html":"<b>&</b>"}',
        id="toRawJson-no-html-escaping",
    ),
    P('{{ mustToRawJson (list "a") }}', '["a"]', id="mustToRawJson"),
    P(
        '{{ toPrettyJson (dict "a" 1 "b" (list 1 2) "c" (dict)) }}',
        '{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ],\n  "c": {}\n}',
        id="toPrettyJson",
    ),
    P("{{ mustToPrettyJson (list) }}", "[]", id="mustToPrettyJson-empty"),
    P(
        "{{ toJson .AutomationObject }}",
        '{"Namespace":"flux-system","Name":"podinfo-auto"}',
        id="toJson-of-struct",
    ),
    P('{{ toJson (float64 "NaN") }}|', "|", id="toJson-swallows-errors"),
    P('{{ (fromJson "{\\"a\\": {\\"b\\": [1, 2]}}").a.b }}', "[1 2]", id="fromJson"),
    P('{{ index (fromJson "[3]") 0 | typeOf }}', "float64", id="fromJson-numbers-are-float64"),
    P('{{ fromJson "{nope" }}', "<no value>", id="fromJson-swallows-errors"),
    P('{{ mustFromJson "null" }}', "<no value>", id="mustFromJson-null"),
    P('{{ b64enc "string" }} {{ b64dec "c3RyaW5n" }}', "c3RyaW5n string", id="base64"),
    P(
        '{{ b32enc "string" }} {{ b32dec "ON2HE2LOM4======" }}',
        "ON2HE2LOM4====== string",
        id="base32",
    ),
    P('{{ b64dec "c3R!" }}', "illegal base64 data at input byte 3", id="b64dec-error-text"),
    P(
        '{{ b32dec "on2he2lom4======" }}',
        "illegal base32 data at input byte 0",
        id="b32dec-error-text",
    ),
]


@pytest.mark.parametrize(("template", "expected"), ENCODING)
def test_encoding_functions_give_sprigs_results(
    render: Render, template: str, expected: str
) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P(
            '{{ mustFromJson "{nope" }}',
            "error calling mustFromJson: invalid character 'n'",
            id="bad-json",
        ),
        P('{{ mustFromJson "[1," }}', "unexpected end of JSON input", id="truncated-json"),
        P('{{ mustToJson (float64 "Inf") }}', "json: unsupported value: +Inf", id="infinity"),
    ],
)
def test_must_forms_report_json_errors(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert detail in str(caught.value)

"""Template errors: Flux's wording, reasons, and no traceback-style surprises."""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.errors import StalledError
from tagpilot.core.message import (
    RemovedTemplateFieldError,
    TemplateExecutionError,
    TemplateParseError,
)

P = pytest.param
PARSE = "unable to create commit message template from spec: template: commit message:"
EXEC = "failed to run template from spec: template: commit message:"
DOCS = "See: https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template"


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P("{{ if", "1: unclosed action", id="unclosed-action"),
        P("a\n{{ end }}", "2: unexpected {{end}}", id="stray-end-names-line-2"),
        P("{{ range .Changed.Changes }}x", "1: unexpected EOF", id="missing-end"),
        P("{{ nofunc 1 }}", '1: function "nofunc" not defined', id="unknown-function"),
        P("{{ $x }}", '1: undefined variable "$x"', id="undeclared-variable"),
        P('{{ "abc }}', "1: unterminated quoted string", id="unterminated-string"),
        P("{{ break }}", "1: {{break}} outside {{range}}", id="break-outside-range"),
        P("{{ 3 | 4 }}", "1: non executable command in pipeline stage 2", id="constant-stage"),
        P("{{ ) }}", "1: unexpected right paren", id="unexpected-paren"),
        P("{{ 1x }}", "1: bad number syntax: '1x'", id="bad-number"),
        P("{{/* open", "1: unclosed comment", id="unclosed-comment"),
        P(
            '{{ if true }}{{ define "x" }}{{ end }}{{ end }}',
            "unexpected <define>",
            id="nested-define",
        ),
        P(
            '{{ define "x" }}a{{ end }}{{ define "x" }}b{{ end }}',
            "multiple definition",
            id="redefine",
        ),
        P("{{ template x }}", 'unexpected "x" in template clause', id="template-name-not-string"),
        P(
            "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
            "nesting deeper than 100",
            id="deep-nesting",
        ),
    ],
)
def test_parse_errors_use_flux_wording(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateParseError) as caught:
        render(template)
    assert str(caught.value).startswith(PARSE)
    assert detail in str(caught.value)
    assert caught.value.reason == "GitOperationFailed"
    assert isinstance(caught.value, StalledError)


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P(
            "{{ .Foo }}",
            '1:3: executing "commit message" at <.Foo>: '
            "can't evaluate field Foo in type source.TemplateData",
            id="unknown-field-with-position",
        ),
        P(
            "{{ .Changed.Changes.X }}",
            "can't evaluate field X in type []update.Change",
            id="field-of-slice",
        ),
        P(
            "{{ index .Changed.Changes 5 }}",
            "error calling index: index out of range: 5",
            id="index-out-of-range",
        ),
        P("{{ lower 1 }}", "expected string; found 1", id="constant-for-typed-parameter"),
        P(
            "{{ lower (len .Values) }}",
            "wrong type for value; expected string; got int",
            id="typed",
        ),
        P('{{ until "3" }}', 'expected integer; found "3"', id="string-constant-for-int"),
        P(
            "{{ .Values.nope | lower }}",
            "invalid value; expected string",
            id="missing-key-as-string",
        ),
        P(
            '{{ slice "abc" 1 }}',
            "error calling slice: list should be type of slice or array but string",
            id="sprig-slice-shadows-builtin",
        ),
        P("{{ nil }}", "nil is not a command", id="nil-command"),
        P('{{ fail "boom" }}', "error calling fail: boom", id="sprig-fail"),
        P('{{ eq 1 "a" }}', "error calling eq: incompatible types for comparison", id="eq-kinds"),
        P("{{ .Changed.Changes 1 }}", "wrong number of args for Changes: want 0 got 1", id="args"),
        P('{{ regexFind "(" "x" }}', "error calling regexFind: regexp: Compile", id="bad-regexp"),
        P('{{ template "nope" }}', 'template "nope" not defined', id="undefined-template"),
    ],
)
def test_execution_errors_use_flux_wording(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert str(caught.value).startswith(EXEC)
    assert detail in str(caught.value)
    assert caught.value.reason == "GitOperationFailed"
    assert not caught.value.limit_exceeded


@pytest.mark.parametrize(
    ("template", "message"),
    [
        P(
            "{{range .Updated.Images}}{{println .}}{{end}}",
            f"template uses removed '.Updated' field. Please use '.Changed' instead. {DOCS}",
            id="flux-cli-help-example",
        ),
        P(
            "{{ range $f, $o := .Updated.Files }}{{ $f }}{{ end }}",
            f"template uses removed '.Updated' field. Please use '.Changed' instead. {DOCS}",
            id="updated-files",
        ),
        P(
            "{{ .Changed.ImageResult }}",
            "template uses removed '.Changed.ImageResult' field. Please use "
            f"'.Changed.FileChanges' or '.Changed.Objects' instead. {DOCS}",
            id="image-result",
        ),
    ],
)
def test_removed_fields_stall_with_flux_message(
    render: Render, template: str, message: str
) -> None:
    with pytest.raises(RemovedTemplateFieldError) as caught:
        render(template)
    assert str(caught.value) == message
    assert caught.value.reason == "RemovedTemplateField"
    assert isinstance(caught.value, StalledError)


def test_removed_field_in_a_branch_not_taken_is_not_an_error(render: Render) -> None:
    assert render("{{ if false }}{{ .Updated.Images }}{{ end }}ok") == "ok"

"""The template language, construct by construct, against Go text/template + Sprig semantics.

Data: ``.AutomationObject`` = flux-system/podinfo-auto; ``.Values`` = {"env": "prod"};
two files, deploy.yaml (Deployment podinfo/default: podinfo:5.0.0 -> podinfo:5.0.3) and
kustomization.yaml (Kustomization without name: 5.0.0 -> 5.0.3).
"""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import DEFAULT_MESSAGE_TEMPLATE

P = pytest.param

DATA_ACCESS = [
    P(
        "{{ .AutomationObject }}",
        "flux-system/podinfo-auto",
        id="namespaced-name-prints-ns-slash-name",
    ),
    P(
        "{{ .AutomationObject.Name }}/{{ .AutomationObject.Namespace }}",
        "podinfo-auto/flux-system",
        id="namespaced-name-fields",
    ),
    P("{{ .Values.env }}", "prod", id="values-key"),
    P("{{ .Values.missing }}", "<no value>", id="values-missing-key"),
    P(
        "{{ range .Changed.Changes }}{{ .Setter }};{{ end }}",
        "ns:podinfo;ns:p:tag;",
        id="changes-method-in-order",
    ),
    P(
        "{{ range $f, $o := .Changed.FileChanges }}{{ $f }};{{ end }}",
        "deploy.yaml;kustomization.yaml;",
        id="file-changes-sorted",
    ),
    P(
        "{{ range $id, $c := .Changed.Objects }}{{ $id.Kind }}:{{ $id.APIVersion }};{{ end }}",
        "Deployment:apps/v1;Kustomization:kustomize.config.k8s.io/v1beta1;",
        id="objects-sorted-by-api-version-first",
    ),
    P(
        "{{ range $id, $c := .Changed.Objects }}{{ $id.Name }}.{{ $id.Namespace }};{{ end }}",
        "podinfo.default;.;",
        id="object-name-and-namespace",
    ),
    P(
        "{{ index .Changed.Changes 0 }}",
        "{podinfo:5.0.0 podinfo:5.0.3 ns:podinfo}",
        id="change-struct-prints-with-v",
    ),
    P(
        '{{ index .Changed.FileChanges "deploy.yaml" }}',
        "map[{{{apps/v1 Deployment} {podinfo default}}}:[{podinfo:5.0.0 podinfo:5.0.3 "
        "ns:podinfo}]]",
        id="object-changes-map-prints-with-v",
    ),
    P("{{ .Values }}", "map[env:prod]", id="map-prints-sorted-with-v"),
    P("{{ (index .Changed.Changes 1).NewValue }}", "5.0.3", id="field-of-parenthesised-pipeline"),
    P(
        "{{ len .Changed.Changes }} {{ len .Changed.FileChanges }} {{ len .Changed.Objects }}",
        "2 2 2",
        id="len-of-results",
    ),
]

CONTROL = [
    P("{{ if eq 1 2 }}a{{ else if eq 1 1 }}b{{ else }}c{{ end }}", "b", id="if-else-if-else"),
    P("{{ if .Values.none }}a{{ else }}b{{ end }}", "b", id="if-on-missing-key-is-false"),
    P("{{ with .Values.env }}[{{ . }}]{{ end }}", "[prod]", id="with-sets-dot"),
    P(
        "{{ with .Values.none }}x{{ else with .Values.env }}{{ . }}{{ end }}",
        "prod",
        id="else-with",
    ),
    P("{{ with $x := .Values.env }}{{ $x }}{{ end }}", "prod", id="with-declares-variable"),
    P(
        '{{ range $i, $e := list "a" "b" "c" }}{{ $i }}{{ $e }}{{ end }}',
        "0a1b2c",
        id="range-index-and-element",
    ),
    P(
        '{{ range list "a" "b" "c" }}{{ if eq . "b" }}{{ break }}{{ end }}{{ . }}{{ end }}',
        "a",
        id="break",
    ),
    P(
        '{{ range list "a" "b" "c" }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ . }}{{ end }}',
        "ac",
        id="continue",
    ),
    P("{{ range 3 }}{{ . }}{{ end }}", "012", id="range-over-integer"),
    P("{{ range list }}x{{ else }}empty{{ end }}", "empty", id="range-else-on-empty"),
    P(
        '{{ range $k, $v := dict "b" 2 "a" 1 }}{{ $k }}{{ $v }}{{ end }}',
        "a1b2",
        id="range-map-sorted-keys",
    ),
    P(
        "{{ range .Changed.Changes }}{{ $.Values.env }}{{ end }}",
        "prodprod",
        id="dollar-is-root-inside-range",
    ),
    P(
        '{{ define "item" }}- {{ .NewValue }}\n{{ end }}'
        '{{ range .Changed.Changes }}{{ template "item" . }}{{ end }}',
        "- podinfo:5.0.3\n- 5.0.3\n",
        id="define-and-template-with-dot",
    ),
    P(
        '{{ define "v" }}{{ . }}{{ end }}{{ template "v" }}|{{ template "v" 7 }}',
        "<no value>|7",
        id="template-without-pipeline-gets-nil",
    ),
    P('{{ block "b" .Values.env }}[{{ . }}]{{ end }}', "[prod]", id="block-defines-and-calls"),
]

VARIABLES_AND_PIPELINES = [
    P('{{ $x := "a" }}{{ $x = "b" }}{{ $x }}', "b", id="declare-then-assign"),
    P(
        '{{ $x := "out" }}{{ if true }}{{ $x := "in" }}{{ end }}{{ $x }}',
        "out",
        id="declaration-scoped-to-block",
    ),
    P(
        '{{ $x := "out" }}{{ if true }}{{ $x = "in" }}{{ end }}{{ $x }}',
        "in",
        id="assignment-reaches-outer-variable",
    ),
    P('{{ "abc" | upper | printf "%s!" }}', "ABC!", id="pipeline-passes-last-argument"),
    P('{{ printf "%s-%s" "a" ("b" | upper) }}', "a-B", id="parenthesised-pipeline-argument"),
    P('{{ .Values.none | default "dflt" }}', "dflt", id="missing-key-into-default"),
    P("{{/* comment */}}a{{- /* trimmed */ -}} b", "ab", id="comments"),
    P("a\n  {{- 1 }}\n  {{ 2 -}}\n  b", "a1\n  2b", id="trim-markers-eat-newlines"),
    P("{{-3}}", "-3", id="dash-number-is-not-trim"),
    P(
        "{{ 1.5 }} {{ 1e6 }} {{ 0x1F }} {{ 'a' }} {{ 1_000 }}",
        "1.5 1e+06 31 97 1000",
        id="number-literals",
    ),
    P('{{ "tab\\there" }} {{ `raw\\n` }}', "tab\there raw\\n", id="string-literals"),
]

BUILTINS = [
    P(
        '{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" }} {{ or 0 "z" 1 }}',
        "0 2  z",
        id="and-or-return-operands",
    ),
    P("{{ or true .Values.env.Missing }}", "true", id="or-short-circuits"),
    P("{{ and false .Values.env.Missing }}", "false", id="and-short-circuits"),
    P('{{ not 0 }} {{ not "x" }}', "true false", id="not"),
    P(
        "{{ and 1 .Values.none }}|{{ not .Values.none }}",
        "<no value>|true",
        id="missing-key-in-builtins",
    ),
    P('{{ until 2.0 }} {{ repeat 2 "ab" }}', "[0 1] abab", id="integral-constant-for-int"),
    P('{{ len "héllo" }}', "6", id="len-counts-bytes"),
    P('{{ index (list "a" "b") 1 }} {{ index .Values "env" }}', "b prod", id="index"),
    P(
        '{{ eq 1 2 1 }} {{ ne "a" "b" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1 2 }}',
        "true true true true true false",
        id="comparisons",
    ),
    P("{{ eq (index .Changed.Changes 0) (index .Changed.Changes 0) }}", "true", id="eq-on-structs"),
    P("{{ html \"<a href='x'>&\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;", id="html"),
    P('{{ js "it\'s \\"x\\" <b>\\n" }}', 'it\\\'s \\"x\\" \\u003Cb\\u003E\\u000A', id="js"),
    P('{{ urlquery "a b&c=d/é" }}', "a+b%26c%3Dd%2F%C3%A9", id="urlquery"),
    P('{{ print "a" 1 2 "b" nil }}', "a1 2b<nil>", id="print-spacing"),
    P('{{ println "a" 1 }}', "a 1\n", id="println"),
]

PRINTF = [
    P(
        '{{ printf "%v|%s|%d|%q|%t" .AutomationObject "s" 42 "q\\n" true }}',
        'flux-system/podinfo-auto|s|42|"q\\n"|true',
        id="basic-verbs",
    ),
    P(
        '{{ printf "%5s|%-5s|%05d|%x|%X|%.2f|%.3s" "ab" "ab" 42 "hi" 255 3.14159 "abcdef" }}',
        "   ab|ab   |00042|6869|FF|3.14|abc",
        id="width-precision-flags",
    ),
    P(
        '{{ printf "%+v" (index .Changed.Changes 1) }}',
        "{OldValue:5.0.0 NewValue:5.0.3 Setter:ns:p:tag}",
        id="plus-v-names-fields",
    ),
    P('{{ printf "%T %T %T" 1 "s" .Changed }}', "int string update.Result", id="type-verb"),
    P(
        '{{ printf "%d" "x" }}|{{ printf "%d %d" 1 }}|{{ printf "%d" 1 2 }}|{{ printf "100%%" }}',
        "%!d(string=x)|1 %!d(MISSING)|1%!(EXTRA int=2)|100%",
        id="go-inline-errors",
    ),
    P(
        '{{ printf "%v" 1e21 }} {{ printf "%v" 0.000012 }} {{ printf "%v" 123456.0 }}',
        "1e+21 1.2e-05 123456",
        id="float-v-shortest",
    ),
]

SPRIG = [
    P(
        '{{ lower "ABC" }} {{ upper "abc" }} {{ title "hello world-x" }}',
        "abc ABC Hello World-X",
        id="case",
    ),
    P(
        '[{{ trim "  x  " }}] {{ trimAll "-" "--x--" }} {{ trimPrefix "v" "v1.2" }} '
        '{{ trimSuffix "-rc" "1.2-rc" }}',
        "[x] x 1.2 1.2",
        id="trimming",
    ),
    P(
        '{{ contains "b" "abc" }} {{ hasPrefix "a" "abc" }} {{ hasSuffix "x" "abc" }}',
        "true true false",
        id="predicates-take-needle-first",
    ),
    P(
        '{{ replace "." "-" "1.2.3" }} {{ repeat 3 "ab" }} {{ trunc 3 "abcdef" }} '
        '{{ trunc -2 "abcdef" }}',
        "1-2-3 ababab abc ef",
        id="replace-repeat-trunc",
    ),
    P(
        '{{ join "," (list 1 "a" nil 2) }} {{ splitList "," "a,b" }} {{ split "," "a,b" }}',
        "1,a,2 [a b] map[_0:a _1:b]",
        id="join-and-split",
    ),
    P('{{ quote "a" 1 }} {{ squote "b" }} {{ cat "a" nil 1 }}', '"a" "1" \'b\' a 1', id="quoting"),
    P(
        "{{ toString 1 }} {{ toString .AutomationObject }} "
        "{{ toString (index .Changed.Changes 1) }}",
        "1 flux-system/podinfo-auto {5.0.0 5.0.3 ns:p:tag}",
        id="toString",
    ),
    P(
        '{{ sha256sum "abc" }} {{ sha1sum "abc" }}',
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
        "a9993e364706816aba3e25717850c26c9cd0d89d",
        id="hashes",
    ),
    P('{{ b64enc "hi" }} {{ b64dec "aGk=" }}', "aGk= hi", id="base64"),
    P(
        '{{ default "d" "" }} {{ default "d" "v" }} {{ empty 0 }} {{ coalesce "" 0 "c" }} '
        '{{ ternary "y" "n" false }}',
        "d v true c n",
        id="defaults",
    ),
    P(
        '{{ list 1 "a" }} {{ first (list 1 2) }} {{ last (list 1 2) }} {{ rest (list 1 2 3) }} '
        '{{ uniq (list 1 1 2) }} {{ sortAlpha (list "b" "a") }}',
        "[1 a] 1 2 [2 3] [1 2] [a b]",
        id="lists",
    ),
    P(
        "{{ slice (list 1 2 3) 1 }} {{ until 3 }} {{ untilStep 0 6 2 }} {{ reverse (list 1 2) }} "
        "{{ has 2 (list 1 2) }}",
        "[2 3] [0 1 2] [0 2 4] [2 1] true",
        id="list-ranges",
    ),
    P(
        '{{ dict "a" 1 "b" 2 }} {{ get (dict "a" 1) "a" }} '
        '{{ get (dict) "x" }}| {{ keys (dict "b" 1 "a" 2) | sortAlpha }} '
        '{{ hasKey (dict "a" 1) "a" }}',
        "map[a:1 b:2] 1 | [a b] true",
        id="dicts",
    ),
    P('{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', "  a\n  b|\n  a", id="indent"),
    P(
        '{{ regexMatch "^v[0-9]+$" "v12" }} {{ regexFind "[0-9]+" "ab12cd34" }} '
        '{{ regexFindAll "[0-9]" "a1b2c3" 2 }}',
        "true 12 [1 2]",
        id="regex-find",
    ),
    P(
        '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }} '
        '{{ regexReplaceAllLiteral "a(x*)b" "-ab-" "${1}" }} {{ regexSplit "," "a,b,c" -1 }}',
        "-W-xxW- -${1}- [a b c]",
        id="regex-replace-and-split",
    ),
    P(
        '{{ regexReplaceAll "a(?P<x>x*)b" "-axxb-é" "${x}|$1|$$" }}',
        "-xx|xx|$-é",
        id="regex-named-groups-and-dollar",
    ),
    P(
        "{{ toJson .Changed.Changes }}",
        '[{"OldValue":"podinfo:5.0.0","NewValue":"podinfo:5.0.3","Setter":"ns:podinfo"},'
        '{"OldValue":"5.0.0","NewValue":"5.0.3","Setter":"ns:p:tag"}]',
        id="toJson-of-changes",
    ),
    P(
        "{{ range $id, $c := .Changed.Objects }}{{ toJson $id }};{{ end }}",
        '{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo",'
        '"namespace":"default"};{"apiVersion":"kustomize.config.k8s.io/v1beta1",'
        '"kind":"Kustomization"};',
        id="toJson-of-identity-uses-kyaml-tags",
    ),
    P(
        "{{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ add1 1 }} "
        '{{ max 1 5 3 }} {{ atoi "42" }}',
        "6 3 6 3 1 2 5 42",
        id="integer-math",
    ),
]


@pytest.mark.parametrize(("template", "expected"), DATA_ACCESS)
def test_template_data_matches_flux(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(("template", "expected"), CONTROL)
def test_control_structures(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(("template", "expected"), VARIABLES_AND_PIPELINES)
def test_variables_pipelines_and_lexing(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(("template", "expected"), BUILTINS)
def test_go_builtin_functions(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(("template", "expected"), PRINTF)
def test_printf_follows_go_fmt(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(("template", "expected"), SPRIG)
def test_sprig_functions(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize("template", [P(None, id="none"), P("", id="empty-string")])
def test_empty_template_gives_flux_default_message(render: Render, template: str | None) -> None:
    assert render(template) == DEFAULT_MESSAGE_TEMPLATE == "Update from image update automation"


def test_nil_values_map_prints_no_value(render: Render) -> None:
    assert render("{{ .Values.env }}", values={}) == "<no value>"

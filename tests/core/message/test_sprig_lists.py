"""Sprig's list functions, by their documented results, with Go's types and errors."""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

LISTS = [
    P("{{ first (list 1 2 3) }} {{ mustFirst (list 1 2 3) }}", "1 1", id="first"),
    P("{{ last (list 1 2 3) }} {{ mustLast (list 1 2 3) }}", "3 3", id="last"),
    P("{{ rest (list 1 2 3) }} {{ mustRest (list 1 2 3) }}", "[2 3] [2 3]", id="rest"),
    P("{{ initial (list 1 2 3) }} {{ mustInitial (list 1 2 3) }}", "[1 2] [1 2]", id="initial"),
    P("{{ append (list 1 2) 3 }} {{ mustAppend (list 1 2) 3 }}", "[1 2 3] [1 2 3]", id="append"),
    P("{{ push (list 1 2) 3 }} {{ mustPush (list 1 2) 3 }}", "[1 2 3] [1 2 3]", id="push"),
    P("{{ prepend (list 1 2) 0 }} {{ mustPrepend (list 1 2) 0 }}", "[0 1 2] [0 1 2]", id="prepend"),
    P("{{ concat (list 1 2) (list 3) (list) (list 4 5) }}", "[1 2 3 4 5]", id="concat"),
    P("{{ reverse (list 1 2 3) }} {{ mustReverse (list 1 2 3) }}", "[3 2 1] [3 2 1]", id="reverse"),
    P("{{ uniq (list 1 1 2 2) }} {{ mustUniq (list 1 1 2 2) }}", "[1 2] [1 2]", id="uniq"),
    P("{{ uniq (list 1 (add 1 0)) }}", "[1 1]", id="uniq-int-and-int64-differ"),
    P("{{ uniq (list (list 1) (list 1)) }}", "[[1]]", id="uniq-compares-deeply"),
    P("{{ without (list 1 2 3 4) 1 3 }}", "[2 4]", id="without"),
    P("{{ mustWithout (list 1 2 3 4) 2 }}", "[1 3 4]", id="mustWithout"),
    P("{{ has 4 (list 1 2 3 4) }} {{ mustHas 5 (list 1 2 3 4) }}", "true false", id="has"),
    P("{{ has 1 nil }}", "false", id="has-in-nil-list"),
    P('{{ compact (list 1 "" 0 false "a") }}', "[1 a]", id="compact"),
    P('{{ mustCompact (list "" "x") }}', "[x]", id="mustCompact"),
    P(
        "{{ slice (list 1 2 3 4 5) 1 3 }} {{ mustSlice (list 1 2 3 4 5) 3 }}",
        "[2 3] [4 5]",
        id="slice",
    ),
    P("{{ slice (list) }}", "<no value>", id="slice-of-empty-list-is-nil"),
    P("{{ first (list) }}|{{ print (first (list)) }}", "<no value>|<nil>", id="nil-prints-as-go"),
    P("{{ rest (list) }} {{ initial (list) }} {{ concat }}", "[] [] []", id="empty-slices"),
    P("{{ chunk 2 (list 1 2 3 4 5) }}", "[[1 2] [3 4] [5]]", id="chunk"),
    P("{{ mustChunk 3 (list 1 2 3) }}", "[[1 2 3]]", id="mustChunk"),
    P("{{ chunk 2 (list) }}", "[]", id="chunk-of-empty-list"),
    P('{{ splitn "$" 2 "foo$bar$baz" }}', "map[_0:foo _1:bar$baz]", id="splitn"),
    P('{{ (splitn "$" 2 "foo$bar$baz")._1 }}', "bar$baz", id="splitn-field"),
    P('{{ splitList "," "a,b" | typeOf }}', "[]string", id="splitList-gives-strings"),
    P('{{ split "," "a,b" | typeOf }}', "map[string]string", id="split-gives-string-map"),
    P("{{ until 3 | typeOf }} {{ list 1 | typeOf }}", "[]int []interface {}", id="list-types"),
    P('{{ sortAlpha (list "b" 10 "a") }}', "[10 a b]", id="sortAlpha-sorts-as-strings"),
    P(
        "{{ toStrings (list 1 nil 2.5) | typeOf }} {{ toStrings (list 1 nil 2.5) }}",
        "[]string [1 2.5]",
        id="toStrings",
    ),
    P('{{ tuple 1 "a" }}', "[1 a]", id="tuple-is-list"),
]


@pytest.mark.parametrize(("template", "expected"), LISTS)
def test_list_functions_give_sprigs_results(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P('{{ first "abc" }}', "error calling first: Cannot find first on type string", id="first"),
        P("{{ mustLast (dict) }}", "Cannot find last on type map", id="last-of-map"),
        P("{{ push 1 2 }}", "error calling push: Cannot push on type int", id="push"),
        P("{{ concat (list 1) 2 }}", "Cannot concat type int as list", id="concat"),
        P("{{ chunk 0 (list 1) }}", "makeslice: len out of range", id="chunk-size-zero"),
        P("{{ slice (list 1 2) 1 5 }}", "slice index out of range", id="slice-bounds"),
        P("{{ rest nil }}", "nil pointer dereference", id="rest-of-nil"),
        P('{{ mustWithout "x" 1 }}', "Cannot find without on type string", id="without"),
    ],
)
def test_list_functions_refuse_what_sprig_refuses(
    render: Render, template: str, detail: str
) -> None:
    with pytest.raises(TemplateExecutionError, match="error calling") as caught:
        render(template)
    assert detail in str(caught.value)

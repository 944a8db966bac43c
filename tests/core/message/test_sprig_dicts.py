"""Sprig's dictionary functions, by their documented results.

Dictionaries are Go maps: ``set``/``unset``/``merge`` change the map they are given.
"""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

DICTS = [
    P(
        '{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ $d }}',
        "map[a:1 b:2]",
        id="set-changes-the-map",
    ),
    P('{{ unset (dict "a" 1 "b" 2) "a" }}', "map[b:2]", id="unset"),
    P('{{ pluck "name" (dict "name" "a") (dict "x" 1) (dict "name" "b") }}', "[a b]", id="pluck"),
    P('{{ pick (dict "a" 1 "b" 2 "c" 3) "a" "c" "z" }}', "map[a:1 c:3]", id="pick"),
    P('{{ omit (dict "a" 1 "b" 2 "c" 3) "a" "c" }}', "map[b:2]", id="omit"),
    P('{{ values (dict "b" 2 "a" 1) }}', "[1 2]", id="values-in-key-order"),
    P('{{ keys (dict "b" 1) (dict "a" 2 "b" 3) }}', "[b a b]", id="keys-of-several-dicts"),
    P(
        '{{ merge (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "b" 3 "n" (dict "y" 2)) }}',
        "map[a:1 b:3 n:map[x:1 y:2]]",
        id="merge-keeps-destination-values",
    ),
    P('{{ merge (dict "a" "") (dict "a" "filled") }}', "map[a:filled]", id="merge-fills-empty"),
    P('{{ mustMerge (dict) (dict "a" 1) (dict "a" 2) }}', "map[a:1]", id="mustMerge-first-wins"),
    P(
        '{{ mergeOverwrite (dict "default" "default" "overwrite" "me" "key" true) '
        '(dict "overwrite" "overwritten" "key" false) }}',
        "map[default:default key:false overwrite:overwritten]",
        id="mergeOverwrite",
    ),
    P('{{ mustMergeOverwrite (dict "a" 1) (dict "a" 2) }}', "map[a:2]", id="mustMergeOverwrite"),
    P(
        '{{ mergeOverwrite (dict "a" 1 "b" 2) (dict "a" (dict "x" 1) "b" nil) }}',
        "map[a:1 b:<nil>]",
        id="mergeOverwrite-map-never-replaces-a-value",
    ),
    P('{{ merge (dict "a" 1) (dict "a" nil "b" nil) }}', "map[a:1]", id="merge-skips-nil"),
    P(
        '{{ dig "user" "role" "name" "guest" (dict "user" (dict "role" (dict "name" "admin"))) }}',
        "admin",
        id="dig",
    ),
    P('{{ dig "user" "missing" "guest" (dict "user" (dict)) }}', "guest", id="dig-default"),
    P(
        '{{ $a := dict "n" (dict "x" 1) }}{{ $b := deepCopy $a }}{{ $_ := set $b.n "x" 2 }}'
        "{{ $a }} {{ $b }}",
        "map[n:map[x:1]] map[n:map[x:2]]",
        id="deepCopy-is-independent",
    ),
    P('{{ mustDeepCopy (list 1 (dict "a" 1)) }}', "[1 map[a:1]]", id="mustDeepCopy"),
]


@pytest.mark.parametrize(("template", "expected"), DICTS)
def test_dict_functions_give_sprigs_results(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P('{{ dig "a" (dict) }}', "dig needs at least three arguments", id="dig-arguments"),
        P('{{ dig "a" "b" "d" (dict "a" 1) }}', "interface {} is int, not map", id="dig-into-int"),
        P('{{ set .Values "a" "b" }}', "expected map[string]interface {}", id="typed-map"),
        P("{{ pick (dict) 1 }}", "expected string", id="pick-keys-are-strings"),
    ],
)
def test_dict_functions_refuse_what_go_refuses(render: Render, template: str, detail: str) -> None:
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert detail in str(caught.value)

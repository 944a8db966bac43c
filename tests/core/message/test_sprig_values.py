"""Sprig's defaults, reflection and flow functions, in Go's type vocabulary."""

from __future__ import annotations

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param

VALUES = [
    P('{{ all 1 "a" (list 1) }} {{ all 1 "" }} {{ all }}', "true false true", id="all"),
    P('{{ any 0 "" "x" }} {{ any 0 "" }} {{ any }}', "true false false", id="any"),
    P('{{ default "foo" .Values.missing }} {{ "bar" | default "foo" }}', "foo bar", id="default"),
    P('{{ coalesce 0 "" nil "first" "second" }}', "first", id="coalesce"),
    P("{{ empty (dict) }} {{ empty .AutomationObject }}", "true false", id="empty-struct-never"),
    P('{{ ternary "yes" "no" (eq 1 1) }}', "yes", id="ternary"),
    P(
        '{{ typeOf 1 }} {{ typeOf 1.5 }} {{ typeOf "s" }} {{ typeOf true }} {{ typeOf nil }}',
        "int float64 string bool <nil>",
        id="typeOf-basics",
    ),
    P(
        "{{ typeOf (list) }} {{ typeOf (dict) }} {{ typeOf .Values }} "
        "{{ typeOf .AutomationObject }}",
        "[]interface {} map[string]interface {} map[string]string types.NamespacedName",
        id="typeOf-composites",
    ),
    P(
        "{{ typeOf .Changed.Changes }} {{ typeOf .Changed.FileChanges }}",
        "[]update.Change map[string]update.ObjectChanges",
        id="typeOf-flux-data",
    ),
    P('{{ typeIs "int" 1 }} {{ typeIs "int64" 1 }}', "true false", id="typeIs"),
    P(
        '{{ typeIsLike "semver.Version" (semver "1.0.0") }} {{ typeIsLike "int" 1 }}',
        "true true",
        id="typeIsLike-allows-pointer",
    ),
    P(
        "{{ kindOf 1 }} {{ kindOf (add 1) }} {{ kindOf (list) }} {{ kindOf (dict) }} "
        "{{ kindOf .AutomationObject }} {{ kindOf nil }}",
        "int int64 slice map struct invalid",
        id="kindOf",
    ),
    P('{{ kindIs "slice" .Changed.Changes }} {{ kindIs "map" "x" }}', "true false", id="kindIs"),
    P(
        '{{ deepEqual (list 1 (dict "a" "b")) (list 1 (dict "a" "b")) }} {{ deepEqual 1 1.0 }}',
        "true false",
        id="deepEqual",
    ),
    P("{{ deepEqual 2 (add 1 1) }}", "false", id="deepEqual-int-is-not-int64"),
]


@pytest.mark.parametrize(("template", "expected"), VALUES)
def test_value_functions_give_sprigs_results(render: Render, template: str, expected: str) -> None:
    assert render(template) == expected


def test_fail_stops_the_render_with_the_users_message(render: Render) -> None:
    with pytest.raises(TemplateExecutionError, match="error calling fail: no changes to report"):
        render('{{ fail "no changes to report" }}')

"""Named hostile commit message templates: loops, megabytes, recursion and deep nesting.

Each must stop with the engine's bounded error (``limit_exceeded`` for exhausted limits)
well within a second, as the default limits promise.
"""

from __future__ import annotations

import pytest
from fuzz_support import finishes_within

from tagpilot.core.changes import Change, ChangeRecord, ChangeSet, ObjectIdentity
from tagpilot.core.message import (
    TemplateExecutionError,
    TemplateParseError,
    render_commit_message,
)

DEPLOYMENT = ObjectIdentity("apps/v1", "Deployment", "app", "apps")
CHANGES = ChangeSet.of(
    [ChangeRecord("deploy.yaml", DEPLOYMENT, Change("app:1.0.0", "app:1.0.1", "apps:app"))]
)


def _render(template: str) -> str:
    return render_commit_message(
        template, automation=("apps", "app"), changes=CHANGES, values={"env": "prod"}
    )


def _fan_out(levels: int) -> str:
    """Each named template calls the one below twice: 2**levels calls in all."""
    defines = ['{{define "t0"}}x{{end}}']
    for level in range(1, levels + 1):
        below = f'{{{{template "t{level - 1}"}}}}'
        defines.append(f'{{{{define "t{level}"}}}}{below}{below}{{{{end}}}}')
    return "".join(defines) + f'{{{{template "t{levels}"}}}}'


LIMITED = [
    pytest.param("{{range until 100000000}}x{{end}}", id="until-a-hundred-million"),
    pytest.param('{{repeat 100000000 "x"}}', id="repeat-a-hundred-megabytes"),
    pytest.param('{{printf "%100000000d" 1}}', id="printf-width-a-hundred-million"),
    pytest.param('{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}', id="self-recursion"),
    pytest.param(_fan_out(40), id="define-fan-out-2-to-the-40"),
    pytest.param(
        '{{$x := "ab"}}{{range until 64}}{{$x = print $x $x}}{{end}}{{$x}}',
        id="doubling-a-variable",
    ),
    pytest.param(
        "{{range until 1000}}{{range until 1000}}{{range until 1000}}.{{end}}{{end}}{{end}}",
        id="a-billion-iterations",
    ),
    pytest.param(
        "{{range until 60000}}{{println $.Changed.Changes}}{{end}}", id="megabytes-of-output"
    ),
    pytest.param('{{join (repeat 100 "x") (until 100000)}}', id="join-a-huge-list"),
    pytest.param('{{range splitList "" (repeat 60000 "a")}}{{.}}{{end}}', id="split-into-60000"),
]  # fmt: skip


@pytest.mark.parametrize("template", LIMITED)
def test_runaway_templates_stop_at_a_limit_within_a_second(template: str) -> None:
    with finishes_within(1.0), pytest.raises(TemplateExecutionError) as raised:
        _render(template)
    assert raised.value.limit_exceeded, str(raised.value)


NESTED = [
    pytest.param("{{if 1}}" * 4000 + "{{end}}" * 4000, id="if-4000-deep"),
    pytest.param("{{with 1}}" * 3000 + "{{end}}" * 3000, id="with-3000-deep"),
    pytest.param("{{range until 1}}" * 2000 + "{{end}}" * 2000, id="range-2000-deep"),
    pytest.param('{{block "b" .}}' * 2000 + "{{end}}" * 2000, id="block-2000-deep"),
    pytest.param("{{" + "(" * 10000 + "1" + ")" * 10000 + "}}", id="parentheses-10000-deep"),
]


@pytest.mark.parametrize("template", NESTED)
def test_deeply_nested_templates_are_refused_at_parse_time(template: str) -> None:
    with finishes_within(1.0), pytest.raises(TemplateParseError, match="nesting deeper than"):
        _render(template)


MALFORMED = [
    pytest.param("x" * 1_000_000, "more than the limit", id="a-megabyte-of-template"),
    pytest.param("{{/*" * 10000, "unclosed comment", id="unclosed-comments"),
    pytest.param("{{" * 20000, "unclosed action", id="unclosed-actions"),
    pytest.param("{{\x00}}", "unrecognized character", id="nul-byte"),
    pytest.param("{{ .Changed.Changes | \udcff }}", "not valid Unicode", id="lone-surrogate"),
    pytest.param("text \ud800 outside actions", "not valid Unicode", id="lone-surrogate-in-text"),
]


@pytest.mark.parametrize(("template", "why"), MALFORMED)
def test_malformed_templates_fail_to_parse_with_a_reason(template: str, why: str) -> None:
    with finishes_within(1.0), pytest.raises(TemplateParseError, match=why):
        _render(template)

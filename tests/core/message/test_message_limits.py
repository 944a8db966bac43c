"""Templates are user input: loops, recursion-like nesting and output bombs end quickly."""

from __future__ import annotations

import time

import pytest
from message_testing import Render

from tagpilot.core.changes import Change, ChangeRecord, ChangeSet, ObjectIdentity
from tagpilot.core.message import (
    RenderLimits,
    TemplateExecutionError,
    TemplateParseError,
    render_commit_message,
)

P = pytest.param
SECONDS = 3.0  # generous: the machine is shared; each case takes well under 0.5 s alone


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P("{{ range until 100000000 }}x{{ end }}", "100000000 exceeds", id="until-huge"),
        P("{{ range untilStep 0 100000000 1 }}{{ end }}", "exceeds", id="untilStep-huge"),
        P("{{ range 100000000 }}{{ end }}", "limit of 100000 steps", id="range-integer"),
        P("{{ range until 1000 }}{{ range until 1000 }}{{ end }}{{ end }}", "steps", id="nested"),
        P('{{ repeat 100000000 "x" }}', "exceeds the limit of 65536", id="repeat"),
        P(
            '{{ $x := "xx" }}{{ range until 64 }}{{ $x = print $x $x }}{{ end }}',
            "65536",
            id="doubling",
        ),
        P('{{ printf "%0999999999d" 1 }}', "printf width or precision", id="printf-width"),
        P(
            "".join(
                f'{{{{ define "a{i}" }}}}{{{{ template "a{i + 1}" }}}}{{{{ template "a{i + 1}" }}}}'
                "{{ end }}"
                for i in range(40)
            )
            + '{{ define "a40" }}{{ end }}{{ template "a0" }}',
            "steps",
            id="exponential-template-fan-out",
        ),
        P(
            '{{ define "r" }}{{ template "r" }}{{ end }}{{ template "r" }}',
            "maximum template depth (100)",
            id="recursion",
        ),
        P('{{ template "commit message" }}', "maximum template depth", id="main-calls-itself"),
        P("{{ range until 99999 }}xxxxxxxxxx{{ end }}", "output exceeds", id="output-bomb"),
        P('{{ replace "" (repeat 60000 "x") "abc" }}', "exceeds", id="replace-empty-old"),
        P('{{ indent 60000 (repeat 1000 "\\n") }}', "exceeds", id="indent"),
        P('{{ join (repeat 60000 "x") (until 1000) }}', "exceeds", id="join-separator"),
        P('{{ regexReplaceAll "x" (repeat 60000 "x") "$0$0" }}', "exceeds", id="regex-replace"),
        P(
            '{{ $s := repeat 60000 "x" }}{{ range 3 }}{{ $r := regexFindAll "x" $s -1 }}{{ end }}',
            "steps",
            id="regex-matches",
        ),
        P(
            '{{ $s := repeat 60000 "x" }}{{ range until 99999 }}{{ $h := sha256sum $s }}{{ end }}',
            "steps",
            id="work-on-long-strings",
        ),
    ],
)
def test_hostile_templates_stop_with_a_limit_error(
    render: Render, template: str, detail: str
) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert time.monotonic() - started < SECONDS
    assert caught.value.limit_exceeded
    assert detail in str(caught.value)


def test_output_limit_counts_plain_text(render: Render) -> None:
    with pytest.raises(TemplateExecutionError, match="output exceeds the limit of 10 bytes"):
        render("x" * 11, limits=RenderLimits(max_output_bytes=10))


def test_step_limit_is_configurable(render: Render) -> None:
    assert render("{{ range 10 }}.{{ end }}", limits=RenderLimits(max_steps=100)) == "." * 10
    with pytest.raises(TemplateExecutionError, match="limit of 100 steps"):
        render("{{ range 100 }}.{{ end }}", limits=RenderLimits(max_steps=100))


def test_oversized_template_is_refused_before_parsing(render: Render) -> None:
    with pytest.raises(TemplateParseError, match="more than the limit of 65536"):
        render("x" * 70_000)


def test_a_large_realistic_change_set_renders_within_limits() -> None:
    records = [
        ChangeRecord(
            f"apps/app-{index:03d}/deployment.yaml",
            ObjectIdentity("apps/v1", "Deployment", f"app-{index:03d}", "default"),
            Change(f"app:{index}.0.0", f"app:{index}.0.1", f"flux-system:app-{index:03d}"),
        )
        for index in range(300)
    ]
    template = (
        "{{ range $f, $objects := .Changed.FileChanges -}}\n"
        "{{ $f }}:{{ range $id, $changes := $objects }}{{ range $changes }}"
        " {{ .OldValue }} -> {{ .NewValue }}{{ end }}{{ end }}\n{{ end -}}"
    )
    message = render_commit_message(
        template, automation=("ns", "auto"), changes=ChangeSet.of(records), values=None
    )
    assert message.count("\n") == 300
    assert message.startswith("apps/app-000/deployment.yaml: app:0.0.0 -> app:0.0.1\n")

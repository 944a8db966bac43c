"""Sprig functions that build lists, strings or do heavy work stay within the render limits."""

from __future__ import annotations

import time

import pytest
from message_testing import Render

from tagpilot.core.message import TemplateExecutionError

P = pytest.param
SECONDS = 3.0  # generous: the machine is shared; each case takes well under a second alone


@pytest.mark.parametrize(
    ("template", "detail"),
    [
        P("{{ seq 100000000 }}", "100000000 exceeds", id="seq"),
        P("{{ seq 0 1 99999 }}", "exceeds the limit of 65536", id="seq-string"),
        P("{{ concat (until 60000) (until 60000) }}", "120000 exceeds", id="concat"),
        P("{{ chunk 1 (until 99999) }}", "exceeds", id="chunk-output"),
        P('{{ wrapWith 1 (repeat 500 "x") (repeat 30000 "a ") }}', "exceeds", id="wrapWith"),
        P(
            '{{ range 2 }}{{ derivePassword 1 "pin" "p" "u" "s" }}{{ end }}',
            "limit of 100000 steps",
            id="derivePassword-in-a-loop",
        ),
        P(
            '{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}',
            "value nesting too deep",
            id="map-containing-itself",
        ),
        P(
            '{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ deepEqual $d $d }}',
            "value nesting too deep",
            id="deepEqual-of-a-cycle",
        ),
        P(
            '{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ mustToJson $d }}',
            "json: nesting too deep",
            id="toJson-of-a-cycle",
        ),
        P(
            '{{ $s := repeat 60000 "x" }}{{ range until 99999 }}{{ $h := snakecase $s }}{{ end }}',
            "steps",
            id="work-on-long-strings",
        ),
    ],
)
def test_sprig_functions_stop_at_the_limits(render: Render, template: str, detail: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateExecutionError) as caught:
        render(template)
    assert time.monotonic() - started < SECONDS
    assert caught.value.limit_exceeded or "json" in detail
    assert detail in str(caught.value)


def test_uniq_of_a_long_list_of_scalars_stays_cheap(render: Render) -> None:
    assert render("{{ len (uniq (concat (until 5000) (until 5000))) }}") == "5000"

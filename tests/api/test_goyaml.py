"""The go-yaml v2 printer: quoting, key order, layout and folding as Flux's --export prints them."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tagpilot.api.goyaml import emit_document, natural_key_less, scalar_style

TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\n\té"),
    max_size=120,
)


@pytest.mark.parametrize(
    ("text", "style"),
    [
        pytest.param("ghcr.io/stefanprodan/podinfo", "plain", id="image-name"),
        pytest.param("^main-[a-f0-9]+-(?P<ts>[0-9]+)", "plain", id="regex-with-brackets"),
        pytest.param("$ts", "plain", id="extract-template"),
        pytest.param("5.0.x", "plain", id="dotted-range"),
        pytest.param("^.*\\.sig$", "plain", id="default-exclusion"),
        pytest.param("flux@example.com", "plain", id="email"),
        pytest.param(">=1.0.0", "single", id="range-with-leading-indicator"),
        pytest.param("{{range .Changed.Changes}}", "single", id="template-braces"),
        pytest.param("*", "single", id="star"),
        pytest.param("&anchor", "single", id="ampersand"),
        pytest.param("a: b", "single", id="colon-space"),
        pytest.param("a #b", "single", id="space-hash"),
        pytest.param("- item", "single", id="dash-space"),
        pytest.param(" padded", "single", id="leading-space"),
        pytest.param("", "double", id="empty-string"),
        pytest.param("true", "double", id="boolean"),
        pytest.param("yes", "double", id="yaml-1.1-yes"),
        pytest.param("off", "double", id="yaml-1.1-off"),
        pytest.param("null", "double", id="null"),
        pytest.param("~", "double", id="tilde"),
        pytest.param("1.10", "double", id="float"),
        pytest.param("20251115", "double", id="integer"),
        pytest.param("0x1F", "double", id="hex"),
        pytest.param("1e3", "double", id="exponent"),
        pytest.param("08", "double", id="not-octal-but-float"),
        pytest.param("2024-03-17", "double", id="date"),
        pytest.param("1:30", "double", id="base-60"),
        pytest.param(".5", "double", id="leading-dot-float"),
        pytest.param("tab\there", "double", id="tab-is-special"),
        pytest.param("line one\nline two\n", "literal", id="multi-line"),
        pytest.param("trailing space \nx", "double", id="space-before-break"),
    ],
)
def test_strings_get_go_yaml_v2_styles(text: str, style: str) -> None:
    assert scalar_style(text) == style


def test_keys_sort_naturally_with_non_letters_first_and_numbers_by_value() -> None:
    keys = ["b", "a10", "a2", "A", "a_b", "aB", ".dockerconfigjson", "ca.crt", "caFile"]
    rendered = emit_document(dict.fromkeys(keys, "x"))
    order = [line.split(":")[0] for line in rendered.splitlines()]
    assert order == [".dockerconfigjson", "A", "a_b", "a2", "a10", "aB", "b", "ca.crt", "caFile"]
    assert natural_key_less("item2", "item10")


def test_layout_nests_maps_by_two_spaces_and_keeps_sequences_unindented() -> None:
    document = {"spec": {"list": ["a", {"k": "v", "j": 1}], "empty": {}, "none": [], "on": True}}
    assert emit_document(document) == (
        'spec:\n  empty: {}\n  list:\n  - a\n  - j: 1\n    k: v\n  none: []\n  "on": true\n'
    )


def test_quotes_inside_single_quoted_strings_are_doubled_and_escapes_used_in_double() -> None:
    assert emit_document({"a": "'quoted' >", "b": 'say "hi"\t'}) == (
        "a: '''quoted'' >'\nb: \"say \\\"hi\\\"\\t\"\n"
    )


def test_multi_line_strings_become_literal_blocks_with_chomping() -> None:
    assert emit_document({"k": "one\ntwo\n", "m": "one\ntwo"}) == (
        "k: |\n  one\n  two\nm: |-\n  one\n  two\n"
    )


def test_long_plain_strings_fold_at_the_first_space_past_column_80() -> None:
    words = " ".join(f"word{i:02d}" for i in range(20))
    rendered = emit_document({"description": words})
    first, second = rendered.splitlines()
    assert len(first) > 80
    assert first.endswith("word09")
    assert second == "  word10 word11 word12 word13 word14 word15 word16 word17 word18 word19"


def test_long_single_quoted_strings_fold_inside_the_quotes() -> None:
    template = (
        "{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}} [skip]"
    )
    rendered = emit_document({"spec": {"git": {"commit": {"messageTemplate": template}}}})
    assert rendered == (
        "spec:\n"
        "  git:\n"
        "    commit:\n"
        "      messageTemplate: '{{range .Changed.Changes}}{{print .OldValue}} -> {{println\n"
        "        .NewValue}}{{end}} [skip]'\n"
    )


def test_a_string_with_no_space_past_column_80_stays_on_one_line() -> None:
    template = "{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}"
    rendered = emit_document({"spec": {"messageTemplate": template}})
    assert rendered.splitlines()[1] == f"  messageTemplate: '{template}'"


@settings(max_examples=150, deadline=None)
@given(text=TEXT, depth=st.integers(min_value=0, max_value=3), in_list=st.booleans())
def test_every_string_reads_back_unchanged(text: str, depth: int, in_list: bool) -> None:
    """Whatever the quoting and folding, a YAML reader gets the same string back."""
    assume(text != "=")  # ruamel reads a bare "=" as the YAML 1.1 value type
    value: object = [text] if in_list else text
    for _ in range(depth):
        value = {"a": value}
    assert YAML(typ="safe", pure=True).load(emit_document({"k": value})) == {"k": value}

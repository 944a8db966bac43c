"""How a new value is written: the scalar's style is kept, ambiguous plain values quoted.

Flux re-serialises and may emit ``!!float 1.9.1``; we deliberately keep the bytes and
only double-quote a plain value that YAML 1.1 or 1.2 would not read back as a string.
"""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from tagpilot.core.setters import PolicyTarget, apply_setters, needs_quotes


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("1.10", id="float-1.1-and-1.2"),
        pytest.param("20251115", id="int"),
        pytest.param("1e3", id="exponent-1.2"),
        pytest.param("0x1F", id="hex"),
        pytest.param("0o17", id="octal-1.2"),
        pytest.param("017", id="octal-1.1"),
        pytest.param("1_000", id="underscore-int-1.1"),
        pytest.param("1:30", id="sexagesimal-1.1"),
        pytest.param(".inf", id="infinity"),
        pytest.param("yes", id="bool-1.1-yes"),
        pytest.param("on", id="bool-1.1-on"),
        pytest.param("N", id="bool-1.1-n"),
        pytest.param("true", id="bool"),
        pytest.param("null", id="null"),
        pytest.param("~", id="tilde"),
        pytest.param("", id="empty"),
        pytest.param("2025-11-15", id="timestamp-1.1"),
        pytest.param("<<", id="merge-key"),
        pytest.param("a: b", id="colon-space"),
        pytest.param("a #b", id="space-hash"),
        pytest.param("-x", id="leading-dash"),
        pytest.param("*x", id="alias-indicator"),
        pytest.param("a,b", id="flow-indicator"),
        pytest.param(" a", id="leading-space"),
        pytest.param("a\tb", id="tab"),
    ],
)
def test_values_that_would_not_read_back_as_strings_need_quotes(value: str) -> None:
    assert needs_quotes(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("v1.2.3", id="semver-with-v"),
        pytest.param("1.2.3", id="semver"),
        pytest.param("dev-20251115.42", id="dated-tag"),
        pytest.param("localhost:5000/app:1.0", id="registry-port"),
        pytest.param("app@sha256:abc", id="digest-ref"),
        pytest.param("sha256:2c26b46b", id="digest"),
        pytest.param("main-1c01cd25-1684430239", id="branch-sha-ts"),
    ],
)
def test_image_references_stay_plain(value: str) -> None:
    assert not needs_quotes(value)


def rewritten(line: str, tag: str) -> str:
    """``line`` (one ``key: value # marker``) after setting the tag to ``tag``."""
    table = {"ns:app": PolicyTarget("app", tag)}
    text = f'{line} # {{"$imagepolicy": "ns:app:tag"}}\n'
    return apply_setters(text, "f.yaml", table).new_text.split(" # ")[0]


@pytest.mark.parametrize(
    ("line", "tag", "expected"),
    [
        pytest.param("tag: 1.9", "1.10", 'tag: "1.10"', id="plain-number-gets-quotes"),
        pytest.param("tag: 1.9", "1.9.1", "tag: 1.9.1", id="plain-float-to-version-no-stale-tag"),
        pytest.param("tag: 1", "v2", "tag: v2", id="plain-int-to-string-no-stale-tag"),
        pytest.param("tag: ~", "v1.10", "tag: v1.10", id="null-to-string"),
        pytest.param("tag: v1", "20251115", 'tag: "20251115"', id="string-to-number"),
        pytest.param("tag: 'v1'", "it's", "tag: 'it''s'", id="single-escapes-quote"),
        pytest.param('tag: "v1"', 'a"b\\c', 'tag: "a\\"b\\\\c"', id="double-escapes"),
        pytest.param("tag: v1", "", 'tag: ""', id="empty-becomes-double-quoted"),
        pytest.param("tag: 'v1'", "", "tag: ''", id="empty-single-stays-single"),
        pytest.param("tag: !!str 1", "2", 'tag: !!str "2"', id="explicit-tag-kept"),
        pytest.param("tag: &t v1", "v2", "tag: &t v2", id="anchor-kept"),
        pytest.param("tag: !!int 1", "v2", "tag: v2", id="stale-int-tag-dropped"),
        pytest.param("tag: &t !!float 1.9", "1.10", 'tag: &t "1.10"', id="stale-float-tag-dropped"),
        pytest.param("tag: !!float &t 1.9", "v2", "tag: &t v2", id="tag-before-anchor-dropped"),
        pytest.param("tag: !custom 1", "v2", "tag: v2", id="custom-tag-dropped"),
        pytest.param("tag: ! 1", "2", 'tag: ! "2"', id="non-specific-tag-kept"),
    ],
)
def test_the_scalar_style_is_kept(line: str, tag: str, expected: str) -> None:
    assert rewritten(line, tag) == expected


@pytest.mark.parametrize(
    "tag",
    [
        "1.10",
        "20251115",
        "yes",
        "",
        "null",
        "it's",
        'a"b\\c',
        "1e3",
        "a: b",
        "x #y",
        "a\u2028b\x85",
    ],
)
@pytest.mark.parametrize("line", ["tag: v1", "tag: 'v1'", 'tag: "v1"', "tag: |\n  v1\n"])
def test_the_new_value_reads_back_as_the_same_string(line: str, tag: str) -> None:
    table = {"ns:app": PolicyTarget("app", tag)}
    key, rest = line.split(" ", 1)
    text = f'{key} {rest.split(chr(10))[0]} # {{"$imagepolicy": "ns:app:tag"}}\n'
    text += "".join(f"{part}\n" for part in rest.split("\n")[1:] if part)
    result = apply_setters(text, "f.yaml", table)
    loaded = YAML(typ="safe", pure=True).load(result.new_text)
    assert loaded["tag"].rstrip("\n") == tag

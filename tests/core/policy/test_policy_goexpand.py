"""Go ``Regexp.Expand`` as used for ``filterTags.extract``: every template rule, as a table.

Each row runs a real RE2 match of ``pattern`` on ``text`` and expands ``template`` with
the match, so group numbering and participation come from the engine, not from a fake.
"""

from __future__ import annotations

import pytest

from tagpilot.core.policy import go_expand
from tagpilot.core.policy.goexpand import ExpandTemplate
from tagpilot.core.policy.tagfilter import compile_pattern


def _expand(template: str, pattern: str, text: str) -> str:
    regex = compile_pattern(pattern)
    match = regex.search(text)
    assert match is not None, "every row's pattern must match its text"
    names = [""] * (regex.groups + 1)
    for name, index in regex.groupindex.items():
        names[index] = name
    return ExpandTemplate.compile(template, names).expand(text, match.span)


TWO_GROUPS = r"(?P<day>[0-9]+)\.(?P<build>[0-9]+)"
TEN_GROUPS = "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)"


@pytest.mark.parametrize(
    ("template", "pattern", "text", "expected"),
    [
        pytest.param("$1", TWO_GROUPS, "dev-20251115.9", "20251115", id="numbered-group"),
        pytest.param("$day", TWO_GROUPS, "dev-20251115.9", "20251115", id="named-group"),
        pytest.param("${build}", TWO_GROUPS, "dev-20251115.9", "9", id="braced-name"),
        pytest.param("$day.$build.0", TWO_GROUPS, "20251115.9", "20251115.9.0", id="dot-ends-name"),
        pytest.param("${day}x", TWO_GROUPS, "7.9", "7x", id="braces-separate-text"),
        pytest.param("$dayx", TWO_GROUPS, "7.9", "", id="longest-name-run-is-unknown"),
        pytest.param("$1x", "([0-9]+)", "42", "", id="dollar-1x-is-group-named-1x"),
        pytest.param("${1}x", "([0-9]+)", "42", "42x", id="braced-1-then-x"),
        pytest.param("$1_x", "([0-9]+)", "42", "", id="underscore-continues-name"),
        pytest.param("$1x", "(?P<1x>[0-9]+)", "42", "42", id="group-really-named-1x"),
        pytest.param("$10", TEN_GROUPS, "abcdefghij", "j", id="two-digit-number"),
        pytest.param("$0", "[0-9]+", "v42", "42", id="zero-is-whole-match"),
        pytest.param("$01", "([0-9]+)", "42", "", id="leading-zero-is-a-name"),
        pytest.param("$00", "([0-9]+)", "42", "", id="double-zero-is-a-name"),
        pytest.param("$9", "([0-9]+)", "42", "", id="missing-group-is-empty"),
        pytest.param("$123456789", "([0-9]+)", "42", "", id="nine-digit-number-missing"),
        pytest.param("<$2>", "(a)|(b)", "a", "<>", id="non-participating-group-empty"),
        pytest.param("$$", "x", "x", "$", id="double-dollar-is-dollar"),
        pytest.param("$$1", "(x)", "x", "$1", id="escaped-dollar-then-digit"),
        pytest.param("$$$1", "(x)", "x", "$x", id="escaped-dollar-then-reference"),
        pytest.param("a$-b", "x", "x", "a$-b", id="malformed-reference-kept"),
        pytest.param("a$", "x", "x", "a$", id="trailing-dollar-kept"),
        pytest.param("${1", "(x)", "x", "${1", id="unclosed-brace-kept"),
        pytest.param("$}", "(x)", "x", "$}", id="close-brace-kept"),
        pytest.param("${}", "(x)", "x", "${}", id="empty-braces-kept"),
        pytest.param("${-}", "(x)", "x", "${-}", id="braced-non-name-kept"),
        pytest.param("v-$1-$1", "(x)", "x", "v-x-x", id="literal-text-and-repeats"),
        pytest.param(r"\$1", "(x)", "x", r"\x", id="backslash-is-not-an-escape"),
        pytest.param("$é", "(x)", "x", "", id="unicode-letter-continues-name"),
        pytest.param("pre", "(x)", "x", "pre", id="no-reference"),
    ],
)
def test_extract_expands_like_go_regexp_expand(
    template: str, pattern: str, text: str, expected: str
) -> None:
    assert _expand(template, pattern, text) == expected


def test_go_expand_takes_plain_spans_and_names() -> None:
    spans = [(0, 10), (0, 8), (9, 10)]
    assert go_expand("${b}-$1", "2025111509", spans, {"b": 2}) == "9-20251115"


@pytest.mark.parametrize(
    ("template", "unknown"),
    [
        pytest.param("$ts", (), id="known-name"),
        pytest.param("$1x", ("1x",), id="digit-run-name"),
        pytest.param("$nope.$ts.$2", ("nope", "2"), id="unknown-name-and-number"),
        pytest.param("$$nope", (), id="escaped-dollar-is-no-reference"),
    ],
)
def test_unknown_names_lists_references_the_pattern_lacks(
    template: str, unknown: tuple[str, ...]
) -> None:
    names = ["", "ts"]
    assert ExpandTemplate.compile(template, names).unknown_names() == unknown

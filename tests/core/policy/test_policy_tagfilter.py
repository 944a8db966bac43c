"""``filterTags``: Go RE2 pattern validation and the candidate map Flux builds."""

from __future__ import annotations

import pytest

from tagpilot.core.errors import StalledError
from tagpilot.core.policy import InvalidPolicyError, TagFilterSpec
from tagpilot.core.policy.tagfilter import TagFilter


@pytest.mark.parametrize(
    ("pattern", "detail"),
    [
        pytest.param("(", "missing closing ): `(`", id="missing-paren"),
        pytest.param("[a", "missing closing ]: `[a`", id="missing-bracket"),
        pytest.param("a)", "unexpected ): `a)`", id="unexpected-paren"),
        pytest.param("a**", "invalid nested repetition operator: `**`", id="nested-repeat"),
        pytest.param("*", "missing argument to repetition operator: `*`", id="bare-star"),
        pytest.param("x{1001}", "invalid repeat count: `{1001}`", id="repeat-too-big"),
        pytest.param("[z-a]", "invalid character class range: `z-a`", id="reversed-range"),
        pytest.param("\\q", "invalid escape sequence: `\\q`", id="unknown-escape"),
        pytest.param("(?=x)", "invalid or unsupported Perl syntax: `(?=`", id="lookahead"),
        pytest.param("(?P<n", "invalid named capture: `(?P<n`", id="unclosed-name"),
        pytest.param("(?P<é>x)", "invalid named capture: `(?P<é>`", id="non-ascii-name"),
        pytest.param("a\\Cb", "invalid escape sequence: `\\C`", id="any-byte-escape"),
        pytest.param("x\\", "trailing backslash at end of expression: ``", id="trailing-bs"),
    ],
)
def test_invalid_pattern_stalls_with_flux_message(pattern: str, detail: str) -> None:
    with pytest.raises(InvalidPolicyError) as caught:
        TagFilter.compile(TagFilterSpec(pattern=pattern))
    error = caught.value
    assert isinstance(error, StalledError)
    assert error.reason == "InvalidPolicy"
    assert str(error) == (
        f"failed to filter tags: invalid regular expression pattern '{pattern}':"
        f" error parsing regexp: {detail}"
    )


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(r"\Q\C\E", id="any-byte-escape-inside-literal-section"),
        pytest.param(r"\\C", id="escaped-backslash-then-c"),
        pytest.param(r"(?<name>x)", id="dotnet-style-name"),
        pytest.param(r"(?P<a>x)(?P<a>y)", id="duplicate-names"),
    ],
)
def test_patterns_go_accepts_compile(pattern: str) -> None:
    assert TagFilter.compile(TagFilterSpec(pattern=pattern)).regex is not None


@pytest.mark.parametrize(
    ("spec", "tags", "candidates"),
    [
        pytest.param(
            TagFilterSpec(),
            ["b", "a", ""],
            {"b": "b", "a": "a", "": ""},
            id="empty-pattern-matches-everything",
        ),
        pytest.param(
            TagFilterSpec(pattern="rc"),
            ["v2-rc1", "v1", "rc"],
            {"v2-rc1": "v2-rc1", "rc": "rc"},
            id="unanchored-search",
        ),
        pytest.param(
            TagFilterSpec(pattern=r"^(?P<n>[0-9]+)-[a-f0-9]+$", extract="$n"),
            ["9-aaa", "12-def", "12-abc", "x-1"],
            {"9": "9-aaa", "12": "12-abc"},
            id="later-tag-wins-a-duplicate",
        ),
        pytest.param(
            TagFilterSpec(pattern=r"-(?P<n>[0-9]+)$", extract="$n"),
            ["z-1", "y-2", "x-1"],
            {"2": "y-2", "1": "x-1"},
            id="duplicate-moves-to-winner-position",
        ),
        pytest.param(
            TagFilterSpec(pattern=r"^main-", extract="$nope"),
            ["main-b", "main-a"],
            {"": "main-a"},
            id="empty-expansion-is-a-candidate",
        ),
        pytest.param(
            TagFilterSpec(pattern=r"^v(?P<v>.*)|^(?P<w>[0-9].*)", extract="$v$w"),
            ["v1.2.3", "1.2.4"],
            {"1.2.3": "v1.2.3", "1.2.4": "1.2.4"},
            id="non-participating-groups-are-empty",
        ),
    ],
)
def test_filter_maps_candidates_to_original_tags_in_storage_order(
    spec: TagFilterSpec, tags: list[str], candidates: dict[str, str]
) -> None:
    outcome = TagFilter.compile(spec).apply(tags)
    assert list(outcome.candidates.items()) == list(candidates.items())


def test_filter_records_what_each_matched_tag_became() -> None:
    spec = TagFilterSpec(pattern=r"^(?P<n>[0-9]+)-", extract="$n")
    outcome = TagFilter.compile(spec).apply(["9-a", "12-b", "12-a", "latest"])
    assert outcome.extracted == {"9-a": "9", "12-b": "12", "12-a": "12"}

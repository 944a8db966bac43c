"""ImageRepository tag rules: RE2 exclusion patterns and Flux's descending byte order."""

from __future__ import annotations

import pytest

from tagpilot.core.tags import (
    DEFAULT_EXCLUSION_LIST,
    ExclusionError,
    Exclusions,
    apply_exclusions,
    sort_descending,
)

TAGS = ["1.0.0", "sha256-abc.sig", "1.1.0-rc.1", "latest", "sha256-abc.att", "main-abc123"]


@pytest.mark.parametrize(
    ("patterns", "kept"),
    [
        pytest.param(None, [t for t in TAGS if t != "sha256-abc.sig"], id="default-drops-sig"),
        pytest.param([], [t for t in TAGS if t != "sha256-abc.sig"], id="empty-means-default"),
        pytest.param([r"^sha256-"], ["1.0.0", "1.1.0-rc.1", "latest", "main-abc123"], id="prefix"),
        pytest.param(
            ["rc"],
            ["1.0.0", "sha256-abc.sig", "latest", "sha256-abc.att", "main-abc123"],
            id="unanchored",
        ),
        pytest.param(
            ["^latest$", r"\.(sig|att)$"], ["1.0.0", "1.1.0-rc.1", "main-abc123"], id="several"
        ),
    ],
)
def test_exclusions_drop_matching_tags_and_keep_order(
    patterns: list[str] | None, kept: list[str]
) -> None:
    assert apply_exclusions(TAGS, patterns) == kept


@pytest.mark.parametrize(
    ("pattern", "detail"),
    [
        pytest.param("(?=x)", "lookarounds", id="lookahead-is-not-re2"),
        pytest.param(r"(a)\1", "backreferences", id="backreference"),
        pytest.param("[unclosed", "invalid regular expression", id="unclosed-class"),
    ],
)
def test_a_pattern_re2_rejects_fails_with_its_index(pattern: str, detail: str) -> None:
    with pytest.raises(ExclusionError, match=r"exclusionList\[1\]") as caught:
        Exclusions.compile(["ok", pattern])
    assert detail in str(caught.value)
    assert caught.value.reason == "ReadOperationFailed"


def test_the_effective_list_is_reported_for_observed_exclusion_list() -> None:
    assert Exclusions.compile([]).patterns == DEFAULT_EXCLUSION_LIST


def test_sort_descending_uses_byte_order_not_version_order() -> None:
    assert sort_descending(["1.10.0", "1.9.0", "Z", "a", "latest"]) == [
        "latest",
        "a",
        "Z",
        "1.9.0",
        "1.10.0",
    ]

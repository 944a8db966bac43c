"""Semver parsing, precedence and ranges, checked against Flux / Masterminds v3.5 behaviour.

Every example of the semver sections of the Flux image API spec and the building-blocks
spec appears in one of the tables below; the rest come from Masterminds' own semantics
(wildcards per operator, the per-AND-group prerelease rule, hyphen-range rewriting).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagpilot.core.semver import (
    Constraints,
    SemverError,
    Version,
    parse_flux_version,
    parse_version,
)

# --- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        pytest.param("1.2.3", (1, 2, 3, "", ""), id="plain"),
        pytest.param("v1.2.3", (1, 2, 3, "", ""), id="lowercase-v-prefix"),
        pytest.param("1", (1, 0, 0, "", ""), id="major-only-is-coerced"),
        pytest.param("1.2", (1, 2, 0, "", ""), id="major-minor-is-coerced"),
        pytest.param("01.02.03", (1, 2, 3, "", ""), id="leading-zeros-dropped"),
        pytest.param("2025.02.03", (2025, 2, 3, "", ""), id="calver"),
        pytest.param("1.2-rc.1", (1, 2, 0, "rc.1", ""), id="partial-with-prerelease"),
        pytest.param("1-rc.1.2", (1, 0, 0, "rc.1.2", ""), id="major-with-dotted-prerelease"),
        pytest.param("1.2.3-rc.1", (1, 2, 3, "rc.1", ""), id="prerelease"),
        pytest.param("1.2.3-0", (1, 2, 3, "0", ""), id="prerelease-zero"),
        pytest.param("1.2.3-rc-1.x-y", (1, 2, 3, "rc-1.x-y", ""), id="hyphens-in-prerelease"),
        pytest.param("1.0.0-x.Y.0+meta", (1, 0, 0, "x.Y.0", "meta"), id="prerelease-and-meta"),
        pytest.param("1.2.3+001", (1, 2, 3, "", "001"), id="meta-may-have-leading-zeros"),
        pytest.param("1.2.3+a.b-c", (1, 2, 3, "", "a.b-c"), id="dotted-meta"),
        pytest.param(
            "18446744073709551615.0.0",
            (2**64 - 1, 0, 0, "", ""),
            id="largest-uint64-major",
        ),
    ],
)
def test_parse_version_accepts_loose_versions(text: str, parts: tuple[object, ...]) -> None:
    version = parse_version(text)
    assert (
        version.major,
        version.minor,
        version.patch,
        version.prerelease,
        version.metadata,
    ) == parts
    assert version.original == text


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        pytest.param("", "not a semantic version", id="empty"),
        pytest.param("latest", "not a semantic version", id="word"),
        pytest.param("V1.2.3", "not a semantic version", id="uppercase-v-prefix"),
        pytest.param("1.2.3.4", "not a semantic version", id="four-numbers"),
        pytest.param("1.2.3-", "not a semantic version", id="empty-prerelease"),
        pytest.param("1.2.3+", "not a semantic version", id="empty-metadata"),
        pytest.param("1.2.3-alpha_1", "not a semantic version", id="underscore-in-prerelease"),
        pytest.param("1.2.3-rc..1", "not a semantic version", id="empty-prerelease-identifier"),
        pytest.param("1.2.3-rc.01", "leading zeros", id="leading-zero-numeric-prerelease"),
        pytest.param("1.0.0-01", "leading zeros", id="leading-zero-whole-prerelease"),
        pytest.param("18446744073709551616.0.0", "64-bit", id="major-overflows-uint64"),
        pytest.param("1.18446744073709551616.0", "64-bit", id="minor-overflows-uint64"),
        pytest.param(" 1.2.3", "not a semantic version", id="leading-space"),
        pytest.param("1.2.3\n", "not a semantic version", id="trailing-newline"),
        pytest.param("vv1.2.3", "not a semantic version", id="double-v"),
        pytest.param("1.2.3-ü", "not a semantic version", id="non-ascii-prerelease"),
        pytest.param("١.٢.٣", "not a semantic version", id="non-ascii-digits"),
    ],
)
def test_parse_version_rejects_malformed_text(text: str, complaint: str) -> None:
    with pytest.raises(SemverError) as raised:
        parse_version(text)
    assert complaint in str(raised.value)
    assert repr(text) in str(raised.value)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        pytest.param("1.2.3", "1.2.3", id="plain"),
        pytest.param("v1.2.3", "1.2.3", id="v-prefix"),
        pytest.param("v2025.07.03", "2025.7.3", id="calver-with-leading-zeros"),
        pytest.param("1.2-rc.1", "1.2.0-rc.1", id="dots-in-prerelease-count"),
        pytest.param("1-rc.1.2", "1.0.0-rc.1.2", id="two-dots-only-in-prerelease"),
        pytest.param("v1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata", id="pre-and-meta"),
        pytest.param("v1.2.3-rc1-with-hyphen", "1.2.3-rc1-with-hyphen", id="hyphenated-pre"),
        pytest.param("1", None, id="major-only-ignored"),
        pytest.param("v1", None, id="v-major-only-ignored"),
        pytest.param("1.2", None, id="major-minor-ignored"),
        pytest.param("v1.2", None, id="v-major-minor-ignored"),
        pytest.param("v1.2-5", None, id="one-dot-with-prerelease-ignored"),
        pytest.param("v1.2-beta5", None, id="one-dot-with-word-prerelease-ignored"),
        pytest.param("\nv1.2", None, id="newline-prefix"),
        pytest.param("v1.2.beta", None, id="word-patch"),
        pytest.param("1.2.3.4", None, id="four-numbers"),
        pytest.param("v1.2.3.4", None, id="v-four-numbers"),
        pytest.param("V1.2.3", None, id="uppercase-v"),
        pytest.param("1.0.0-01", None, id="leading-zero-prerelease"),
        pytest.param("1.0.0p", None, id="trailing-letter"),
        pytest.param("latest", None, id="latest"),
        pytest.param("", None, id="empty"),
        pytest.param("a.b.c", None, id="letters"),
    ],
)
def test_parse_flux_version_needs_two_dots_then_parses_loosely(
    tag: str, expected: str | None
) -> None:
    version = parse_flux_version(tag)
    assert (None if version is None else str(version)) == expected
    if version is not None:
        assert version.original == tag


def test_version_text_is_canonical_and_drops_the_prefix() -> None:
    assert str(parse_version("v01.2.03-rc.1+b.7")) == "1.2.3-rc.1+b.7"


# --- precedence ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        pytest.param("1.2.3", "1.2.4", id="patch"),
        pytest.param("1.2.9", "1.10.0", id="minor-numerically"),
        pytest.param("9.0.0", "10.0.0", id="major-numerically"),
        pytest.param("1.0.0-rc.1", "1.0.0", id="release-beats-its-prerelease"),
        pytest.param("1.0.0", "1.0.1-alpha", id="prerelease-of-next-patch-is-higher"),
        pytest.param("1.0.0-rc10", "1.0.0-rc2", id="rc2-beats-rc10-by-bytes"),
        pytest.param("1.0.0-rc.2", "1.0.0-rc.10", id="rc.10-beats-rc.2-numerically"),
        pytest.param("1.0.0-1", "1.0.0-alpha", id="numeric-below-alphanumeric"),
        pytest.param("1.0.0-99", "1.0.0-a", id="big-numeric-below-alphanumeric"),
        pytest.param("1.0.0-alpha", "1.0.0-alpha.1", id="shorter-prefix-is-lower"),
        pytest.param("1.0.0-alpha.1", "1.0.0-alpha.beta", id="numeric-part-below-word-part"),
        pytest.param("1.0.0-beta.2", "1.0.0-beta.11", id="numeric-parts-numerically"),
        pytest.param("1.0.0-Z", "1.0.0-a", id="uppercase-before-lowercase"),
        pytest.param("1.0.0--", "1.0.0-0a", id="hyphen-before-digits-by-bytes"),
        pytest.param(
            "1.0.0-18446744073709551615",
            "1.0.0-18446744073709551616",
            id="digits-past-uint64-compare-as-text",
        ),
        pytest.param("1.0.0-0", "1.0.0-0.0", id="zero-prefix-is-lower"),
    ],
)
def test_precedence_orders_versions(lower: str, higher: str) -> None:
    low, high = parse_version(lower), parse_version(higher)
    assert low.compare(high) == -1
    assert high.compare(low) == 1
    assert low < high and low <= high and high > low and high >= low
    assert not (high < low or high <= low or low > high or low >= high)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("1.0.0", "1.0.0+b1", id="metadata-ignored"),
        pytest.param("1.0.0", "v1.0.0", id="prefix-ignored"),
        pytest.param("1.2.3+a", "1.2.3+b", id="different-metadata"),
        pytest.param("01.02.03", "1.2.3", id="leading-zeros-ignored"),
        pytest.param("1.2", "1.2.0", id="coerced-equals-full"),
        pytest.param("1.0.0-rc.1+x", "v1.0.0-rc.1", id="same-prerelease"),
    ],
)
def test_equal_precedence_ignores_spelling_and_metadata(left: str, right: str) -> None:
    one, other = parse_version(left), parse_version(right)
    assert one.compare(other) == 0
    assert one <= other and one >= other
    assert not (one < other or one > other)
    assert one != other, "== compares fields, so the original spelling still differs"


_IDENTIFIER = st.one_of(
    st.integers(min_value=0, max_value=2**64 + 5).map(str),
    st.text(alphabet="abxyzAZ-09", min_size=1, max_size=4).filter(
        lambda s: not (s.isdigit() and len(s) > 1 and s.startswith("0"))
    ),
)
_VERSIONS = st.builds(
    Version,
    major=st.integers(0, 3),
    minor=st.integers(0, 3),
    patch=st.integers(0, 3),
    prerelease=st.one_of(st.just(""), st.lists(_IDENTIFIER, min_size=1, max_size=3).map(".".join)),
    metadata=st.sampled_from(["", "b1", "sha.1"]),
    original=st.just(""),
)


@given(_VERSIONS, _VERSIONS, _VERSIONS)
def test_precedence_is_a_total_preorder_consistent_with_compare(
    a: Version, b: Version, c: Version
) -> None:
    assert a.compare(b) == -b.compare(a)
    assert a.compare(a) == 0
    assert (a < b) == (a.compare(b) < 0) and (a >= b) == (a.compare(b) >= 0)
    assert (a <= b) or (b <= a)
    if a <= b <= c:
        assert a <= c
    if a.compare(b) == 0:
        assert a.compare(c) == b.compare(c)


@given(_VERSIONS)
def test_canonical_text_parses_back_to_equal_precedence(version: Version) -> None:
    reparsed = parse_version(str(version))
    assert reparsed.compare(version) == 0
    assert (reparsed.prerelease, reparsed.metadata) == (version.prerelease, version.metadata)


# --- ranges -------------------------------------------------------------------------------


def _row(constraint: str, version: str, expected: bool) -> object:
    verdict = "admits" if expected else "rejects"
    return pytest.param(constraint, version, expected, id=f"{constraint} {verdict} {version}")


CHECKS = [
    # equality, bare versions and wildcards
    _row("1.2.3", "1.2.3", True),
    _row("=1.2.3", "1.2.3+build", True),
    _row("1.2.3", "1.2.4", False),
    _row("=2.0", "2.0.1", True),
    _row("1.2", "1.2.9", True),
    _row("1.2", "1.3.0", False),
    _row("1.2.x", "1.2.9", True),
    _row("1.2.X", "1.2.0", True),
    _row("1.2.*", "1.3.0", False),
    _row("=1.2", "1.2.5", True),
    _row("=1.2", "1.1.9", False),
    _row("1", "1.9.9", True),
    _row("1", "2.0.0", False),
    _row("1.x", "1.0.0", True),
    _row("1.x", "0.9.9", False),
    _row("1.x.3", "1.7.0", True),
    _row("*", "0.0.0", True),
    _row("*", "99.1.0", True),
    _row("x", "3.2.1", True),
    _row("X", "3.2.1", True),
    _row("v1.2.x", "1.2.7", True),
    _row("01.02.x", "1.2.7", True),
    _row("01.02.03", "1.2.3", True),
    _row("1.2.3", "v1.2.3", True),
    _row("2.0", "1.2.3", False),
    _row("0.x.x", "1.2.3", False),
    _row("0.0.x", "1.2.3", False),
    _row("0.0.0", "1.2.3", False),
    # != compares precedence; wildcards exclude whole families
    _row("!=1.2.3", "1.2.3+build", False),
    _row("!=1.2.3", "1.2.4", True),
    _row("!=1.x", "1.5.0", False),
    _row("!=1.x", "2.0.0", True),
    _row("!=1.2.x", "1.2.9", False),
    _row("!=1.2.x", "1.3.0", True),
    _row("!=4.1", "4.1.1", False),
    _row("!=4.1-alpha", "4.1.0", True),
    _row("!=4.1-alpha", "4.1.0-alpha", False),
    _row("!=4.1-alpha", "4.1.1-beta", True),
    _row("!=*", "1.0.0", True),
    _row("!=*", "0.0.0", False),
    # > and >= with partial versions
    _row(">1.2.3", "1.2.4", True),
    _row(">1.2.3", "1.2.3", False),
    _row(">1.2", "1.2.9", False),
    _row(">1.2", "1.3.0", True),
    _row(">1", "1.9.9", False),
    _row(">1", "2.0.0", True),
    _row(">1.x", "1.9.9", False),
    _row(">1.x", "2.0.0", True),
    _row(">=1.2", "1.2.0", True),
    _row(">=1.2", "1.1.9", False),
    _row(">=*", "0.0.0", True),
    _row(">=*", "7.0.0", True),
    _row("=>1.0", "1.0.0", True),
    _row(">= 1.2.3", "1.2.3", True),
    _row(">=   1.2.3", "1.2.2", False),
    # < and <= with partial versions
    _row("<1.2.3", "1.2.2", True),
    _row("<1.2.3", "1.2.3", False),
    _row("<2.x", "1.9.9", True),
    _row("<2.x", "2.0.0", False),
    _row("<*", "0.0.0", False),
    _row("<*", "1.0.0", False),
    _row("<=1.2", "1.2.99", True),
    _row("<=1.2", "1.3.0", False),
    _row("<=1", "1.99.0", True),
    _row("<=1", "2.0.0", False),
    _row("<=2.x", "2.99.0", True),
    _row("<=2.x", "3.0.0", False),
    _row("=<1.2", "1.2.5", True),
    _row("<=1.2.3", "1.2.3+meta", True),
    # tilde
    _row("~1.2.3", "1.2.3", True),
    _row("~1.2.3", "1.2.9", True),
    _row("~1.2.3", "1.2.2", False),
    _row("~1.2.3", "1.3.0", False),
    _row("~>1.2.3", "1.2.9", True),
    _row("~1.2", "1.2.0", True),
    _row("~1.2", "1.3.0", False),
    _row("~1", "1.0.0", True),
    _row("~1", "1.9.0", True),
    _row("~1", "2.0.0", False),
    _row("~1.x", "1.3.5", True),
    _row("~0", "0.9.9", True),
    _row("~0", "1.0.0", False),
    _row("~0.0.0", "0.0.0", True),
    _row("~0.0.0", "5.4.3", True),
    _row("~*", "2.1.1", True),
    # caret
    _row("^1.2.3", "1.2.3", True),
    _row("^1.2.3", "1.9.0", True),
    _row("^1.2.3", "1.2.2", False),
    _row("^1.2.3", "2.0.0", False),
    _row("^1.2", "1.2.0", True),
    _row("^1", "1.8.9", True),
    _row("^1.x", "1.0.0", True),
    _row("^1.x", "1.9.9", True),
    _row("^1.x", "2.0.0", False),
    _row("^0.2.3", "0.2.3", True),
    _row("^0.2.3", "0.2.9", True),
    _row("^0.2.3", "0.3.0", False),
    _row("^0.0.3", "0.0.3", True),
    _row("^0.0.3", "0.0.4", False),
    _row("^0.0", "0.0.9", True),
    _row("^0.0", "0.1.0", False),
    _row("^0", "0.9.9", True),
    _row("^0", "1.0.0", False),
    _row("^0.0.0", "1.2.3", False),
    # ^* expands to a non-dirty 0.0.0 bound, so the caret code makes it =0.0.0 (Masterminds'
    # doc comment claims "any"; the code, ported as is, does not)
    _row("^*", "0.0.0", True),
    _row("^*", "0.0.1", False),
    # AND groups (spaces and/or commas) and OR groups
    _row(">=1.0 <2", "1.5.0", True),
    _row(">=1.0 <2", "2.0.0", False),
    _row(">=1.0, <2", "1.5.0", True),
    _row(">=1.0,<2", "0.9.0", False),
    _row(">=1.2.3 , <2", "1.2.3", True),
    _row(">=1.0.0 <2.0.0", "1.9.9", True),
    _row(">=1.0.0, <2.0.0", "2.0.0", False),
    _row(">=1.0.0,<2.0.0", "1.0.0", True),
    _row(">=1.1 <2 !=1.2.3", "1.2.3", False),
    _row(">=1.1 <2 !=1.2.3", "1.2.4", True),
    _row(">=1.1, <2, !=1.2.3 || > 3", "4.1.2", True),
    _row(">=1.1, <2, !=1.2.3 || > 3", "3.1.2", False),
    _row(">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", True),
    _row("\t>=1.0.0\n<2.0.0\n", "1.0.0", True),
    # hyphen ranges
    _row("1.2 - 1.4", "1.4.9", True),
    _row("1.2 - 1.4", "1.5.0", False),
    _row("1.2 - 1.4", "1.1.9", False),
    _row("1.2.3 - 2.3.4", "2.3.4", True),
    _row("1.2.3 - 2.3.4", "2.3.5", False),
    _row("1.1 - 2", "2.9.0", True),
    _row("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", True),
    _row("1.0.0 - 2.0.0, <=1.2.0", "1.5.0", False),
    _row("2 - 3, 4.0.0 - 5.1", "2.5.0", False),
    _row("2 - 3 || 4.0.0 - 5.1", "5.1.7", True),
    _row("1.1-3", "4.3.2", False),
    # "1.2-1.4.5" has no spaces: it is 1.2 with prerelease 1.4.5, i.e. ~1.2 with prereleases
    _row("1.2-1.4.5", "1.2.0", True),
    _row("1.2-1.4.5", "1.2.9-rc.1", True),
    _row("1.2-1.4.5", "1.2.0-0", False),
    _row("1.2-1.4.5", "1.4.5", False),
    _row("1.2-1.4.5", "1.3.0", False),
    # prereleases: admitted only when the AND group names one, then across versions
    _row("*", "1.0.0-rc.1", False),
    _row("<2.0.0", "2.0.0-rc.1", False),
    _row("<2.0.0", "1.9.0-rc.1", False),
    _row(">=1.0.0", "2.0.0-rc.1", False),
    _row("^1.2.3", "1.3.0-rc.1", False),
    _row("~1.2", "1.2.5-rc.1", False),
    _row("<=1.2", "1.3.0-alpha", False),
    _row(">=1.0.0-0", "2.0.0-rc.1", True),
    _row(">=1.0.0-0", "0.9.0-rc.1", False),
    _row("^1.0.0-0", "1.2.3-rc.1", True),
    _row(">1.2.3-alpha", "1.3.0-alpha", True),
    _row(">1.2.3-alpha", "1.2.3-alpha", False),
    _row("~1.2.3-beta", "1.2.4-alpha", True),
    _row("~1.2.3-beta", "1.2.3-alpha", False),
    _row("~1.2.3-beta", "1.3.0-beta", False),
    _row("^1.x-0", "1.5.0-rc.1", True),
    _row("^1.x-0", "2.0.0-rc.1", False),
    _row("*-0", "1.2.3-alpha.1", True),
    _row(">=0.0.0-0", "0.0.1-alpha", True),
    _row(">=0.0.0-0", "3.4.5", True),
    _row(">=0.0.0-0", "0.0.0-alpha", True),
    _row(">0-0", "0.0.0-alpha", False),
    _row("<0-z", "0.0.0-alpha", True),
    _row(">=1.0.0-0 <2.0.0", "1.5.0-rc.1", True),
    _row(">=1.0.0-0 <2.0.0", "2.0.0-rc.1", True),
    _row(">=1.0.0-0 <2.0.0", "2.0.0", False),
    _row("^1.2.3-beta.1", "1.3.0-alpha.1", True),
    _row("^1.2.3-beta.1", "1.2.3-alpha.1", False),
    _row("^1.2.3-beta.1", "2.0.0-alpha.1", False),
    _row(">=1.0.0 <2.0.0 || >=3.0.0-0", "3.1.0-rc.1", True),
    _row(">=1.0.0 <2.0.0 || >=3.0.0-0", "1.5.0-rc.1", False),
    _row(">=1.0.0 <2.0.0 || >=3.0.0-0", "1.5.0", True),
    _row("!=1.2.x-beta", "1.2.5-beta", False),
    _row("!=1.2.x-beta", "1.2.5-rc", True),
    _row("!=1.2.x-beta", "1.2.5", True),
]


@pytest.mark.parametrize(("constraint", "version", "expected"), CHECKS)
def test_constraint_check_matches_masterminds(
    constraint: str, version: str, expected: bool
) -> None:
    assert Constraints.parse(constraint).check(parse_version(version)) is expected


@pytest.mark.parametrize(
    ("constraint", "complaint"),
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param("   ", "is empty", id="only-spaces"),
        pytest.param("1.0.0p", "cannot read", id="trailing-letter"),
        pytest.param("1x", "is not a version", id="digit-then-x"),
        pytest.param("x1", "is not a version", id="x-then-digit"),
        pytest.param("1.2.xx", "is not a version", id="double-wildcard"),
        pytest.param("1|2", "is not a version", id="single-pipe"),
        pytest.param("-1", "cannot read", id="leading-hyphen"),
        pytest.param("a", "cannot read", id="word"),
        pytest.param("*-*", "cannot read", id="wildcard-prerelease"),
        pytest.param(">=1.0<2", "cannot read", id="terms-without-separator"),
        pytest.param(">=1.2.3,,<2", "cannot read", id="double-comma"),
        pytest.param(",>=1.0", "cannot read", id="leading-comma"),
        pytest.param("1.2.3.4", "cannot read", id="four-numbers"),
        pytest.param("12.3.34~ 1.2.3", "cannot read", id="operator-glued-to-previous-term"),
        pytest.param(">= bar", "cannot read", id="word-version"),
        pytest.param("V1.2.3", "cannot read", id="uppercase-v"),
        pytest.param(">=1.0 ||", "alternative between '||' is empty", id="trailing-or"),
        pytest.param("|| >=1.0", "alternative between '||' is empty", id="leading-or"),
        pytest.param(">>1.0", "cannot read", id="double-operator"),
        pytest.param("1.2.3-01", "is not a version", id="leading-zero-prerelease"),
        pytest.param("99999999999999999999", "is not a version", id="major-overflows-uint64"),
    ],
)
def test_constraint_parse_rejects_invalid_ranges(constraint: str, complaint: str) -> None:
    with pytest.raises(SemverError) as raised:
        Constraints.parse(constraint)
    assert complaint in str(raised.value)
    assert repr(constraint) in str(raised.value)


@pytest.mark.parametrize(
    ("constraint", "admits"),
    [
        pytest.param(">=1.0.0 <2.0.0", False, id="plain-range"),
        pytest.param("*", False, id="star"),
        pytest.param(">=0.0.0-0", True, id="flux-idiom"),
        pytest.param("*-0", True, id="star-with-prerelease"),
        pytest.param("^1.x-0", True, id="caret-wildcard-with-prerelease"),
        pytest.param(">=1.0.0 <2.0.0 || >=3.0.0-0", True, id="one-or-group-opts-in"),
        pytest.param("1.2-1.4.5", True, id="glued-hyphen-is-a-prerelease"),
        pytest.param("1.2 - 1.4", False, id="spaced-hyphen-is-a-range"),
        pytest.param("=1.2.3+build", False, id="metadata-is-not-a-prerelease"),
    ],
)
def test_admits_prereleases_when_some_and_group_names_one(constraint: str, admits: bool) -> None:
    assert Constraints.parse(constraint).admits_prereleases is admits


def test_prerelease_opt_in_is_per_or_group() -> None:
    constraints = Constraints.parse(">=1.0.0 <2.0.0 || >=3.0.0-0")
    assert constraints.admits_prereleases
    assert not constraints.check(parse_version("1.5.0-rc.1"))
    assert constraints.check(parse_version("3.1.0-rc.1"))


def test_constraints_keep_the_text_as_given() -> None:
    constraints = Constraints.parse(" 1.2 - 1.4 || ^2 ")
    assert constraints.text == " 1.2 - 1.4 || ^2 "
    assert repr(constraints) == "Constraints.parse(' 1.2 - 1.4 || ^2 ')"


def test_constraint_parsing_stays_linear_on_whitespace_heavy_input() -> None:
    """A backtracking engine would try 3**60 whitespace splits before failing here."""
    hostile = "1   " * 60 + "!"
    with pytest.raises(SemverError, match="cannot read"):
        Constraints.parse(hostile)


def test_semver_error_is_a_value_error() -> None:
    assert issubclass(SemverError, ValueError)

"""Fuzz semver parsing and ranges: only ``SemverError``, and ordering stays a total order.

Tags come from registries and ranges from users, so both are hostile input.  Texts are
drawn from the characters the grammars care about, plus very long digit runs.
"""

from __future__ import annotations

import pytest
from fuzz_support import PROFILES, Profile, only_typed_errors, run_property
from hypothesis import strategies as st

from tagpilot.core.semver import (
    Constraints,
    SemverError,
    Version,
    parse_flux_version,
    parse_version,
)

VERSION_PIECES = [
    *"0123456789", *("v", ".", "-", "+", "a", "rc", "x", "X", "*", "00", "18446744073709551616"),
    "9" * 5000, "1" * 30,
]  # fmt: skip
RANGE_PIECES = [
    *VERSION_PIECES,
    *(" ", ",", "||", " - ", ">=", "<=", "=>", "=<", "!=", ">", "<", "=", "~", "~>", "^", "\t"),
]  # fmt: skip


def _glued(pieces: list[str], max_size: int) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(pieces), st.text(max_size=2))
    return st.lists(piece, max_size=max_size).map("".join)


VERSIONS = _glued(VERSION_PIECES, 12)
RANGES = _glued(RANGE_PIECES, 16)


def _version_parses_back(text: str) -> None:
    parsed = only_typed_errors(lambda: parse_version(text), SemverError)
    if isinstance(parsed, Version):
        assert parse_version(parsed.original) == parsed
        assert parsed.compare(parsed) == 0
    flux = parse_flux_version(text)
    assert flux is None or isinstance(flux, Version)


@pytest.mark.parametrize("profile", PROFILES)
def test_parse_version_raises_only_semver_errors(profile: Profile) -> None:
    run_property(profile, VERSIONS, _version_parses_back)


def _range_checks(case: tuple[str, str]) -> None:
    range_text, tag = case
    constraints = only_typed_errors(lambda: Constraints.parse(range_text), SemverError)
    version = parse_flux_version(tag)
    if isinstance(constraints, Constraints) and version is not None:
        assert constraints.check(version) in (True, False)


@pytest.mark.parametrize("profile", PROFILES)
def test_constraints_parse_raises_only_semver_errors_and_check_answers(
    profile: Profile,
) -> None:
    run_property(profile, st.tuples(RANGES, VERSIONS), _range_checks)


def _antisymmetric(texts: tuple[str, str]) -> None:
    first, second = (parse_flux_version(text) for text in texts)
    if first is not None and second is not None:
        assert first.compare(second) == -second.compare(first)


@pytest.mark.parametrize("profile", PROFILES)
def test_version_order_is_antisymmetric_for_any_tags(profile: Profile) -> None:
    run_property(profile, st.tuples(VERSIONS, VERSIONS), _antisymmetric)


HUGE_NUMBERS = [
    pytest.param("9" * 5000 + ".0.0", id="major-5000-digits"),
    pytest.param("1." + "9" * 5000 + ".0", id="minor-5000-digits"),
    pytest.param("1.0.0-" + "1" * 5000, id="prerelease-5000-digits"),
    pytest.param("1.0.0-rc." + "7" * 5000 + ".x", id="dotted-prerelease-5000-digits"),
    pytest.param("0" * 5000 + "1.0.0", id="leading-zeros-5000"),
]


@pytest.mark.parametrize("tag", HUGE_NUMBERS)
def test_tags_with_thousands_of_digits_are_refused_or_ordered(tag: str) -> None:
    version = parse_flux_version(tag)
    if version is not None:
        assert version.compare(parse_version("1.0.0")) in (-1, 0, 1)
    constraints = only_typed_errors(lambda: Constraints.parse(f">={tag}"), SemverError)
    assert isinstance(constraints, Constraints | SemverError)

"""Semantic versions and ranges with the exact rules of Flux's ImagePolicy ``semver`` policy.

Flux parses tags with ``fluxcd/pkg/version.ParseVersion`` (a three-dot-part check, then
Masterminds/semver v3 lenient parsing) and ranges with Masterminds ``NewConstraint``
(v3.5 semantics, including the per-AND-group prerelease opt-in). This module reproduces
both so the semver policy picks the same tag Flux would. Called by the policy code
(``core`` policies, ``tagpilot policy``) and by anything that validates ``semver.range``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import re2

__all__ = [
    "Constraints",
    "SemverError",
    "Version",
    "parse_flux_version",
    "parse_version",
]

_MAX_UINT64 = 2**64 - 1
_IDENTIFIERS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"

# Masterminds' loose version regex. Each part is delimited by its own separator, so the
# pattern cannot backtrack badly; stdlib ``re`` is fine for this fixed pattern.
_LOOSE_VERSION = re.compile(
    rf"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(?:-({_IDENTIFIERS}))?(?:\+({_IDENTIFIERS}))?"
)

_EXPECTED_VERSION = (
    "expected MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD] with an optional lowercase 'v' prefix"
)


class SemverError(ValueError):
    """A version or range text is malformed; the message names the text and what is expected."""


@dataclass(frozen=True)
class Version:
    """A parsed version. ``<``, ``<=``, ``>``, ``>=`` follow semver precedence.

    ``==`` and ``hash`` compare every field (so ``1.0.0`` and ``v1.0.0`` differ); use
    :meth:`compare` for precedence equality, which ignores build metadata.
    """

    major: int
    minor: int
    patch: int
    prerelease: str
    """Dot-joined prerelease identifiers as written; empty when there are none."""
    metadata: str
    """Build metadata as written; empty when there is none. Ignored for ordering."""
    original: str
    """The text that was parsed, including any ``v`` prefix or leading zeros."""

    def compare(self, other: Version) -> int:
        """-1, 0 or 1 as ``self`` has lower, equal or higher precedence than ``other``."""
        mine, theirs = self._precedence, other._precedence
        return (mine > theirs) - (mine < theirs)

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __le__(self, other: Version) -> bool:
        return self.compare(other) <= 0

    def __gt__(self, other: Version) -> bool:
        return self.compare(other) > 0

    def __ge__(self, other: Version) -> bool:
        return self.compare(other) >= 0

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += f"-{self.prerelease}"
        if self.metadata:
            text += f"+{self.metadata}"
        return text

    @cached_property
    def _precedence(self) -> tuple[Any, ...]:
        # A release sorts above all of its prereleases; tuples give "shorter prefix is
        # smaller" for the identifier lists for free.
        if not self.prerelease:
            return (self.major, self.minor, self.patch, 1, ())
        parts = tuple(_identifier_key(part) for part in self.prerelease.split("."))
        return (self.major, self.minor, self.patch, 0, parts)


def _identifier_key(identifier: str) -> tuple[int, int, str]:
    # Masterminds treats an identifier as numeric only if it parses as a uint64; longer
    # digit strings fall back to byte-order comparison like alphanumerics.
    if identifier.isascii() and identifier.isdigit() and _fits_uint64(identifier):
        return (0, int(identifier.lstrip("0") or "0"), "")
    return (1, 0, identifier)


def parse_version(text: str) -> Version:
    """Parse ``text`` leniently, as Masterminds ``NewVersion`` does; raise :class:`SemverError`.

    Accepts a lowercase ``v`` prefix, missing minor/patch (``1.2`` is ``1.2.0``) and
    leading zeros in the numbers (``2025.02.03`` is ``2025.2.3``).
    """
    match = _LOOSE_VERSION.fullmatch(text)
    if match is None:
        raise SemverError(f"{text!r} is not a semantic version: {_EXPECTED_VERSION}")
    major, minor, patch, prerelease, metadata = match.groups()
    if prerelease:
        _check_prerelease(text, prerelease)
    return Version(
        major=_number(text, "major", major),
        minor=_number(text, "minor", (minor or ".0")[1:]),
        patch=_number(text, "patch", (patch or ".0")[1:]),
        prerelease=prerelease or "",
        metadata=metadata or "",
        original=text,
    )


def _fits_uint64(digits: str) -> bool:
    # Length first: int() refuses texts past 4300 digits, and a uint64 has at most 20.
    significant = digits.lstrip("0")
    return len(significant) <= 20 and int(significant or "0") <= _MAX_UINT64


def _number(text: str, name: str, digits: str) -> int:
    if not _fits_uint64(digits):
        raise SemverError(
            f"{text!r} is not a semantic version: the {name} number {digits} is larger than"
            f" {_MAX_UINT64} (numbers are unsigned 64-bit)"
        )
    return int(digits.lstrip("0") or "0")


def _check_prerelease(text: str, prerelease: str) -> None:
    for identifier in prerelease.split("."):
        if identifier.isdigit() and len(identifier) > 1 and identifier.startswith("0"):
            raise SemverError(
                f"{text!r} is not a semantic version: the numeric prerelease identifier"
                f" {identifier!r} must not have leading zeros"
            )


def parse_flux_version(tag: str) -> Version | None:
    """Parse an image tag the way Flux's semver policy does; ``None`` when it is not a version.

    Flux first requires at least two dots anywhere in the tag (so ``1.2`` and ``v1`` are
    ignored, while ``1.2-rc.1`` counts), then parses leniently like :func:`parse_version`.
    """
    if tag.count(".") < 2:
        return None
    try:
        return parse_version(tag)
    except SemverError:
        return None


# --- ranges -----------------------------------------------------------------------------

# The range grammar is defined by Masterminds' regular expressions, so they are reproduced
# exactly, quirks included: the class `[0-9|x|X|\*]` also admits `|`, and the empty operator
# alternative means "no operator". They run on user input and can split whitespace many
# ways, so they are compiled with RE2 (linear time, Go's leftmost-first matching and
# ASCII-only `\s`).
_CONSTRAINT_VERSION = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
    r"(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_OPERATORS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_OP_CV = rf"({_OPERATORS})\s*({_CONSTRAINT_VERSION})"

_TERM = re2.compile(rf"\s*{_OP_CV}\s*")
_FIND_TERM = re2.compile(_OP_CV)
_AND_GROUP = re2.compile(rf"(\s*{_OP_CV}\s*)((?:\s+|,\s*){_OP_CV}\s*)*")
_HYPHEN_RANGE = re2.compile(rf"\s*({_CONSTRAINT_VERSION})\s+-\s+({_CONSTRAINT_VERSION})\s*")
# Group of the upper bound in _HYPHEN_RANGE: 1 + the nine groups of _CONSTRAINT_VERSION.
_HYPHEN_UPPER = 11

_WILDCARDS = frozenset({"x", "X", "*"})

_EXPECTED_RANGE = (
    "expected terms like '>=1.2.3 <2.0.0' or '^1.2' separated by spaces or commas,"
    " alternatives joined by '||' and hyphen ranges written 'A - B'"
)


@dataclass(frozen=True)
class _Term:
    """One comparison such as ``>=1.2`` after wildcard expansion."""

    operator: str
    bound: Version
    written: str
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool


@dataclass(frozen=True)
class _AndGroup:
    """Terms that must all hold; prereleases qualify only if one term names a prerelease."""

    terms: tuple[_Term, ...]
    admits_prereleases: bool

    def check(self, version: Version) -> bool:
        """True when every term admits ``version``."""
        if version.prerelease and not self.admits_prereleases:
            return False
        return all(_CHECKS[term.operator](term, version) for term in self.terms)


class Constraints:
    """A parsed ``semver.range``: OR groups (``||``) of AND-ed comparisons."""

    __slots__ = ("_groups", "_text")

    def __init__(self, text: str, groups: tuple[_AndGroup, ...]) -> None:
        """Hold already parsed groups; use :meth:`parse` to build one from text."""
        self._text = text
        self._groups = groups

    @classmethod
    def parse(cls, text: str) -> Constraints:
        """Parse a range as Masterminds ``NewConstraint`` does; raise :class:`SemverError`."""
        if not text.strip():
            raise SemverError(f"the semver range {text!r} is empty; {_EXPECTED_RANGE}")
        alternatives = _rewrite_hyphen_ranges(text).split("||")
        return cls(text, tuple(_parse_and_group(text, part) for part in alternatives))

    def check(self, version: Version) -> bool:
        """True when ``version`` satisfies at least one OR group."""
        return any(group.check(version) for group in self._groups)

    @property
    def text(self) -> str:
        """The range exactly as it was given to :meth:`parse`."""
        return self._text

    @property
    def admits_prereleases(self) -> bool:
        """True when some AND group names a prerelease, so prerelease versions can match."""
        return any(group.admits_prereleases for group in self._groups)

    def __repr__(self) -> str:
        return f"Constraints.parse({self._text!r})"


def _rewrite_hyphen_ranges(text: str) -> str:
    # Like Masterminds: each match's text is replaced at its *first* occurrence, and the
    # replacement keeps a trailing space.
    rewritten = text
    for match in _HYPHEN_RANGE.finditer(text):
        replacement = f">= {match.group(1)}, <= {match.group(_HYPHEN_UPPER)} "
        rewritten = rewritten.replace(match.group(0), replacement, 1)
    return rewritten


def _parse_and_group(text: str, part: str) -> _AndGroup:
    if _AND_GROUP.fullmatch(part) is None:
        problem = (
            "an alternative between '||' is empty"
            if not part.strip()
            else f"cannot read {part.strip()!r}"
        )
        raise SemverError(f"invalid semver range {text!r}: {problem}; {_EXPECTED_RANGE}")
    terms = tuple(_parse_term(text, found.group(0)) for found in _FIND_TERM.finditer(part))
    return _AndGroup(terms, any(term.bound.prerelease for term in terms))


def _parse_term(text: str, term: str) -> _Term:
    match = _TERM.fullmatch(term)
    if match is None:  # unreachable for text that passed _AND_GROUP; kept as a guard
        raise SemverError(f"invalid semver range {text!r}: cannot read {term!r}")
    operator, written, major, minor, patch, dash_prerelease = match.group(1, 2, 3, 4, 5, 6)
    bound_text, *dirt = _expand_wildcards(written, major, minor, patch, dash_prerelease or "")
    return _Term(operator, _bound(text, written, bound_text), written, *dirt)


def _expand_wildcards(
    written: str, major: str, minor: str | None, patch: str | None, suffix: str
) -> tuple[str, bool, bool, bool]:
    """The bound to compare with, and whether the version, its minor or its patch is open."""
    if major in _WILDCARDS:
        return f"0.0.0{suffix}", True, False, False
    if not minor or minor[1:] in _WILDCARDS:
        return f"{major}.0.0{suffix}", True, True, False
    if not patch or patch[1:] in _WILDCARDS:
        return f"{major}{minor}.0{suffix}", True, False, True
    return written, False, False, False


def _bound(text: str, written: str, bound_text: str) -> Version:
    try:
        return parse_version(bound_text)
    except SemverError as error:
        raise SemverError(
            f"invalid semver range {text!r}: {written!r} is not a version"
            " (each of MAJOR.MINOR.PATCH is a number or a wildcard x, X or *)"
        ) from error


# --- comparison operators (ported one to one from Masterminds) -------------------------


def _equal_or_tilde(term: _Term, version: Version) -> bool:
    if term.dirty:
        return _tilde(term, version)
    return version.compare(term.bound) == 0


def _not_equal(term: _Term, version: Version) -> bool:
    bound = term.bound
    if term.dirty:
        if bound.major != version.major:
            return True
        if term.minor_dirty:
            return False
        if bound.minor != version.minor:
            return True
        if term.patch_dirty:
            return _prerelease_differs(version.prerelease, bound.prerelease)
        if bound.patch != version.patch:
            return True
    return version.compare(bound) != 0


def _prerelease_differs(mine: str, theirs: str) -> bool:
    # `!=1.2.x-beta` still tells prereleases of the same minor apart.
    if not (mine and theirs):
        return mine != theirs
    return Version(0, 0, 0, mine, "", "").compare(Version(0, 0, 0, theirs, "", "")) != 0


def _greater(term: _Term, version: Version) -> bool:
    bound = term.bound
    if not term.dirty:
        return version.compare(bound) > 0
    if version.major != bound.major:
        return version.major > bound.major
    if term.minor_dirty:
        return False
    if term.patch_dirty:
        return version.minor > bound.minor
    return version.compare(bound) > 0


def _less(term: _Term, version: Version) -> bool:
    return version.compare(term.bound) < 0


def _greater_or_equal(term: _Term, version: Version) -> bool:
    return version.compare(term.bound) >= 0


def _less_or_equal(term: _Term, version: Version) -> bool:
    bound = term.bound
    if not term.dirty:
        return version.compare(bound) <= 0
    if version.major > bound.major:
        return False
    return not (
        version.major == bound.major and version.minor > bound.minor and not term.minor_dirty
    )


def _tilde(term: _Term, version: Version) -> bool:
    bound = term.bound
    if version.compare(bound) < 0:
        return False
    # Masterminds special case (unlike npm): ~0.0.0 accepts everything from 0.0.0 up.
    at_zero = (bound.major, bound.minor, bound.patch) == (0, 0, 0)
    if at_zero and not term.minor_dirty and not term.patch_dirty:
        return True
    if version.major != bound.major:
        return False
    return term.minor_dirty or version.minor == bound.minor


def _caret(term: _Term, version: Version) -> bool:
    bound = term.bound
    if version.compare(bound) < 0:
        return False
    if bound.major > 0 or term.minor_dirty:
        return version.major == bound.major
    if version.major > 0:
        return False
    if bound.minor > 0 or term.patch_dirty:
        return version.minor == bound.minor
    if version.minor > 0:
        return False
    return version.patch == bound.patch


_CHECKS: dict[str, Callable[[_Term, Version], bool]] = {
    "": _equal_or_tilde,
    "=": _equal_or_tilde,
    "!=": _not_equal,
    ">": _greater,
    "<": _less,
    ">=": _greater_or_equal,
    "=>": _greater_or_equal,
    "<=": _less_or_equal,
    "=<": _less_or_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}

"""The three Flux policers: pick the latest candidate, and explain any other candidate.

Each ``latest`` follows image-reflector-controller's ``internal/policy`` loop exactly:

* semver: candidates that are not versions (per Flux: two dots, then Masterminds' lenient
  parse) or fall outside the range are skipped; the first maximum wins ties (strictly
  greater replaces); none left -> ``unable to determine latest version from provided list``;
* numerical: every candidate must parse as a Go float64, else the whole policy fails;
  ``asc`` keeps the maximum, ``desc`` the minimum, and an equal value replaces the current
  pick, so the *last* of equal values wins (NaN compares false both ways, so it always
  replaces and is always replaced);
* alphabetical: byte-wise order, ``asc`` the greatest string and ``desc`` the smallest.

``explain`` is only used to build verdicts after the pick, so it may be slower.  Parse
results are memoised (bounded) because the same tags come back on every reconcile.

Called by :mod:`tagpilot.core.policy.evaluate` and :mod:`tagpilot.core.policy.lint`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

from tagpilot.core.policy.errors import (
    EmptyCandidatesError,
    InvalidNumberError,
    InvalidPolicyError,
    NoVersionInRangeError,
)
from tagpilot.core.policy.gofloat import parse_go_float, try_parse_go_float
from tagpilot.core.policy.spec import NumericalRule, Rule, SemverRule
from tagpilot.core.semver import (
    Constraints,
    SemverError,
    Version,
    parse_flux_version,
    parse_version,
)

__all__ = [
    "AlphabeticalPolicer",
    "CandidateStatus",
    "NumericalPolicer",
    "Policer",
    "SemverPolicer",
    "cached_float",
    "cached_version",
    "policer_for",
]

CandidateStatus: TypeAlias = Literal["candidate", "not-a-version", "out-of-range", "not-a-number"]
"""How a policer judges a candidate it did not pick."""

_CACHE_SIZE = 1 << 16

cached_version = functools.lru_cache(maxsize=_CACHE_SIZE)(parse_flux_version)
""":func:`tagpilot.core.semver.parse_flux_version`, memoised."""

cached_float = functools.lru_cache(maxsize=_CACHE_SIZE)(try_parse_go_float)
""":func:`tagpilot.core.policy.gofloat.try_parse_go_float`, memoised."""


class Policer(Protocol):
    """Picks the latest of the candidates, in the order given, the way Flux does."""

    def latest(self, candidates: Sequence[str]) -> str:
        """The chosen candidate; raise a ``PolicyFailedError`` when there is none."""
        ...

    def explain(self, candidate: str, chosen: str | None) -> tuple[CandidateStatus, str]:
        """Why ``candidate`` lost to ``chosen`` (``None`` when the policy failed)."""
        ...


def policer_for(rule: Rule) -> Policer:
    """Build the policer of ``rule``; raise :class:`InvalidPolicyError` for a bad range/order."""
    if isinstance(rule, SemverRule):
        try:
            return SemverPolicer(Constraints.parse(rule.range))
        except SemverError as error:
            message = f"invalid policy: {error}"
            raise InvalidPolicyError(message, field="spec.policy.semver.range") from error
    if isinstance(rule, NumericalRule):
        return NumericalPolicer(_checked_order(rule.order, "numerical"))
    return AlphabeticalPolicer(_checked_order(rule.order, "alphabetical"))


def _checked_order(order: str, policy: str) -> Literal["asc", "desc"]:
    # The controller upper-cases the order before comparing it.
    normalised = order.lower()
    if normalised == "asc":
        return "asc"
    if normalised == "desc":
        return "desc"
    raise InvalidPolicyError(
        f"invalid policy: invalid order argument provided: '{order.upper()}',"
        " must be one of: ASC, DESC",
        field=f"spec.policy.{policy}.order",
    )


@dataclass(frozen=True)
class SemverPolicer:
    """``policy.semver``: the highest version inside the range."""

    constraints: Constraints

    def latest(self, candidates: Sequence[str]) -> str:
        """The first candidate of highest precedence that satisfies the range."""
        if not candidates:
            raise EmptyCandidatesError()
        check = self.constraints.check
        best: Version | None = None
        for candidate in candidates:
            version = cached_version(candidate)
            if version is not None and check(version) and (best is None or version > best):
                best = version
        if best is None:
            raise NoVersionInRangeError()
        return best.original

    def explain(self, candidate: str, chosen: str | None) -> tuple[CandidateStatus, str]:
        """Not a version, outside the range, or lower than (or tied with) the pick."""
        version = cached_version(candidate)
        if version is None:
            return "not-a-version", _why_not_a_version(candidate)
        if not self.constraints.check(version):
            return "out-of-range", self._why_out_of_range(version)
        picked = cached_version(chosen) if chosen is not None else None
        if picked is None:
            return "candidate", f"{candidate} is a version inside the range"
        if version.compare(picked) < 0:
            return "candidate", f"{candidate} < {chosen}"
        return "candidate", f"{candidate} ranks equal to {chosen}; the first one seen wins"

    def _why_out_of_range(self, version: Version) -> str:
        reason = f"{version.original} is outside range '{self.constraints.text}'"
        if version.prerelease and not self.constraints.admits_prereleases:
            reason += " (prereleases only match a range with a prerelease part, such as '-0')"
        return reason


def _why_not_a_version(candidate: str) -> str:
    dots = candidate.count(".")
    if dots < 2:
        count = "only one dot" if dots == 1 else "no dot"
        return f"{candidate!r} has {count}: Flux needs major.minor.patch"
    try:
        parse_version(candidate)
    except SemverError as error:
        return str(error)
    return f"{candidate!r} is not a semantic version"


@dataclass(frozen=True)
class NumericalPolicer:
    """``policy.numerical``: candidates as Go float64 values."""

    order: Literal["asc", "desc"]

    def latest(self, candidates: Sequence[str]) -> str:
        """The maximum (``asc``) or minimum (``desc``); the last of equal values wins."""
        if not candidates:
            raise EmptyCandidatesError()
        ascending = self.order == "asc"
        chosen, best = "", 0.0
        for index, candidate in enumerate(candidates):
            value = cached_float(candidate)
            if value is None:
                raise InvalidNumberError(candidate)
            if index and (value < best if ascending else value > best):
                continue
            chosen, best = candidate, value
        return chosen

    def explain(self, candidate: str, chosen: str | None) -> tuple[CandidateStatus, str]:
        """Not a number, or beaten numerically by the pick."""
        value = cached_float(candidate)
        if value is None:
            return "not-a-number", _why_not_a_number(candidate)
        if chosen is None:
            return "candidate", f"{candidate} is a number, but another candidate is not"
        best = cached_float(chosen)
        assert best is not None, "the chosen candidate parsed when it was picked"
        if math.isnan(value) or math.isnan(best):
            return "candidate", "NaN is unordered: the pick is the last value compared to it"
        if value == best:
            return "candidate", f"{candidate} equals {chosen} numerically; the last one seen wins"
        sign = "<" if value < best else ">"
        return "candidate", f"{candidate} {sign} {chosen} numerically"


def _why_not_a_number(candidate: str) -> str:
    try:
        parse_go_float(candidate)
    except ValueError as error:
        return f"{error} (Go strconv.ParseFloat)"
    return f"{candidate!r} is not a number"


@dataclass(frozen=True)
class AlphabeticalPolicer:
    """``policy.alphabetical``: byte-wise string order."""

    order: Literal["asc", "desc"]

    def latest(self, candidates: Sequence[str]) -> str:
        """The greatest (``asc``) or smallest (``desc``) candidate."""
        if not candidates:
            raise EmptyCandidatesError()
        return max(candidates) if self.order == "asc" else min(candidates)

    def explain(self, candidate: str, chosen: str | None) -> tuple[CandidateStatus, str]:
        """Sorted before (``asc``) or after (``desc``) the pick."""
        where = "before" if candidate < (chosen or "") else "after"
        return "candidate", f"{candidate!r} sorts {where} {chosen!r} byte by byte"

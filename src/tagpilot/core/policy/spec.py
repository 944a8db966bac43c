"""The policy spec as plain values: which rule, and the optional tag filter.

These mirror the ``spec.policy`` union and ``spec.filterTags`` of a Flux ImagePolicy
without depending on the API models, so the core stays free of ``tagpilot.api``.  The API
layer and the CLI build them; :func:`tagpilot.core.policy.compile_policy` consumes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = [
    "AlphabeticalRule",
    "NumericalRule",
    "Order",
    "PolicySpec",
    "Rule",
    "SemverRule",
    "TagFilterSpec",
]

Order: TypeAlias = Literal["asc", "desc"]
"""``asc`` picks the greatest value, ``desc`` the smallest (Flux's CRD default is ``asc``)."""


@dataclass(frozen=True)
class SemverRule:
    """``policy.semver``: the newest version satisfying ``range`` (Masterminds syntax)."""

    range: str


@dataclass(frozen=True)
class NumericalRule:
    """``policy.numerical``: candidates compared as Go float64 values."""

    order: Order = "asc"


@dataclass(frozen=True)
class AlphabeticalRule:
    """``policy.alphabetical``: candidates compared byte by byte."""

    order: Order = "asc"


Rule: TypeAlias = SemverRule | NumericalRule | AlphabeticalRule
"""Exactly one policy choice, like the ImagePolicy ``spec.policy`` union."""


@dataclass(frozen=True)
class TagFilterSpec:
    """``filterTags``: an unanchored Go RE2 ``pattern`` and an optional ``extract`` template."""

    pattern: str = ""
    extract: str = ""


@dataclass(frozen=True)
class PolicySpec:
    """A whole tag policy: the rule and, when present, the filter applied before it."""

    rule: Rule
    filter: TagFilterSpec | None = None

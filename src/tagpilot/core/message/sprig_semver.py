"""Sprig's ``semver`` and ``semverCompare``, on the same rules as the semver image policy.

``semver`` gives Masterminds' ``*semver.Version`` (printing as the version, with
``Major``, ``Prerelease``, ``Compare``, ``IncPatch``... methods); ``semverCompare``
checks a version against a range.  Both reuse ``core.semver``, the port of Masterminds
semver v3 that ImagePolicy ranges use.  Part of ``functions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import ClassVar

from tagpilot.core.message.calls import STRING, CallContext, FuncError, FuncSpec
from tagpilot.core.message.data import GoStruct
from tagpilot.core.semver import Constraints, SemverError, Version, parse_version

__all__ = ["SEMVER_FUNCS", "GoVersion"]

_POINTER = "*semver.Version"


class GoVersion(GoStruct):
    """Masterminds' ``semver.Version`` (``*semver.Version`` from ``semver``)."""

    GO_TYPE = _POINTER
    GO_METHODS: ClassVar[Mapping[str, str]] = {
        "Major": "major",
        "Minor": "minor",
        "Patch": "patch",
        "Prerelease": "prerelease",
        "Metadata": "metadata",
        "Original": "original",
        "String": "go_string",
        "Compare": "compare",
        "LessThan": "less_than",
        "GreaterThan": "greater_than",
        "Equal": "equal",
        "IncMajor": "inc_major",
        "IncMinor": "inc_minor",
        "IncPatch": "inc_patch",
    }
    GO_METHOD_PARAMS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "Compare": (_POINTER,),
        "LessThan": (_POINTER,),
        "GreaterThan": (_POINTER,),
        "Equal": (_POINTER,),
    }

    def __init__(self, version: Version) -> None:
        self.version = version

    def field_values(self) -> tuple[object, ...]:
        """The parsed version (Go's fields are unexported; this serves ``==``)."""
        return (self.version,)

    def go_string(self) -> str:
        """Masterminds' ``Version.String``: the version without a ``v`` prefix."""
        return str(self.version)

    def marshal_text(self) -> str:
        """Masterminds' ``Version.MarshalJSON``: the version string."""
        return str(self.version)

    def major(self) -> int:
        """``Version.Major``."""
        return self.version.major

    def minor(self) -> int:
        """``Version.Minor``."""
        return self.version.minor

    def patch(self) -> int:
        """``Version.Patch``."""
        return self.version.patch

    def prerelease(self) -> str:
        """``Version.Prerelease``."""
        return self.version.prerelease

    def metadata(self) -> str:
        """``Version.Metadata``."""
        return self.version.metadata

    def original(self) -> str:
        """``Version.Original``: the text as parsed."""
        return self.version.original

    def compare(self, other: GoVersion) -> int:
        """``Version.Compare``: -1, 0 or 1 by precedence (metadata ignored)."""
        return self.version.compare(other.version)

    def less_than(self, other: GoVersion) -> bool:
        """``Version.LessThan``."""
        return self.compare(other) < 0

    def greater_than(self, other: GoVersion) -> bool:
        """``Version.GreaterThan``."""
        return self.compare(other) > 0

    def equal(self, other: GoVersion) -> bool:
        """``Version.Equal``."""
        return self.compare(other) == 0

    def _next(self, major: int, minor: int, patch: int) -> GoVersion:
        bumped = replace(self.version, major=major, minor=minor, patch=patch)
        bumped = replace(bumped, prerelease="", metadata="")
        prefix = "v" if self.version.original.startswith("v") else ""
        return _VersionValue(replace(bumped, original=prefix + str(bumped)))

    def inc_major(self) -> GoVersion:
        """``Version.IncMajor``."""
        return self._next(self.version.major + 1, 0, 0)

    def inc_minor(self) -> GoVersion:
        """``Version.IncMinor``."""
        return self._next(self.version.major, self.version.minor + 1, 0)

    def inc_patch(self) -> GoVersion:
        """``Version.IncPatch``: a prerelease becomes its release, else the patch grows."""
        patch = self.version.patch + (0 if self.version.prerelease else 1)
        return self._next(self.version.major, self.version.minor, patch)


class _VersionValue(GoVersion):
    """A ``semver.Version`` value (what ``IncPatch`` and friends return)."""

    GO_TYPE = "semver.Version"


def _version(text: str) -> Version:
    try:
        return parse_version(text)
    except SemverError:
        raise FuncError("Invalid Semantic Version") from None


def _semver(ctx: CallContext, text: str) -> GoVersion:
    return GoVersion(_version(text))


def _semver_compare(ctx: CallContext, constraint: str, text: str) -> bool:
    try:
        constraints = Constraints.parse(constraint)
    except SemverError:
        raise FuncError(f"improper constraint: {constraint}") from None
    return constraints.check(_version(text))


SEMVER_FUNCS: tuple[FuncSpec, ...] = (
    FuncSpec("semver", _semver, (STRING,)),
    FuncSpec("semverCompare", _semver_compare, (STRING, STRING)),
)

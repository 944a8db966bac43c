"""The errors of the tag policy engine, with Flux's messages and condition reasons.

A bad policy (regex, semver range, order) is an :class:`InvalidPolicyError`: Flux stalls
with reason ``InvalidPolicy`` until the spec changes, and the CLI exits with code 2.  A
policy that cannot pick a tag from the current tags is a :class:`PolicyFailedError`: Flux
reports reason ``Failure`` and retries with backoff, because a later scan may bring a
suitable tag.

Raised by :mod:`tagpilot.core.policy.evaluate` and the modules it calls.
"""

from __future__ import annotations

from tagpilot.core.errors import InvalidInputError, RetryableError

__all__ = [
    "EmptyCandidatesError",
    "InvalidNumberError",
    "InvalidPolicyError",
    "NoVersionInRangeError",
    "PolicyFailedError",
]


class InvalidPolicyError(InvalidInputError):
    """The policy spec itself is wrong (bad regex, range or order).

    A stall for the reconciler and exit code 2 for the CLI.  The message is Flux's, with no
    location prefix; ``field`` names the offending spec field so a caller that knows the
    file and line can build a ``SourceLocation``.
    """

    reason = "InvalidPolicy"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class PolicyFailedError(RetryableError):
    """The policy is valid but no tag could be chosen from the current tag list."""

    reason = "Failure"


class EmptyCandidatesError(PolicyFailedError):
    """No tag (or no tag matching ``filterTags.pattern``) to choose from."""

    def __init__(self) -> None:
        super().__init__("version list argument cannot be empty")


class NoVersionInRangeError(PolicyFailedError):
    """The semver policy found no candidate that is a version inside the range."""

    def __init__(self) -> None:
        super().__init__("unable to determine latest version from provided list")


class InvalidNumberError(PolicyFailedError):
    """The numerical policy met a candidate Go's ``ParseFloat`` rejects."""

    def __init__(self, value: str) -> None:
        super().__init__(f"failed to parse invalid numeric value '{value}'")
        self.value = value

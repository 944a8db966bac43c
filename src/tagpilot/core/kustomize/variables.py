"""The post-build variables of one Kustomization, from its ``substituteFrom`` objects.

Flux's order and precedence: every ``substituteFrom`` entry in order (a ConfigMap's
``data``, a Secret's decoded ``data``), a later entry overwriting an earlier one, then the
inline ``substitute`` map on top of all.  A missing object is an error unless the entry says
``optional: true``; then it is simply left out.  The objects are read by the caller (files or
the API); this module only decides, so the rules are one table of tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tagpilot.api.kustomization import SubstituteReference
from tagpilot.core.errors import RetryableError
from tagpilot.core.kustomize.envsubst import merge_variables

__all__ = ["Found", "MissingVariablesError", "collect_variables"]

Found = Mapping[tuple[str, str], Mapping[str, str] | None]
"""What the caller read: (kind, name) → the object's variables, or None when it is absent."""


class MissingVariablesError(RetryableError):
    """A ``substituteFrom`` object that is not optional does not exist (yet): retried, as
    Flux retries, since creating the object fixes it without a new generation."""

    reason = "BuildFailed"


def collect_variables(
    refs: Sequence[SubstituteReference],
    found: Found,
    inline: Mapping[str, str] | None,
    *,
    namespace: str,
) -> dict[str, str]:
    """The variables, in Flux's precedence; :class:`MissingVariablesError` names the first
    missing object that is not optional."""
    sources = []
    for ref in refs:
        data = found.get((ref.kind, ref.name))
        if data is None:
            if ref.optional:
                continue
            raise MissingVariablesError(
                f"substitute from '{ref.kind}/{ref.name}' error: {ref.kind} "
                f"'{namespace}/{ref.name}' not found (create it, or mark the entry optional)",
                reason="BuildFailed",
            )
        sources.append(data)
    return merge_variables(sources, inline)

"""The ImagePolicy step: from an ImagePolicy object and stored tags to a selected tag.

``policy_spec_of`` translates the API object into the pure engine's ``PolicySpec``;
``compile_image_policy`` adds the object's file and line to a bad range or regex, so the
same error reads well in ``policy eval``, ``reconcile --once`` and the daemon.
"""

from __future__ import annotations

from tagpilot.api.image import ImagePolicy
from tagpilot.core.errors import SourceLocation
from tagpilot.core.policy import (
    AlphabeticalRule,
    CompiledPolicy,
    InvalidPolicyError,
    NumericalRule,
    PolicySpec,
    Rule,
    SemverRule,
    TagFilterSpec,
    compile_policy,
)

__all__ = ["compile_image_policy", "policy_spec_of"]


def policy_spec_of(policy: ImagePolicy) -> PolicySpec:
    """The engine's view of an ImagePolicy's ``policy`` and ``filterTags``."""
    choice = policy.spec.policy
    rule: Rule
    if choice.semver is not None:
        rule = SemverRule(choice.semver.range)
    elif choice.numerical is not None:
        rule = NumericalRule(choice.numerical.order)
    else:
        assert choice.alphabetical is not None  # the model admits exactly one choice
        rule = AlphabeticalRule(choice.alphabetical.order)
    tags = policy.spec.filter_tags
    return PolicySpec(rule, TagFilterSpec(tags.pattern, tags.extract) if tags else None)


def compile_image_policy(
    policy: ImagePolicy, source: SourceLocation | None = None
) -> CompiledPolicy:
    """Compile ``policy``; a bad spec raises ``InvalidPolicyError`` located at ``source``."""
    try:
        return compile_policy(policy_spec_of(policy))
    except InvalidPolicyError as error:
        if source is None:
            raise
        located = SourceLocation(source.file, source.line, error.field)
        raise _relocated(error, located) from error


def _relocated(error: InvalidPolicyError, location: SourceLocation) -> InvalidPolicyError:
    relocated = InvalidPolicyError(f"{location}: {error.detail}", field=error.field)
    relocated.location = location
    return relocated

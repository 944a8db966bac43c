"""The tag policy engine: filter a repository's tags and pick the latest, exactly like Flux.

Pure: values in, values out.  Build a :class:`PolicySpec`, compile it once with
:func:`compile_policy` (a bad regex, semver range or order raises
:class:`InvalidPolicyError` there), then call :meth:`CompiledPolicy.evaluate` with the
tags of each scan.  Used by the ImagePolicy reconciler and ``tagpilot policy eval``.
"""

from __future__ import annotations

from tagpilot.core.policy.errors import (
    EmptyCandidatesError,
    InvalidNumberError,
    InvalidPolicyError,
    NoVersionInRangeError,
    PolicyFailedError,
)
from tagpilot.core.policy.evaluate import (
    CompiledPolicy,
    Evaluation,
    TagVerdict,
    VerdictStatus,
    compile_policy,
)
from tagpilot.core.policy.goexpand import go_expand
from tagpilot.core.policy.gofloat import GoFloatError, parse_go_float
from tagpilot.core.policy.spec import (
    AlphabeticalRule,
    NumericalRule,
    Order,
    PolicySpec,
    Rule,
    SemverRule,
    TagFilterSpec,
)

__all__ = [
    "AlphabeticalRule",
    "CompiledPolicy",
    "EmptyCandidatesError",
    "Evaluation",
    "GoFloatError",
    "InvalidNumberError",
    "InvalidPolicyError",
    "NoVersionInRangeError",
    "NumericalRule",
    "Order",
    "PolicyFailedError",
    "PolicySpec",
    "Rule",
    "SemverRule",
    "TagFilterSpec",
    "TagVerdict",
    "VerdictStatus",
    "compile_policy",
    "go_expand",
    "parse_go_float",
]

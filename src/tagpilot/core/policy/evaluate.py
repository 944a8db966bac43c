"""Compile an ImagePolicy's tag rules once, then pick the latest tag from a tag list.

Evaluation follows Flux's ImagePolicy reconciler: order the tags like the tag store
(descending byte order, de-duplicated), apply ``filterTags`` if present, hand the
candidates to the policer, and report the *original* tag of the chosen candidate.

Deliberate difference: Flux builds its candidate list from a Go map when a filter is set,
so candidates reach the policer in random order and ties (``1.2.3`` vs ``v1.2.3``, equal
numbers) are decided by chance.  Here candidates keep the storage order of their original
tags, so every evaluation of the same tags gives the same answer; it is one of the answers
Flux can give.

Only the pick is computed eagerly.  Per-tag verdicts and warnings, which the CLI's
``policy eval`` shows, are built on first access, so a reconciler pays for the filter and
the policer alone.

Called by the ImagePolicy reconciler and ``tagpilot policy eval``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeAlias

from tagpilot.core.errors import TagpilotError
from tagpilot.core.policy.errors import PolicyFailedError
from tagpilot.core.policy.lint import collect_warnings
from tagpilot.core.policy.policers import Policer, policer_for
from tagpilot.core.policy.spec import PolicySpec
from tagpilot.core.policy.tagfilter import FilterOutcome, TagFilter

__all__ = [
    "CompiledPolicy",
    "Evaluation",
    "TagVerdict",
    "VerdictStatus",
    "compile_policy",
]

VerdictStatus: TypeAlias = Literal[
    "selected",
    "candidate",
    "filtered",
    "not-a-version",
    "out-of-range",
    "superseded",
    "not-a-number",
]
"""What became of one tag: picked, a losing candidate, or rejected for a stated reason."""

_NOT_REJECTED = frozenset({"selected", "candidate"})


@dataclass(frozen=True)
class TagVerdict:
    """One tag's fate, with a reason a person can act on."""

    tag: str
    status: VerdictStatus
    reason: str
    value: str | None
    """The candidate the tag became (the extract result, or the tag itself); None if filtered."""


def compile_policy(spec: PolicySpec) -> CompiledPolicy:
    """Validate and compile ``spec``; raise ``InvalidPolicyError`` for a bad regex/range/order."""
    tag_filter = TagFilter.compile(spec.filter) if spec.filter is not None else None
    return CompiledPolicy(spec, policer_for(spec.rule), tag_filter)


@dataclass(frozen=True)
class CompiledPolicy:
    """A validated policy, ready to evaluate any number of tag lists."""

    spec: PolicySpec
    policer: Policer
    tag_filter: TagFilter | None

    def evaluate(self, tags: Iterable[str]) -> Evaluation:
        """Pick the latest tag; a policy failure is returned in ``Evaluation.error``."""
        ordered = sorted(set(tags), reverse=True)
        outcome = self.tag_filter.apply(ordered) if self.tag_filter is not None else None
        candidates = list(outcome.candidates) if outcome is not None else ordered
        try:
            chosen = self.policer.latest(candidates)
        except PolicyFailedError as failure:
            trace = _Trace(self, ordered, outcome, candidates, None)
            return Evaluation(None, len(candidates), failure, trace)
        latest = outcome.candidates[chosen] if outcome is not None else chosen
        trace = _Trace(self, ordered, outcome, candidates, chosen)
        return Evaluation(latest, len(candidates), None, trace)


@dataclass(frozen=True, eq=False)
class _Trace:
    """What verdicts and warnings are computed from, kept by reference (no copies)."""

    policy: CompiledPolicy
    ordered: Sequence[str]
    outcome: FilterOutcome | None
    candidates: Sequence[str]
    chosen: str | None


@dataclass(frozen=True)
class Evaluation:
    """The result of one evaluation: the pick (or the failure) and, on demand, its story.

    ``verdicts`` and ``warnings`` are computed on first access and then kept.
    """

    latest: str | None
    """The original tag chosen, or None when the policy failed."""
    candidate_count: int
    """How many candidates reached the policer (after the filter and de-duplication)."""
    error: TagpilotError | None
    """The policy failure (``PolicyFailedError``: Flux reason ``Failure``, retried), if any."""
    _trace: _Trace = field(repr=False, compare=False)

    def require_latest(self) -> str:
        """The chosen tag, or raise the policy failure."""
        if self.latest is None:
            assert self.error is not None, "an evaluation without a pick carries its error"
            raise self.error
        return self.latest

    @cached_property
    def verdicts(self) -> tuple[TagVerdict, ...]:
        """One verdict per distinct input tag, in storage order."""
        trace = self._trace
        return tuple(
            _verdict(trace.policy, trace.outcome, trace.chosen, tag) for tag in trace.ordered
        )

    @cached_property
    def warnings(self) -> tuple[str, ...]:
        """Legal-but-suspicious aspects of the policy, seen on these tags."""
        trace = self._trace
        policy = trace.policy
        return collect_warnings(
            policy.policer, policy.tag_filter, trace.outcome, trace.candidates, trace.chosen
        )

    def rejected(self) -> list[tuple[str, str]]:
        """(tag, reason) for every tag that was neither picked nor a valid losing candidate."""
        return [(v.tag, v.reason) for v in self.verdicts if v.status not in _NOT_REJECTED]

    def to_json(self) -> dict[str, object]:
        """The ``policy eval -o json`` document."""
        return {
            "latest": self.latest,
            "candidates": self.candidate_count,
            "rejected": [{"tag": tag, "reason": reason} for tag, reason in self.rejected()],
            "warnings": list(self.warnings),
        }


def _verdict(
    policy: CompiledPolicy, outcome: FilterOutcome | None, chosen: str | None, tag: str
) -> TagVerdict:
    if outcome is None:
        return _candidate_verdict(policy, tag, tag, chosen)
    candidate = outcome.extracted.get(tag)
    tag_filter = policy.tag_filter
    assert tag_filter is not None, "an outcome only exists when a filter ran"
    if candidate is None:
        reason = f"does not match pattern '{tag_filter.spec.pattern}'"
        return TagVerdict(tag, "filtered", reason, None)
    winner = outcome.candidates[candidate]
    if winner != tag:
        reason = (
            f"extract '{tag_filter.spec.extract}' gave '{candidate}' — duplicate of {winner},"
            " which comes later in storage order and wins"
        )
        return TagVerdict(tag, "superseded", reason, candidate)
    return _candidate_verdict(policy, tag, candidate, chosen)


def _candidate_verdict(
    policy: CompiledPolicy, tag: str, candidate: str, chosen: str | None
) -> TagVerdict:
    if candidate == chosen:
        return TagVerdict(tag, "selected", "chosen by the policy", candidate)
    status, reason = policy.policer.explain(candidate, chosen)
    return TagVerdict(tag, status, reason, candidate)

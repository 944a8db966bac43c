"""``filterTags``: keep the tags a Go RE2 pattern matches and turn them into candidates.

Flux compiles ``pattern`` with Go's ``regexp`` and, for every tag it finds a match in
(unanchored, leftmost-first, like ``FindStringSubmatchIndex``), uses either the tag itself
or ``Regexp.ExpandString(extract, …)`` as the candidate.  Candidates map back to their
original tag; when two tags give the same candidate the later one in storage order wins.

google-re2 is the C++ engine behind Go's design, but its parser accepts a little more than
Go's: non-ASCII group names and ``\\C``.  Those are rejected here with Go's wording so a
policy valid for tagpilot is valid for Flux.  Parse errors are reworded to Go's codes
(``missing closing )`` …) where the two engines name the same problem differently.

Called by :mod:`tagpilot.core.policy.evaluate`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import re2

from tagpilot.core.policy.errors import InvalidPolicyError
from tagpilot.core.policy.goexpand import ExpandTemplate
from tagpilot.core.policy.spec import TagFilterSpec

__all__ = ["FilterOutcome", "TagFilter", "compile_pattern"]

# RE2 (C++) error code text -> Go regexp/syntax ErrorCode text, where they differ.
_GO_ERROR_CODES = {
    "missing )": "missing closing )",
    "missing ]": "missing closing ]",
    "bad repetition operator": "invalid nested repetition operator",
    "no argument for repetition operator": "missing argument to repetition operator",
    "invalid named capture group": "invalid named capture",
    "invalid perl operator": "invalid or unsupported Perl syntax",
    "invalid repetition size": "invalid repeat count",
    "trailing \\": "trailing backslash at end of expression",
    "pattern too large - compile failed": "expression too large",
}
_GO_CAPTURE_NAME = re.compile(r"[A-Za-z0-9_]+", re.ASCII)
_NAMED_GROUP_OPENING = re.compile(r"\(\?P?<([^>]*)>")


@dataclass(frozen=True, eq=False)
class FilterOutcome:
    """What the filter made of the tags, in storage order."""

    candidates: dict[str, str]
    """candidate -> original tag; the later tag wins a duplicate and takes its place."""
    extracted: dict[str, str]
    """matched tag -> the candidate it produced (the tag itself without ``extract``)."""


@dataclass(frozen=True)
class TagFilter:
    """A compiled ``filterTags``; build with :meth:`compile` so a bad pattern fails early."""

    spec: TagFilterSpec
    regex: Any
    template: ExpandTemplate | None

    @classmethod
    def compile(cls, spec: TagFilterSpec) -> TagFilter:
        """Compile ``spec``; raise :class:`InvalidPolicyError` with Flux's message if invalid."""
        regex = compile_pattern(spec.pattern)
        if not spec.extract:
            return cls(spec, regex, None)
        names = [""] * (regex.groups + 1)
        for name, index in regex.groupindex.items():
            names[index] = name
        return cls(spec, regex, ExpandTemplate.compile(spec.extract, names))

    def apply(self, tags: Sequence[str]) -> FilterOutcome:
        """Match every tag (in the order given) and build the candidate map."""
        if self.template is None:
            return self._apply_without_extract(tags)
        search, expand = self.regex.search, self.template.expand
        candidates: dict[str, str] = {}
        extracted: dict[str, str] = {}
        for tag in tags:
            match = search(tag)
            if match is None:
                continue
            candidate = expand(tag, match.span)
            # Go's map keeps the last writer; we also move it to the writer's position.
            candidates.pop(candidate, None)
            candidates[candidate] = tag
            extracted[tag] = candidate
        return FilterOutcome(candidates, extracted)

    def _apply_without_extract(self, tags: Sequence[str]) -> FilterOutcome:
        search = self.regex.search
        kept = {tag: tag for tag in tags if search(tag) is not None}
        return FilterOutcome(kept, kept)


def compile_pattern(pattern: str) -> Any:
    """Compile a Go RE2 ``pattern``; raise :class:`InvalidPolicyError` as Flux words it."""
    options = re2.Options()
    options.log_errors = False
    try:
        regex = re2.compile(pattern, options)
    except re2.error as error:
        raise _invalid(pattern, _go_detail(error)) from error
    go_only_problem = _go_rejects(pattern, regex)
    if go_only_problem:
        raise _invalid(pattern, go_only_problem)
    return regex


def _invalid(pattern: str, detail: str) -> InvalidPolicyError:
    return InvalidPolicyError(
        f"failed to filter tags: invalid regular expression pattern '{pattern}': {detail}",
        field="spec.filterTags.pattern",
    )


def _go_detail(error: Exception) -> str:
    raw = error.args[0] if error.args else ""
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    code, _, expr = text.partition(": ")
    return f"error parsing regexp: {_GO_ERROR_CODES.get(code, code)}: `{expr}`"


def _go_rejects(pattern: str, regex: Any) -> str | None:
    """What Go's parser refuses although RE2 (C++) accepted it, or ``None``."""
    for name in regex.groupindex:
        if not _GO_CAPTURE_NAME.fullmatch(name):
            opening = next(
                (m.group(0) for m in _NAMED_GROUP_OPENING.finditer(pattern) if m[1] == name),
                f"(?P<{name}>",
            )
            return f"error parsing regexp: invalid named capture: `{opening}`"
    if _has_any_byte_escape(pattern):
        return "error parsing regexp: invalid escape sequence: `\\C`"
    return None


def _has_any_byte_escape(pattern: str) -> bool:
    """True when ``pattern`` uses ``\\C`` outside a ``\\Q…\\E`` literal section."""
    index = 0
    while index < len(pattern) - 1:
        if pattern[index] != "\\":
            index += 1
            continue
        escaped = pattern[index + 1]
        if escaped == "C":
            return True
        if escaped == "Q":
            end = pattern.find("\\E", index + 2)
            if end < 0:
                return False
            index = end + 2
            continue
        index += 2
    return False

"""Warnings for policies that are legal but probably do not do what their author meant.

Flux accepts these silently; tagpilot still evaluates them exactly like Flux and only adds
a warning naming the tags involved and a fix that works:

* numerical order on dotted values whose fractional parts differ in length
  (``20251115.9`` > ``20251115.51`` as numbers, although build 9 came before build 51);
* an ``extract`` that refers to a group the pattern lacks, or expands to empty strings;
* a semver range that no version among the candidates satisfies;
* versions with only one dot (``1.2``), which Flux's semver policy ignores;
* prerelease versions skipped because the range has no prerelease part (``-0``).

``backwards_move`` judges one update instead of a tag list: does replacing the old tag by
the new one go backwards, either in the policy's own order (the old tag would still win,
so it must have left the registry or the candidates) or, for numerical and alphabetical
policies, when the numbers in the tags are read as counters (``dev-20251115.42`` ->
``dev-20251115.9`` is an upgrade as decimals and a downgrade as build numbers)?

Called lazily by :class:`tagpilot.core.policy.evaluate.Evaluation`, and by the update
reconciler before it commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from itertools import pairwise

from tagpilot.core.policy.errors import PolicyFailedError
from tagpilot.core.policy.policers import (
    NumericalPolicer,
    Policer,
    SemverPolicer,
    cached_version,
)
from tagpilot.core.policy.tagfilter import FilterOutcome, TagFilter
from tagpilot.core.semver import SemverError, Version, parse_version

__all__ = ["backwards_move", "collect_warnings"]

_DOTTED_NUMBER = re.compile(r"([0-9]+)\.([0-9]+)", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_GO_META = frozenset("\\.+*?()|[]{}^$")


def collect_warnings(
    policer: Policer,
    tag_filter: TagFilter | None,
    outcome: FilterOutcome | None,
    candidates: Sequence[str],
    chosen: str | None,
) -> tuple[str, ...]:
    """Every warning that applies to this evaluation, most important first."""
    originals: Mapping[str, str] = outcome.candidates if outcome is not None else {}
    found: list[str] = []
    if tag_filter is not None and outcome is not None:
        found += _extract_warnings(tag_filter, outcome)
    if isinstance(policer, NumericalPolicer):
        found += _dotted_number_warnings(policer, candidates, originals)
    if isinstance(policer, SemverPolicer):
        found += _semver_warnings(policer, candidates, chosen, originals)
    return tuple(found)


def _extract_warnings(tag_filter: TagFilter, outcome: FilterOutcome) -> list[str]:
    template = tag_filter.template
    if template is None:
        return []
    found = [_unknown_group(tag_filter, name) for name in template.unknown_names()]
    empty = [tag for tag, candidate in outcome.extracted.items() if candidate == ""]
    if empty:
        found.append(
            f"extract '{template.template}' gave an empty string for {len(empty)} tag(s),"
            f" such as '{empty[0]}'; Flux still uses '' as a candidate (a numerical policy"
            " then fails, an alphabetical one ranks it first)"
        )
    return found


def _unknown_group(tag_filter: TagFilter, name: str) -> str:
    message = (
        f"extract '{tag_filter.spec.extract}' refers to group '{name}', which pattern"
        f" '{tag_filter.spec.pattern}' does not define, so it expands to an empty string"
    )
    digits = _DIGITS.match(name)
    if digits and digits.end() < len(name):
        braced = "${" + digits.group() + "}" + name[digits.end() :]
        message += f"; for group {digits.group()} followed by text write '{braced}'"
    return message


def _dotted_number_warnings(
    policer: NumericalPolicer, candidates: Sequence[str], originals: Mapping[str, str]
) -> list[str]:
    by_whole_part: dict[str, list[tuple[float, int, str]]] = {}
    for candidate in candidates:
        match = _DOTTED_NUMBER.fullmatch(candidate)
        if match:
            entry = (float(candidate), int(match[2]), candidate)
            by_whole_part.setdefault(match[1], []).append(entry)
    for members in by_whole_part.values():
        inversion = _top_inversion(members)
        if inversion is not None:
            return [_dotted_number_message(policer, *inversion, originals)]
    return []


def _top_inversion(members: list[tuple[float, int, str]]) -> tuple[str, str] | None:
    """The highest adjacent pair that is larger as a number but smaller as a counter."""
    if len({len(member[2]) for member in members}) < 2:
        return None
    ordered = sorted(members)
    for lower, higher in reversed(list(pairwise(ordered))):
        if higher[0] > lower[0] and higher[1] < lower[1]:
            return higher[2], lower[2]
    return None


def _dotted_number_message(
    policer: NumericalPolicer, higher: str, lower: str, originals: Mapping[str, str]
) -> str:
    higher_tag, lower_tag = originals.get(higher, higher), originals.get(lower, lower)
    winner, loser = (higher_tag, lower_tag) if policer.order == "asc" else (lower_tag, higher_tag)
    counter_high, counter_low = higher.split(".")[1], lower.split(".")[1]
    return (
        f"numerical order reads '{higher}' and '{lower}' as decimal numbers, so {higher} >"
        f" {lower} although {counter_high} < {counter_low} as counters: with order"
        f" {policer.order} tag {winner} is preferred over {loser}. If the part after the dot"
        " counts builds, this picks the wrong build. Zero-pad the counter to a fixed width"
        " when tagging, or use a semver policy that reads both parts as whole numbers: "
        + _semver_suggestion(higher_tag, higher)
    )


def _semver_suggestion(tag: str, candidate: str) -> str:
    start = tag.find(candidate)
    prefix, suffix = (tag[:start], tag[start + len(candidate) :]) if start >= 0 else ("", "")
    pattern = f"^{_go_quote(prefix)}(?P<day>[0-9]+)\\.(?P<build>[0-9]+){_go_quote(suffix)}$"
    return f"pattern '{pattern}', extract '${{day}}.${{build}}.0', range '>=0.0.0'"


def _go_quote(text: str) -> str:
    return "".join("\\" + char if char in _GO_META else char for char in text)


def _semver_warnings(
    policer: SemverPolicer,
    candidates: Sequence[str],
    chosen: str | None,
    originals: Mapping[str, str],
) -> list[str]:
    versions = [v for v in map(cached_version, candidates) if v is not None]
    found: list[str] = []
    if chosen is None and versions:
        found.append(_nothing_in_range(policer, versions, originals))
    one_dot = [c for c in candidates if c.count(".") == 1 and _is_loose_version(c)]
    if one_dot:
        found.append(
            f"{len(one_dot)} candidate(s) such as '{one_dot[0]}' have only one dot and are"
            " ignored: Flux's semver policy needs major.minor.patch (an extract such as"
            " '$v.0' can append a patch number)"
        )
    skipped = _skipped_prereleases(policer, versions, chosen)
    if skipped:
        found.append(
            f"{len(skipped)} prerelease version(s) such as '{skipped[0].original}' are"
            f" skipped because range '{policer.constraints.text}' has no prerelease part;"
            " add '-0' to a bound (e.g. '>=1.0.0-0') if prereleases should count"
        )
    return found


def _nothing_in_range(
    policer: SemverPolicer, versions: list[Version], originals: Mapping[str, str]
) -> str:
    highest = max(versions)
    tag = originals.get(highest.original, highest.original)
    where = f", tag {tag}" if tag != highest.original else ""
    return (
        f"semver range '{policer.constraints.text}' matches none of the {len(versions)}"
        f" version(s) among the candidates (highest: {highest.original}{where})"
    )


def _is_loose_version(text: str) -> bool:
    try:
        parse_version(text)
    except SemverError:
        return False
    return True


def _skipped_prereleases(
    policer: SemverPolicer, versions: list[Version], chosen: str | None
) -> list[Version]:
    if policer.constraints.admits_prereleases:
        return []
    picked = cached_version(chosen) if chosen is not None else None
    check = policer.constraints.check
    return [
        v
        for v in versions
        if v.prerelease
        and (picked is None or v > picked)
        and not check(v)
        # Only a prerelease of a release the range admits would count with a '-0' bound.
        and check(replace(v, prerelease="", original=f"{v.major}.{v.minor}.{v.patch}"))
    ]


def backwards_move(
    policer: Policer, tag_filter: TagFilter | None, old: str, new: str
) -> str | None:
    """Why replacing tag ``old`` by ``new`` moves backwards, or None when it does not.

    Only tags the policy can compare are judged: an old tag its filter rejects, or that
    is not a version or number for it, gives None.
    """
    values = _candidate_values(tag_filter, old, new)
    if values is None or values[0] == values[1]:
        return None
    old_value, new_value = values
    try:
        preferred = policer.latest([old_value, new_value])
    except PolicyFailedError:
        return None
    if preferred == old_value:
        return (
            f"{new} sorts below {old}, the tag it replaces, in this policy's own order: "
            f"{old} is no longer among the candidates (deleted from the registry, excluded "
            "or filtered out), so the policy fell back to an older tag"
        )
    if isinstance(policer, SemverPolicer):
        return None
    how = (
        "numerical order compares them as decimal numbers"
        if isinstance(policer, NumericalPolicer)
        else "alphabetical order compares them character by character"
    )
    return _counter_regression(old, new, (old_value, new_value), how)


def _candidate_values(tag_filter: TagFilter | None, old: str, new: str) -> tuple[str, str] | None:
    if tag_filter is None:
        return old, new
    extracted = tag_filter.apply([old, new]).extracted
    old_value, new_value = extracted.get(old), extracted.get(new)
    if old_value is None or new_value is None:
        return None
    return old_value, new_value


def _counter_regression(old: str, new: str, values: tuple[str, str], how: str) -> str | None:
    """The policy prefers ``new``; say so when its numbers, read as counters, went down."""
    old_value, new_value = values
    old_numbers = [int(n) for n in _DIGITS.findall(old_value)]
    new_numbers = [int(n) for n in _DIGITS.findall(new_value)]
    same_shape = _DIGITS.sub("0", old_value) == _DIGITS.sub("0", new_value)
    if not same_shape or not old_numbers or new_numbers >= old_numbers:
        return None
    changed = next(
        i for i, (a, b) in enumerate(zip(old_numbers, new_numbers, strict=True)) if a != b
    )
    return (
        f"{old} -> {new} looks like a downgrade: this policy ranks {new} higher, but read as "
        f"counters {new_numbers[changed]} < {old_numbers[changed]} ({how}); check the "
        "policy's order"
    )

"""Decide whether a document's apiVersion and kind are ours, foreign, or a typo to refuse.

kubectl refuses an object whose kind or API group does not exist; a tool that skips every
kind it does not know would instead silently ignore ``kind: ImagePolcy`` or
``apiVersion: images.toolkit.fluxcd.io/v1``.  :func:`check_kind` sorts a document into:

* ours, in a version we read (``None``: the loader validates it);
* foreign (``None`` too: the loader skips it): plain Kubernetes objects, other Flux kinds in
  their real groups (Kustomization, HelmRelease, ...), other vendors' kinds;
* a :class:`KindProblem` with a suggestion: a Flux-like group that does not exist
  (a near miss of a Flux group, or any ``*.toolkit.*``), a kind that Flux's group does not
  have, a near miss of one of our kinds (letter case, one or two letters, a plural) in a Flux
  group or a Kubernetes group (no dot: ``v1``, ``apps/v1``), one of our kinds in such a group,
  without apiVersion, or in a version we do not read.

Pure: the table of known kinds and their apiVersions is an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

__all__ = ["FLUX_KINDS", "KindProblem", "check_kind", "edit_distance"]

FLUX_KINDS: Mapping[str, tuple[str, ...]] = {
    "source.toolkit.fluxcd.io": (
        "GitRepository",
        "HelmRepository",
        "HelmChart",
        "Bucket",
        "OCIRepository",
        "ExternalArtifact",
    ),
    "kustomize.toolkit.fluxcd.io": ("Kustomization",),
    "helm.toolkit.fluxcd.io": ("HelmRelease",),
    "notification.toolkit.fluxcd.io": ("Alert", "Provider", "Receiver"),
    "image.toolkit.fluxcd.io": ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"),
}
"""Every kind of every Flux API group (``*.toolkit.fluxcd.io``)."""

_GROUP_SLACK = 3
"""Edits within which a group name is read as a misspelt Flux group."""


@dataclass(frozen=True)
class KindProblem:
    """Why a document's type is refused: the field to fix (``kind``/``apiVersion``) and how."""

    field: str
    message: str


def edit_distance(left: str, right: str) -> int:
    """Insertions, deletions, substitutions and adjacent swaps turning ``left`` into ``right``."""
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, 1):
        current = [i]
        for j, b in enumerate(right, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _version(api_version: str) -> str:
    return api_version.rpartition("/")[2]


@cache  # a repository holds few distinct groups and many documents
def _flux_group_near(group: str) -> str | None:
    """The Flux group ``group`` names or misspells; None when it is nothing like one."""
    if group in FLUX_KINDS:
        return group
    best = min(FLUX_KINDS, key=lambda known: edit_distance(group, known))
    if edit_distance(group, best) <= _GROUP_SLACK:
        return best
    if "toolkit" in group.split("."):
        # ``image.toolkit.example.io``: the first label says which Flux group was meant.
        first = group.split(".", 1)[0]
        return next((known for known in FLUX_KINDS if known.startswith(f"{first}.")), best)
    return None


def _near_kind(kind: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``kind`` misspells: letter case, a plural, or one or two letters off."""
    wanted = kind.lower()
    for candidate in candidates:
        lower = candidate.lower()
        plurals = {lower + "s", lower[:-1] + "ies" if lower.endswith("y") else lower + "es"}
        slack = 2 if len(lower) >= 8 else 1
        if wanted in plurals or edit_distance(wanted, lower) <= slack:
            return candidate
    return None


def _versions_text(versions: Sequence[str]) -> str:
    also = f" (also accepted: {', '.join(versions[1:])})" if len(versions) > 1 else ""
    return f"{versions[0]}{also}"


def _our_kind(api_version: str, kind: str, versions: Sequence[str]) -> KindProblem | None:
    group = _group(api_version)
    if not api_version:
        return KindProblem("apiVersion", f"missing; {kind} objects use {_versions_text(versions)}")
    if group == _group(versions[0]):
        return KindProblem(
            "apiVersion",
            f"{api_version} is not a version of {kind}; use {_versions_text(versions)}",
        )
    # Custom resource groups always hold a dot: a dotless group is Kubernetes' own, which
    # has none of our kinds, so the object cannot be another vendor's.
    if _flux_group_near(group) is not None or "." not in group:
        same = f"{_group(versions[0])}/{_version(api_version)}"
        meant = same if same in versions else versions[0]
        return KindProblem(
            "apiVersion",
            f"{api_version} is not an API group of {kind}; did you mean {meant}?",
        )
    return None  # another vendor's kind of the same name, in its own group


def _unknown_kind(
    api_version: str, kind: str, known: Mapping[str, Sequence[str]]
) -> KindProblem | None:
    group = _group(api_version)
    flux_group = _flux_group_near(group) if group else None
    if flux_group is None:
        near = _near_kind(kind, known) if "." not in group else None
        if near is None:
            return None  # a Kubernetes object or another vendor's kind
        where = api_version or "a document without apiVersion"
        return KindProblem("kind", f"no kind {kind!r} in {where}; did you mean {near}?")
    if flux_group != group:
        return KindProblem(
            "apiVersion",
            f"no API group {group!r}; did you mean {flux_group}/{_version(api_version)}?",
        )
    kinds = FLUX_KINDS[group]
    if kind in kinds:
        return None  # a Flux kind tagpilot does not reconcile (Kustomization, HelmRelease, ...)
    near = _near_kind(kind, kinds)
    hint = f"did you mean {near}?" if near else f"its kinds are {', '.join(kinds)}"
    return KindProblem("kind", f"no kind {kind!r} in {group}; {hint}")


def check_kind(
    api_version: str, kind: str, known: Mapping[str, Sequence[str]]
) -> KindProblem | None:
    """A :class:`KindProblem` when the document's type is a typo, else None (ours or foreign).

    ``known`` maps each kind tagpilot reads to its accepted apiVersions, preferred first.
    """
    if kind in known:
        versions = known[kind]
        return None if api_version in versions else _our_kind(api_version, kind, versions)
    return _unknown_kind(api_version, kind, known)

"""Which (apiVersion, kind) pairs tagpilot understands, and the model class for each.

The loader asks :func:`model_for` about every document; kinds it does not know are skipped,
known kinds in an unsupported version are an error (they would silently do nothing).  The
table is read from the kinds' descriptors (:mod:`tagpilot.api.descriptors`).
"""

from __future__ import annotations

from typing import cast

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.descriptors import DESCRIPTORS
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.receiver import Receiver
from tagpilot.api.secret import Secret
from tagpilot.api.source import GitRepository

__all__ = ["KIND_MODELS", "AnyObject", "model_for", "supported_versions"]

AnyObject = (
    ImageRepository | ImagePolicy | ImageUpdateAutomation | GitRepository | Secret | Receiver
)
"""Any object the loader returns."""

KIND_MODELS: dict[str, tuple[type[AnyObject], tuple[str, ...]]] = {
    d.kind: (cast("type[AnyObject]", d.model), d.api_versions) for d in DESCRIPTORS
}
"""Per kind: the model and the accepted apiVersions (the first is the one written)."""


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def supported_versions(kind: str) -> tuple[str, ...]:
    """The apiVersions accepted for ``kind`` (empty for unknown kinds)."""
    return KIND_MODELS[kind][1] if kind in KIND_MODELS else ()


def model_for(api_version: str, kind: str) -> type[AnyObject] | None:
    """The model for this pair; ``None`` if tagpilot does not handle the kind at all.

    Raises ``ValueError`` when the kind is ours (same API group) but the version is not
    supported, e.g. ``image.toolkit.fluxcd.io/v1beta1``.
    """
    entry = KIND_MODELS.get(kind)
    if entry is None:
        return None
    model, versions = entry
    if api_version in versions:
        return model
    if _group(api_version) != _group(versions[0]):
        return None
    raise ValueError(
        f"apiVersion {api_version} is not supported for {kind}; use {versions[0]}"
        + (f" (also accepted: {', '.join(versions[1:])})" if len(versions) > 1 else "")
    )

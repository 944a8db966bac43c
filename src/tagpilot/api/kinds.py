"""Which (apiVersion, kind) pairs tagpilot understands, and the model class for each.

The loader asks :func:`model_for` about every document that
:func:`tagpilot.api.kindcheck.check_kind` let through; other pairs are skipped.  The table is
read from the kinds' descriptors (:mod:`tagpilot.api.descriptors`).
"""

from __future__ import annotations

from typing import cast

from tagpilot.api.automation import ImageUpdateAutomation
from tagpilot.api.descriptors import DESCRIPTORS
from tagpilot.api.image import ImagePolicy, ImageRepository
from tagpilot.api.kustomization import Kustomization
from tagpilot.api.receiver import Receiver
from tagpilot.api.secret import Secret
from tagpilot.api.source import GitRepository

__all__ = ["KIND_MODELS", "AnyObject", "model_for"]

AnyObject = (
    ImageRepository
    | ImagePolicy
    | ImageUpdateAutomation
    | GitRepository
    | Kustomization
    | Secret
    | Receiver
)
"""Any object the loader returns."""

KIND_MODELS: dict[str, tuple[type[AnyObject], tuple[str, ...]]] = {
    d.kind: (cast("type[AnyObject]", d.model), d.api_versions) for d in DESCRIPTORS
}
"""Per kind: the model and the accepted apiVersions (the first is the one written)."""


def model_for(api_version: str, kind: str) -> type[AnyObject] | None:
    """The model for this pair; ``None`` when tagpilot does not read it.

    A known kind in a version it does not read is refused earlier, by
    :func:`tagpilot.api.kindcheck.check_kind`.
    """
    entry = KIND_MODELS.get(kind)
    if entry is None or api_version not in entry[1]:
        return None
    return entry[0]

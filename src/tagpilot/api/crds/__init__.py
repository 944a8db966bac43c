"""CustomResourceDefinitions generated from the API models, compatible with Flux's.

``crd_document(IMAGE_POLICY_CRD)`` gives the ImagePolicy CRD as JSON data; :data:`CRD_KINDS`
lists every kind.  The field schema comes from the pydantic models
(:mod:`tagpilot.api.crds.schema`); names, columns, CEL rules and the few places where the
API server checks less than the models are declared per kind in
:mod:`tagpilot.api.crds.kinds`.  Pure: no I/O.
"""

from __future__ import annotations

from tagpilot.api.crds.build import CRD_API_VERSION, OWNER_LABEL, crd_document, version_schema
from tagpilot.api.crds.kinds import (
    CRD_KINDS,
    GIT_REPOSITORY_CRD,
    IMAGE_GROUP,
    IMAGE_POLICY_CRD,
    IMAGE_REPOSITORY_CRD,
    IMAGE_UPDATE_CRD,
    KUSTOMIZATION_CRD,
    KUSTOMIZE_GROUP,
    SOURCE_GROUP,
)
from tagpilot.api.crds.schema import JsonValue, Props
from tagpilot.api.crds.table import CrdKind, PrinterColumn

__all__ = [
    "CRD_API_VERSION",
    "CRD_KINDS",
    "GIT_REPOSITORY_CRD",
    "IMAGE_GROUP",
    "IMAGE_POLICY_CRD",
    "IMAGE_REPOSITORY_CRD",
    "IMAGE_UPDATE_CRD",
    "KUSTOMIZATION_CRD",
    "KUSTOMIZE_GROUP",
    "OWNER_LABEL",
    "SOURCE_GROUP",
    "CrdKind",
    "JsonValue",
    "PrinterColumn",
    "Props",
    "crd_document",
    "version_schema",
]

"""The kustomization.yaml a Kustomization builds: found or generated, then the spec's overrides.

Flux's kustomize-controller never builds a directory as it is: when ``spec.path`` holds no
kustomization file it writes one listing the directory's manifests, and in every case it
rewrites the file with the spec's ``targetNamespace``, ``namePrefix``/``nameSuffix``,
``patches``, ``images`` and ``components``.  ``commonMetadata`` is not one of them: kustomize's
``commonLabels`` would also rewrite selectors, so Flux sets it on the built objects
(:func:`apply_common_metadata`).  This module computes that document from a file
listing and the parsed existing file; the build adapter reads the tree and writes the result
into a copy of it.  Pure: no file system, the caller passes what it found.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final

from tagpilot.api.kustomization import (
    CommonMetadata,
    KustomizationSpec,
    KustomizeImage,
    KustomizePatch,
)
from tagpilot.core.errors import StalledError

__all__ = [
    "KUSTOMIZATION_FILE_NAMES",
    "KUSTOMIZE_API_VERSION",
    "PLACEHOLDER_NAMESPACE",
    "REASON_BUILD_FAILED",
    "BuildError",
    "apply_common_metadata",
    "apply_overrides",
    "generated_document",
    "generated_resources",
    "kustomization_file",
    "manifest_files",
]

KUSTOMIZATION_FILE_NAMES: Final = ("kustomization.yaml", "kustomization.yml", "Kustomization")
"""The names kustomize recognises, in the order it looks for them."""
KUSTOMIZE_API_VERSION: Final = "kustomize.config.k8s.io/v1beta1"
PLACEHOLDER_NAMESPACE: Final = "_placeholder"
"""What an empty generated file holds, so kustomize builds nothing instead of failing."""
REASON_BUILD_FAILED: Final = "BuildFailed"
_CONTENT_FIELDS = (
    "resources",
    "bases",
    "components",
    "configMapGenerator",
    "secretGenerator",
    "generators",
    "helmCharts",
)
"""Fields that give a kustomization objects to build."""


class BuildError(StalledError):
    """The manifests could not be built: names the file and what is wrong, never a value."""

    reason = REASON_BUILD_FAILED


def kustomization_file(names: Iterable[str]) -> str | None:
    """Which of a directory's file ``names`` kustomize reads (first recognised name), if any."""
    present = set(names)
    return next((name for name in KUSTOMIZATION_FILE_NAMES if name in present), None)


def manifest_files(name: str) -> bool:
    """Whether a file of this name is listed by a generated file (``.yaml``/``.yml``, exact)."""
    return posixpath.splitext(name)[1] in (".yaml", ".yml")


def generated_resources(files: Sequence[str]) -> list[str]:
    """The ``resources`` of a generated kustomization.yaml for a directory.

    ``files`` are the relative POSIX paths of every regular file under the directory.  A
    subdirectory holding a kustomization file is one resource and is not descended into;
    otherwise every ``.yaml``/``.yml`` file is a resource.  Entries are ``./``-relative and
    ordered as Go's ``filepath.Walk`` visits them (each directory's names byte-sorted).
    """
    tree: dict[str, Any] = {}
    for file in files:
        node = tree
        *dirs, leaf = file.split("/")
        for part in dirs:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):  # pragma: no cover - a name cannot be file and dir
                break
        else:
            node[leaf] = None
    resources: list[str] = []
    _walk(tree, ".", resources)
    return resources


def _walk(node: Mapping[str, Any], prefix: str, out: list[str]) -> None:
    for name in sorted(node, key=lambda n: n.encode()):
        child = node[name]
        path = f"{prefix}/{name}"
        if isinstance(child, dict):
            if kustomization_file(n for n, c in child.items() if c is None):
                out.append(path)
            else:
                _walk(child, path, out)
        elif manifest_files(name):
            out.append(path)


def generated_document(files: Sequence[str]) -> dict[str, Any]:
    """The kustomization.yaml written for a directory without one (before the overrides)."""
    resources = generated_resources(files)
    document: dict[str, Any] = {"apiVersion": KUSTOMIZE_API_VERSION, "kind": "Kustomization"}
    if resources:
        document["resources"] = resources
    else:
        document["namespace"] = PLACEHOLDER_NAMESPACE
    return document


def apply_overrides(
    document: Mapping[str, Any] | None,
    files: Sequence[str],
    spec: KustomizationSpec,
    *,
    missing_components: Collection[str] = (),
    file: str = "kustomization.yaml",
) -> dict[str, Any]:
    """The kustomization document to build: ``document`` (the existing file, parsed) or one
    generated from ``files``, with the spec's overrides applied.

    ``missing_components`` are the ``spec.components`` entries the caller did not find; they
    are dropped when ``spec.ignoreMissingComponents`` is set (else kustomize reports them).
    ``file`` names the existing file in errors.  Raises :class:`BuildError`.
    """
    if document is None:
        result = generated_document(files)
    else:
        if not isinstance(document, Mapping):
            raise BuildError(f"{file}: not a YAML mapping")
        result = dict(document)
        result.setdefault("apiVersion", KUSTOMIZE_API_VERSION)
        result.setdefault("kind", "Kustomization")
        if not any(result.get(key) for key in _CONTENT_FIELDS) and "buildMetadata" not in result:
            # kustomize refuses a file it calls empty; Flux sets this option, which only
            # annotates objects, and here there are none to annotate.
            result["buildMetadata"] = ["originAnnotations"]
    if spec.target_namespace:
        result["namespace"] = spec.target_namespace
    if spec.name_prefix:
        result["namePrefix"] = spec.name_prefix
    if spec.name_suffix:
        result["nameSuffix"] = spec.name_suffix
    if spec.patches:
        result["patches"] = [*_list(result, "patches", file), *map(_patch, spec.patches)]
    if spec.components:
        result["components"] = [
            *_list(result, "components", file),
            *_components(spec, missing_components),
        ]
    if spec.images:
        result["images"] = _merge_images(_list(result, "images", file), spec.images, file)
    return result


def _list(document: Mapping[str, Any], key: str, file: str) -> list[Any]:
    value = document.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BuildError(f"{file}: {key} must be a list")
    return list(value)


def _patch(patch: KustomizePatch) -> dict[str, Any]:
    entry: dict[str, Any] = {"patch": patch.patch}
    if patch.target is not None:
        # Flux's selector fields are kustomize's, one for one.
        entry["target"] = patch.target.model_dump(exclude_none=True)
    return entry


def _components(spec: KustomizationSpec, missing: Collection[str]) -> list[str]:
    kept = []
    for component in spec.components or ():
        if posixpath.isabs(component) or "://" in component:
            raise BuildError(
                f"spec.components: {component!r} must be a relative path inside the source"
            )
        if spec.ignore_missing_components and component in missing:
            continue
        kept.append(component)
    return kept


def _merge_images(
    existing: list[Any], images: Sequence[KustomizeImage], file: str
) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for entry in existing:
        if not isinstance(entry, Mapping):
            raise BuildError(f"{file}: every images entry must be a mapping")
        merged.append(dict(entry))
    for image in images:
        current = next((e for e in merged if e.get("name") == image.name), None)
        if current is None:
            current = {"name": image.name}
            merged.append(current)
        if image.new_name:
            current["newName"] = image.new_name
        if image.new_tag or image.digest:
            # A tag and a digest are one choice: the spec's pair replaces the file's pair.
            current.pop("newTag", None)
            current.pop("digest", None)
            if image.new_tag:
                current["newTag"] = image.new_tag
            if image.digest:
                current["digest"] = image.digest
    return merged


def apply_common_metadata(
    objects: Sequence[Mapping[str, Any]], common: CommonMetadata | None
) -> list[dict[str, Any]]:
    """The built objects with ``spec.commonMetadata`` set, its keys winning over the objects'.

    Only ``metadata.labels`` and ``metadata.annotations`` change (never selectors or pod
    templates); the objects given are not modified.
    """
    result = []
    for obj in objects:
        copy = dict(obj)
        if common is not None and (common.labels or common.annotations):
            metadata = dict(copy.get("metadata") or {})
            for key, extra in (("labels", common.labels), ("annotations", common.annotations)):
                if extra:
                    metadata[key] = {**(metadata.get(key) or {}), **extra}
            copy["metadata"] = metadata
        result.append(copy)
    return result

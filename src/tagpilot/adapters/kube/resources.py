"""The resource types tagpilot talks to, and the REST paths of their objects.

A :class:`Resource` is what a REST mapper would return for a kind: group, version, plural,
and whether objects live in a namespace.  The constants cover the kinds cluster mode reads and
writes; other kinds are made the same way (``Resource("apps", "v1", "deployments",
"Deployment")``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote

__all__ = [
    "CONFIGMAPS",
    "CUSTOM_RESOURCE_DEFINITIONS",
    "EVENTS",
    "GIT_REPOSITORIES",
    "IMAGE_POLICIES",
    "IMAGE_REPOSITORIES",
    "IMAGE_UPDATE_AUTOMATIONS",
    "KUSTOMIZATIONS",
    "LEASES",
    "NAMESPACES",
    "SECRETS",
    "Resource",
]


def _segment(value: str) -> str:
    # names are DNS labels in practice; quoting keeps a hostile name from adding path segments
    return quote(value, safe="")


@dataclass(frozen=True)
class Resource:
    """One resource type: ``group`` is ``""`` for the core API (``/api/v1``)."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """``apiVersion`` as objects write it: ``v1`` or ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def api_path(
        self,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> str:
        """The URL path of the collection, or of one object (and its subresource).

        ``namespace`` is ignored for cluster-scoped resources; ``None`` on a namespaced one
        means all namespaces (list and watch only).
        """
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        parts = [base]
        if self.namespaced and namespace is not None:
            parts.append(f"namespaces/{_segment(namespace)}")
        parts.append(self.plural)
        if name is not None:
            parts.append(_segment(name))
            if subresource is not None:
                parts.append(_segment(subresource))
        elif subresource is not None:
            raise ValueError(f"subresource {subresource!r} needs an object name")
        return "/".join(parts)

    def with_version(self, version: str) -> Resource:
        """The same resource at another served version (e.g. ``v1beta2``)."""
        return replace(self, version=version)


SECRETS = Resource("", "v1", "secrets", "Secret")
CONFIGMAPS = Resource("", "v1", "configmaps", "ConfigMap")
EVENTS = Resource("", "v1", "events", "Event")
NAMESPACES = Resource("", "v1", "namespaces", "Namespace", namespaced=False)
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
IMAGE_REPOSITORIES = Resource(
    "image.toolkit.fluxcd.io", "v1", "imagerepositories", "ImageRepository"
)
IMAGE_POLICIES = Resource("image.toolkit.fluxcd.io", "v1", "imagepolicies", "ImagePolicy")
IMAGE_UPDATE_AUTOMATIONS = Resource(
    "image.toolkit.fluxcd.io", "v1", "imageupdateautomations", "ImageUpdateAutomation"
)
GIT_REPOSITORIES = Resource("source.toolkit.fluxcd.io", "v1", "gitrepositories", "GitRepository")
KUSTOMIZATIONS = Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations", "Kustomization")
CUSTOM_RESOURCE_DEFINITIONS = Resource(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "CustomResourceDefinition",
    namespaced=False,
)

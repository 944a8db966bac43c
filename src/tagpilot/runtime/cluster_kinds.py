"""Which API versions of the watched kinds the cluster serves.

Flux's image API is ``image.toolkit.fluxcd.io/v1`` today and was ``v1beta2`` before; a
cluster may serve either.  The controller asks the API server's discovery once at start and
uses the newest version it serves, as a client of a converting CRD should.  GitRepository
is only read (its controller is Flux's source-controller, or nobody): a cluster without it
leaves automations reporting the missing source, not a controller that refuses to start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tagpilot.adapters.kube.client import KubeClient
from tagpilot.adapters.kube.resources import (
    GIT_REPOSITORIES,
    IMAGE_POLICIES,
    IMAGE_REPOSITORIES,
    IMAGE_UPDATE_AUTOMATIONS,
    KUSTOMIZATIONS,
    Resource,
)
from tagpilot.core.errors import StalledError

__all__ = ["IMAGE_GROUP", "ClusterKinds"]

IMAGE_GROUP = "image.toolkit.fluxcd.io"
_IMAGE_VERSIONS = ("v1", "v1beta2")
_SOURCE_VERSIONS = ("v1",)
_PRIMARY = (IMAGE_REPOSITORIES, IMAGE_POLICIES, IMAGE_UPDATE_AUTOMATIONS)


@dataclass(frozen=True)
class ClusterKinds:
    """The resources to watch, by kind, at the versions the cluster serves."""

    resources: dict[str, Resource]
    notes: list[str] = field(default_factory=list)

    @classmethod
    async def discover(
        cls, client: KubeClient, *, kustomizations: bool = False, images: bool = True
    ) -> ClusterKinds:
        """Ask discovery; a cluster without an API this process reconciles is an error
        naming the fix.

        Kustomizations are watched only when ``kustomizations`` (this process applies them):
        an image-only install has no right to list them.  Without ``images`` (a kustomize
        controller beside Flux, which installs no image API by default) the image kinds are
        watched only where they are served.
        """
        image = _choose(await client.served_versions(IMAGE_GROUP), _IMAGE_VERSIONS)
        if image is None and images:
            raise StalledError(
                f"the cluster serves no {IMAGE_GROUP} API version tagpilot reads "
                f"({', '.join(_IMAGE_VERSIONS)}): install the CRDs first "
                "(tagpilot install --export | kubectl apply --server-side -f -)"
            )
        resources: dict[str, Resource] = {}
        notes = [f"{IMAGE_GROUP} not served: no image kinds to watch"]
        if image is not None:
            resources = {r.kind: r.with_version(image) for r in _PRIMARY}
            notes = [f"{IMAGE_GROUP}/{image}"]
        kustomize = None
        if kustomizations:
            kustomize = _choose(await client.served_versions(KUSTOMIZATIONS.group), ("v1",))
            if kustomize is None:
                raise StalledError(
                    f"the cluster serves no {KUSTOMIZATIONS.group}/v1: install the CRDs first "
                    "(tagpilot install --export --controllers ...,kustomize | kubectl apply "
                    "--server-side -f -)"
                )
        if kustomize is not None:
            resources[KUSTOMIZATIONS.kind] = KUSTOMIZATIONS.with_version(kustomize)
            notes.append(f"{KUSTOMIZATIONS.group}/{kustomize}")
        source = _choose(await client.served_versions(GIT_REPOSITORIES.group), _SOURCE_VERSIONS)
        if source is None:
            notes.append(f"{GIT_REPOSITORIES.group} not served: automations cannot find sources")
        else:
            resources[GIT_REPOSITORIES.kind] = GIT_REPOSITORIES.with_version(source)
            notes.append(f"{GIT_REPOSITORIES.group}/{source}")
        return cls(resources, notes)


def _choose(served: list[str], wanted: tuple[str, ...]) -> str | None:
    return next((version for version in wanted if version in served), None)

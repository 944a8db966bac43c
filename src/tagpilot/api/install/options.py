"""What ``tagpilot install --export`` is asked for, and the constants the objects share.

The values here are contracts other files repeat: the container's user id is also the
Dockerfile's, the HTTP port is the one ``tagpilot controller --http-address`` listens on,
and the shard label is Flux's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tagpilot import __version__

__all__ = [
    "APP_NAME",
    "CONTROLLER_NAMES",
    "DEFAULT_NAMESPACE",
    "HTTP_PORT",
    "RUN_AS_USER",
    "SHARD_LABEL",
    "STATE_DIR",
    "CrdsMode",
    "InstallOptions",
]

APP_NAME = "tagpilot"
"""Name of the ServiceAccount, the main Deployment and the RBAC objects."""
DEFAULT_NAMESPACE = "tagpilot-system"
HTTP_PORT = 9797
"""One port for /healthz, /readyz, /metrics and webhook receivers."""
RUN_AS_USER = 65532
"""The fixed non-root user (and group) id; the Dockerfile creates the same user."""
STATE_DIR = "/var/lib/tagpilot"
"""The state store's directory in the pod (an emptyDir: a cache, the API is the truth)."""
SHARD_LABEL = "sharding.fluxcd.io/key"
"""Flux's sharding label: an object with it is reconciled by the shard it names."""

CONTROLLER_NAMES = ("image", "source", "kustomize")
"""What ``--controllers`` may name, in Flux's controller split (``tagpilot controller`` too)."""

CrdsMode = Literal["create", "skip"]

_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class InstallOptions:
    """The choices of one export; :meth:`check` says what is wrong with them."""

    namespace: str = DEFAULT_NAMESPACE
    crds: CrdsMode = "create"
    source_crds: bool = False
    """Also emit the GitRepository CRD (for clusters without Flux's source-controller)."""
    shards: tuple[str, ...] = ()
    controllers: tuple[str, ...] = ("image",)
    """What the controller runs; ``kustomize`` adds the Kustomization CRD and the deploy RBAC."""
    image: str | None = None
    """The controller image; None: ``tagpilot:<version>``."""
    version: str = __version__

    @property
    def image_ref(self) -> str:
        """The image the Deployments run."""
        return self.image or f"{APP_NAME}:{self.version}"

    def check(self) -> list[str]:
        """Problems with these options, one sentence each; empty when they are usable."""
        problems: list[str] = []
        if not _DNS_LABEL.match(self.namespace):
            problems.append(
                f"namespace {self.namespace!r} is not a DNS label "
                "(lower-case letters, digits and '-', at most 63)"
            )
        longest = 62 - len(APP_NAME)
        for shard in self.shards:
            # The shard names a Deployment (tagpilot-<shard>) and is a label value.
            if not _DNS_LABEL.match(shard) or len(shard) > longest:
                problems.append(
                    f"shard {shard!r} must be a DNS label of at most {longest} characters"
                )
        if len(set(self.shards)) != len(self.shards):
            problems.append("shards must be distinct")
        unknown = [name for name in self.controllers if name not in CONTROLLER_NAMES]
        if unknown or not self.controllers:
            what = (
                f"unknown controller {', '.join(map(repr, unknown))}"
                if unknown
                else ("no controller given")
            )
            problems.append(f"{what}; choose from {', '.join(CONTROLLER_NAMES)}")
        if len(set(self.controllers)) != len(self.controllers):
            problems.append("controllers must be distinct")
        if not _LABEL_VALUE.match(self.version):
            problems.append(f"version {self.version!r} is not a valid label value")
        if self.image is not None and (not self.image or any(c.isspace() for c in self.image)):
            problems.append(f"image {self.image!r} is not an image reference")
        return problems

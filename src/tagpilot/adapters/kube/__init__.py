"""The Kubernetes adapter of cluster mode: a small async API client of our own over httpx.

The controller runtime uses what this package exports: :func:`load_kubeconfig` and
:class:`KubeClient` to talk to the apiserver, :class:`Informer` for list+watch caches, and
:class:`LeaseElector` for leader election.  No Kubernetes client library is used: we need
precise control of watches, server-side apply and the Lease compare-and-swap, over the same
HTTP stack as the registry client.
"""

from __future__ import annotations

from tagpilot.adapters.kube.client import KubeClient, ObjectList, WatchEvent
from tagpilot.adapters.kube.config import SERVICE_ACCOUNT_DIR, KubeConfig, load_kubeconfig
from tagpilot.adapters.kube.errors import (
    AlreadyExistsError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidError,
    KubeApiError,
    KubeRequestRefused,
    NotFoundError,
    UnauthorizedError,
)
from tagpilot.adapters.kube.informer import CacheKey, EventHandler, Informer
from tagpilot.adapters.kube.lease import LeaseElector, LeaseTiming, lease_name, micro_time
from tagpilot.adapters.kube.resources import (
    CONFIGMAPS,
    CUSTOM_RESOURCE_DEFINITIONS,
    EVENTS,
    GIT_REPOSITORIES,
    IMAGE_POLICIES,
    IMAGE_REPOSITORIES,
    IMAGE_UPDATE_AUTOMATIONS,
    LEASES,
    NAMESPACES,
    SECRETS,
    Resource,
)

__all__ = [
    "CONFIGMAPS",
    "CUSTOM_RESOURCE_DEFINITIONS",
    "EVENTS",
    "GIT_REPOSITORIES",
    "IMAGE_POLICIES",
    "IMAGE_REPOSITORIES",
    "IMAGE_UPDATE_AUTOMATIONS",
    "LEASES",
    "NAMESPACES",
    "SECRETS",
    "SERVICE_ACCOUNT_DIR",
    "AlreadyExistsError",
    "CacheKey",
    "ConflictError",
    "EventHandler",
    "ForbiddenError",
    "GoneError",
    "Informer",
    "InvalidError",
    "KubeApiError",
    "KubeClient",
    "KubeConfig",
    "KubeRequestRefused",
    "LeaseElector",
    "LeaseTiming",
    "NotFoundError",
    "ObjectList",
    "Resource",
    "UnauthorizedError",
    "WatchEvent",
    "lease_name",
    "load_kubeconfig",
    "micro_time",
]
